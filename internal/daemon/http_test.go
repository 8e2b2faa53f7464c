package daemon

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/testkit"
)

// httpTestConfig is the default config with only HTTP and HTTPS, on free ports.
func httpTestConfig(t *testing.T) *Config {
	cfg := DefaultConfig()
	cfg.Data = t.TempDir()
	cfg.Admin.Enabled = false
	cfg.Accounts.FirstUser = ""
	for _, l := range cfg.listeners() {
		l.Enabled = false
	}
	h := httpSection.of(cfg)
	h.Enabled, h.Addr = true, "127.0.0.1:0"
	h.HTTPS.Enabled, h.HTTPS.Addr = true, "127.0.0.1:0"
	return cfg
}

func startHTTPDaemon(t *testing.T, cfg *Config) map[string]string {
	t.Helper()
	db, err := accounts.OpenWith(filepath.Join(cfg.Data, accounts.FileName), accounts.Options{Cost: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Add("alice", "pw-alice-123"); err != nil {
		t.Fatal(err)
	}
	d := New(cfg, slog.New(slog.DiscardHandler), io.Discard)
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d.Shutdown(ctx)
	})
	addrs := map[string]string{}
	for _, b := range d.Bound() {
		addrs[b.Name] = b.Addr
	}
	if addrs["http"] == "" || addrs["https"] == "" {
		t.Fatalf("Bound() = %v, want http and https", d.Bound())
	}
	return addrs
}

func httpDo(t *testing.T, c *http.Client, method, url, body string, auth bool) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth {
		req.SetBasicAuth("alice", "pw-alice-123")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func TestHTTPServiceOverFileStore(t *testing.T) {
	cfg := httpTestConfig(t)
	cfg.Files.Quota = 1000
	httpSection.of(cfg).AccessLog = "access.log"
	anon := filepath.Join(cfg.Data, "files", "anonymous")
	os.MkdirAll(anon, 0o750)
	os.WriteFile(filepath.Join(anon, "pub.txt"), []byte("public"), 0o640)
	addrs := startHTTPDaemon(t, cfg)
	plain := http.DefaultClient
	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}}

	if resp, body := httpDo(t, plain, "GET", "http://"+addrs["http"]+"/pub.txt", "", false); resp.StatusCode != 200 || body != "public" {
		t.Fatalf("GET /pub.txt = %d %q", resp.StatusCode, body)
	}
	if resp, _ := httpDo(t, plain, "PUT", "http://"+addrs["http"]+"/pub.txt", "x", true); resp.StatusCode != 403 {
		t.Errorf("PUT into the read-only anonymous area = %d, want 403", resp.StatusCode)
	}
	if resp, _ := httpDo(t, plain, "PUT", "http://"+addrs["http"]+"/~alice/a.txt", "from http", true); resp.StatusCode != 201 {
		t.Fatalf("PUT /~alice/a.txt = %d, want 201", resp.StatusCode)
	}
	if b, err := os.ReadFile(filepath.Join(cfg.Data, "files", "home", "alice", "a.txt")); string(b) != "from http" {
		t.Fatalf("in the store: %q, %v", b, err)
	}
	resp, body := httpDo(t, h2, "GET", "https://"+addrs["https"]+"/~alice/a.txt", "", true)
	if resp.StatusCode != 200 || body != "from http" || resp.ProtoMajor != 2 {
		t.Fatalf("GET over https = %s %d %q, want HTTP/2 200", resp.Proto, resp.StatusCode, body)
	}
	if resp, _ := httpDo(t, h2, "PUT", "https://"+addrs["https"]+"/dav/big", strings.Repeat("b", 2000), true); resp.StatusCode != 507 {
		t.Errorf("WebDAV PUT over the [files] quota = %d, want 507", resp.StatusCode)
	}
	if resp, _ := httpDo(t, plain, "PUT", "http://"+addrs["http"]+"/~alice/big", strings.Repeat("b", 2000), true); resp.StatusCode != 507 {
		t.Errorf("PUT over the [files] quota = %d, want 507", resp.StatusCode)
	}
	if resp, _ := httpDo(t, plain, "GET", "http://"+addrs["http"]+"/~alice/", "", false); resp.StatusCode != 401 {
		t.Errorf("GET /~alice/ without credentials = %d, want 401", resp.StatusCode)
	}
	// The file access log is written in batches, at most a second late.
	var log []byte
	if !testkit.Within(10*time.Second, func() bool {
		log, _ = os.ReadFile(filepath.Join(cfg.Data, "access.log"))
		return strings.Contains(string(log), `"PUT /~alice/a.txt HTTP/1.1" 201`) && strings.Contains(string(log), "alice [")
	}) {
		t.Errorf("access log lacks the PUT by alice:\n%s", log)
	}
}

func TestHTTPMountsAndConfig(t *testing.T) {
	httpMounts["/test-mount"] = func(*Daemon) (http.Handler, error) {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "mounted") }), nil
	}
	defer delete(httpMounts, "/test-mount")
	addrs := startHTTPDaemon(t, httpTestConfig(t))
	if _, body := httpDo(t, http.DefaultClient, "GET", "http://"+addrs["http"]+"/test-mount", "", false); body != "mounted" {
		t.Errorf("GET /test-mount = %q, want the mounted handler's answer", body)
	}

	cfg := httpTestConfig(t)
	httpSection.of(cfg).ReadHeaderTimeout.Duration = 0
	if err := cfg.validate(); err == nil || !strings.Contains(err.Error(), "http.read_header_timeout") {
		t.Errorf("validate with read_header_timeout 0 = %v, want an error naming it", err)
	}
}

func TestHTTPSlowHeaderClosed(t *testing.T) {
	cfg := httpTestConfig(t)
	httpSection.of(cfg).ReadHeaderTimeout.Duration = 200 * time.Millisecond
	addrs := startHTTPDaemon(t, cfg)
	c, err := net.Dial("tcp", addrs["http"])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	if _, err := io.ReadAll(c); err != nil {
		t.Fatalf("a header trickled in was not cut off: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cut off after %v, want about read_header_timeout", d)
	}
}

// TestHTTPDefaultRateLimit: plumb serve ships with a per-IP request
// limit, and one that a browser's burst of requests stays within.
func TestHTTPDefaultRateLimit(t *testing.T) {
	c := httpSection.of(DefaultConfig())
	if c.RequestRate <= 0 || c.RequestRate < 50 || c.RequestBurst < 200 {
		t.Errorf("default requests_per_second %v, request_burst %d: want a limit, and one generous enough for a browser", c.RequestRate, c.RequestBurst)
	}
}
