package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// digestServer serves one file with ranges and the Repr-Digest given.
func digestServer(t *testing.T, data []byte, digest string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("X-Test"); got != "yes" {
			http.Error(w, "no --header", http.StatusBadRequest)
			return
		}
		if digest != "" {
			w.Header().Set("Repr-Digest", digest)
		}
		w.Header().Set("ETag", `"v1"`)
		http.ServeContent(w, r, "f.bin", time.Unix(1e9, 0), bytes.NewReader(data))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPParallelChecksDigest(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 200_000) // 3.2 MB
	sum := sha256.Sum256(data)
	good := "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
	bad := "sha-256=:" + base64.StdEncoding.EncodeToString(make([]byte, 32)) + ":"
	dir := t.TempDir()
	for _, tc := range []struct {
		digest string
		code   int
	}{{good, 0}, {"", 0}, {bad, exitTransferIncomplete}} {
		srv := digestServer(t, data, tc.digest)
		out := filepath.Join(dir, "f.bin")
		_, errs, err := runSocketCmd(t, nil, "get", "-s", "--parallel", "4", "-H", "X-Test: yes", "-o", out, srv.URL+"/f.bin")
		if code := socketExitCode(err); code != tc.code {
			t.Fatalf("parallel get with Repr-Digest %q: exit %d (%v, %s), want %d", tc.digest, code, err, errs, tc.code)
		}
		if tc.code == 0 {
			if got, _ := os.ReadFile(out); !bytes.Equal(got, data) {
				t.Fatalf("parallel get: %d bytes differ from the %d served", len(got), len(data))
			}
		}
	}
}

func TestContentRange(t *testing.T) {
	for in, want := range map[string][2]int64{"bytes 0-0/10": {0, 10}, "bytes 5-9/*": {5, -1}} {
		if s, tot, ok := contentRange(in); !ok || s != want[0] || tot != want[1] {
			t.Errorf("contentRange(%q) = %d, %d, %v; want %v", in, s, tot, ok, want)
		}
	}
	for _, bad := range []string{"", "bytes x-1/2", "items 0-1/2", "bytes 0-1"} {
		if _, _, ok := contentRange(bad); ok {
			t.Errorf("contentRange(%q) accepted", bad)
		}
	}
}

func TestHTTPRefusesPlaintextPasswordOffLoopback(t *testing.T) {
	_, errs, err := runSocketCmd(t, nil, "get", "-o", filepath.Join(t.TempDir(), "x"), "http://alice:pw@192.0.2.1/x")
	if socketExitCode(err) != exitTransferUsage || !strings.Contains(err.Error()+errs, "https://") {
		t.Errorf("get with a password over http to afar: %v %s; want a usage error pointing at https://", err, errs)
	}
}
