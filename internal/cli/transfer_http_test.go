package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
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

// TestHTTPRedirectKeepsCredentialsHome: a redirect to another host (here
// another loopback port) gets neither the password nor the --header
// values, in the hop or in the ranges and listings sent after it.
func TestHTTPRedirectKeepsCredentialsHome(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 200_000)
	var leaked atomic.Int32
	var seen atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		if r.Header.Get("Authorization") != "" || r.Header.Get("X-Secret") != "" {
			leaked.Add(1)
		}
		if r.URL.Path == "/d/" {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte(`<a href="f.bin">f.bin</a>`))
			return
		}
		http.ServeContent(w, r, "f.bin", time.Unix(1e9, 0), bytes.NewReader(data))
	}))
	t.Cleanup(other.Close)
	home := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Secret") != "s3" || r.Header.Get("Authorization") == "" {
			http.Error(w, "want the credentials at home", http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	}))
	t.Cleanup(home.Close)
	dir := t.TempDir()
	base := strings.Replace(home.URL, "http://", "http://alice:pw@", 1)
	for _, args := range [][]string{
		{"get", "-s", "-H", "X-Secret: s3", "-o", filepath.Join(dir, "a"), base + "/f.bin"},
		{"get", "-s", "--parallel", "4", "-H", "X-Secret: s3", "-o", filepath.Join(dir, "b"), base + "/f.bin"},
		{"get", "-s", "-r", "-H", "X-Secret: s3", "-o", filepath.Join(dir, "c"), base + "/d/"},
	} {
		seen.Store(0)
		if _, errs, err := runSocketCmd(t, nil, args...); err != nil {
			t.Fatalf("%v: %v %s", args, err, errs)
		}
		if seen.Load() == 0 {
			t.Fatalf("%v: the redirect target saw no request", args)
		}
		if n := leaked.Load(); n != 0 {
			t.Fatalf("%v: %d requests to the other host carried the password or --header", args, n)
		}
	}
}

// TestHTTPPutContinueComparesDigest: put -C skips the upload only when
// the server's copy has the same size and the same sha-256.
func TestHTTPPutContinueComparesDigest(t *testing.T) {
	var mu sync.Mutex // stored, between the handler and the test
	var stored []byte
	var puts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch r.Method {
		case http.MethodPut:
			puts.Add(1)
			b, _ := io.ReadAll(r.Body)
			stored = b
			w.WriteHeader(http.StatusCreated)
		case http.MethodHead, http.MethodGet:
			sum := sha256.Sum256(stored)
			w.Header().Set("Repr-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":")
			http.ServeContent(w, r, "f", time.Unix(1e9, 0), bytes.NewReader(stored))
		}
	}))
	t.Cleanup(srv.Close)
	local := filepath.Join(t.TempDir(), "f")
	for _, tc := range []struct {
		server, local string
		put           bool
	}{{"aaaa", "bbbb", true}, {"bbbb", "bbbb", false}} {
		mu.Lock()
		stored = []byte(tc.server)
		mu.Unlock()
		puts.Store(0)
		if err := os.WriteFile(local, []byte(tc.local), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, errs, err := runSocketCmd(t, nil, "put", "-s", "-C", local, srv.URL+"/f"); err != nil {
			t.Fatalf("put -C: %v %s", err, errs)
		}
		mu.Lock()
		now := string(stored)
		mu.Unlock()
		if got := puts.Load() == 1; got != tc.put || now != tc.local {
			t.Errorf("server had %q, local %q: uploaded %v, want %v; server now has %q", tc.server, tc.local, got, tc.put, now)
		}
	}
}
