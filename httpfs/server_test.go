package httpfs

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// testBackend serves dir/anon at / and dir/home/<user> for the users
// it knows; quota bounds each upload's bytes (0: none). Each tree's
// os.Root is opened once and closed when the test ends.
type testBackend struct {
	dir   string
	users map[string]string
	quota int64
	gate  *testkit.Gate

	mu    sync.Mutex
	roots map[string]*os.Root
}

// newTestBackend is a testBackend whose roots t closes at its end.
func newTestBackend(t testing.TB, dir string, users map[string]string) *testBackend {
	b := &testBackend{dir: dir, users: users, roots: map[string]*os.Root{}}
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for k, r := range b.roots {
			if err := r.Close(); err != nil {
				t.Errorf("closing the root of %s: %v", k, err)
			}
			delete(b.roots, k)
		}
	})
	return b
}

func (b *testBackend) tree(sub string, ro bool) (FS, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.roots[sub]
	if !ok {
		p := filepath.Join(b.dir, sub)
		if err := os.MkdirAll(p, 0o750); err != nil {
			return nil, err
		}
		var err error
		if r, err = os.OpenRoot(p); err != nil {
			return nil, err
		}
		b.roots[sub] = r
	}
	return &quotaFS{DirFS: &DirFS{Root: r, Read: ro}, quota: b.quota}, nil
}

func (b *testBackend) Anonymous(ctx context.Context) (FS, error) {
	if b.gate != nil {
		if err := b.gate.Wait(ctx); err != nil {
			return nil, err
		}
	}
	return b.tree("anon", false)
}

func (b *testBackend) Login(ctx context.Context, user, pass string, _ net.Addr) (FS, error) {
	if p, ok := b.users[user]; !ok || p != pass {
		return nil, ErrAuthFailed
	}
	return b.tree(filepath.Join("home", user), false)
}

type quotaFS struct {
	*DirFS
	quota int64
}

func (q *quotaFS) Create(ctx context.Context, name string) (Upload, error) {
	u, err := q.DirFS.Create(ctx, name)
	if err != nil || q.quota == 0 {
		return u, err
	}
	return &quotaUpload{Upload: u, left: q.quota}, nil
}

type quotaUpload struct {
	Upload
	left int64
}

func (u *quotaUpload) Write(p []byte) (int, error) {
	if int64(len(p)) > u.left {
		return 0, ErrQuota
	}
	u.left -= int64(len(p))
	return u.Upload.Write(p)
}

type fixture struct {
	dir  string
	srv  *Server
	addr string
	base string
	c    *http.Client
}

func newFixture(t *testing.T, setup func(*Server, *testBackend)) *fixture {
	t.Helper()
	dir := t.TempDir()
	be := newTestBackend(t, dir, map[string]string{"alice": "alice-pw", "bob": "bob-pw"})
	srv := &Server{Backend: be}
	if setup != nil {
		setup(srv, be)
	}
	for _, d := range []string{"anon/sub", "home/alice", "home/bob"} {
		os.MkdirAll(filepath.Join(dir, d), 0o750)
	}
	addr := testkit.Serve(t, srv, nil)
	return &fixture{dir: dir, srv: srv, addr: addr, base: "http://" + addr, c: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (f *fixture) write(t *testing.T, rel, content string) {
	t.Helper()
	p := filepath.Join(f.dir, rel)
	os.MkdirAll(filepath.Dir(p), 0o750)
	if err := os.WriteFile(p, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) do(t *testing.T, method, path string, body io.Reader, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "auth" {
			u, p, _ := strings.Cut(hdr[i+1], ":")
			req.SetBasicAuth(u, p)
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := f.c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func TestGetRangesAndConditionals(t *testing.T) {
	f := newFixture(t, nil)
	f.write(t, "anon/hello.txt", "hello, world\n")
	resp, body := f.do(t, "GET", "/hello.txt", nil)
	if resp.StatusCode != 200 || body != "hello, world\n" {
		t.Fatalf("GET /hello.txt = %d %q", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	etag := resp.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, "W/") {
		t.Fatalf("ETag = %q, want a strong tag", etag)
	}
	for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy", "Referrer-Policy"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	if resp, body := f.do(t, "HEAD", "/hello.txt", nil); resp.StatusCode != 200 || body != "" || resp.ContentLength != 13 {
		t.Errorf("HEAD = %d %q length %d", resp.StatusCode, body, resp.ContentLength)
	}
	if resp, body := f.do(t, "GET", "/hello.txt", nil, "Range", "bytes=7-11"); resp.StatusCode != 206 || body != "world" {
		t.Errorf("Range 7-11 = %d %q", resp.StatusCode, body)
	}
	resp, body = f.do(t, "GET", "/hello.txt", nil, "Range", "bytes=0-4,7-11")
	if resp.StatusCode != 206 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/byteranges") ||
		!strings.Contains(body, "hello") || !strings.Contains(body, "world") {
		t.Errorf("two ranges = %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if resp, _ := f.do(t, "GET", "/hello.txt", nil, "If-None-Match", etag); resp.StatusCode != 304 {
		t.Errorf("If-None-Match current tag = %d, want 304", resp.StatusCode)
	}
	lm := resp.Header.Get("Last-Modified")
	if resp, _ := f.do(t, "GET", "/hello.txt", nil, "If-Modified-Since", lm); resp.StatusCode != 304 {
		t.Errorf("If-Modified-Since = %d, want 304", resp.StatusCode)
	}
	if resp, body := f.do(t, "GET", "/hello.txt", nil, "Range", "bytes=0-4", "If-Range", `"stale"`); resp.StatusCode != 200 || len(body) != 13 {
		t.Errorf("If-Range stale = %d %q, want the whole file", resp.StatusCode, body)
	}
	if resp, _ := f.do(t, "GET", "/hello.txt", nil, "If-Match", `"stale"`); resp.StatusCode != 412 {
		t.Errorf("If-Match stale = %d, want 412", resp.StatusCode)
	}
	resp, _ = f.do(t, "GET", "/hello.txt", nil, "Range", "bytes=0-0", "Want-Repr-Digest", "sha-256=5")
	if got := resp.Header.Get("Repr-Digest"); got != "sha-256=:hT/5N2Kgbdv3IsTr6d3WbY9j3a6pf1IcPswg2nyXYCA=:" {
		t.Errorf("Repr-Digest = %q, want the sha-256 of the whole file", got)
	}
	if resp, _ := f.do(t, "GET", "/missing", nil); resp.StatusCode != 404 {
		t.Errorf("GET /missing = %d, want 404", resp.StatusCode)
	}
}

func TestListings(t *testing.T) {
	f := newFixture(t, nil)
	f.write(t, "anon/sub/<b>&x.txt", "xx")
	f.write(t, "anon/sub/big.bin", strings.Repeat("z", 5000))
	os.Mkdir(filepath.Join(f.dir, "anon/sub/inner"), 0o750)
	if resp, _ := f.do(t, "GET", "/sub", nil); resp.StatusCode != 301 || resp.Header.Get("Location") != "/sub/" {
		t.Fatalf("GET /sub = %d to %q, want 301 to /sub/", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := f.do(t, "GET", "/sub/", nil)
	if resp.StatusCode != 200 || strings.Contains(body, "<b>&x") || !strings.Contains(body, "&lt;b&gt;&amp;x.txt") {
		t.Fatalf("HTML listing = %d, names not escaped:\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `name="viewport"`) || !strings.Contains(body, "4.9 KiB") {
		t.Errorf("HTML listing lacks the viewport or a human size:\n%s", body)
	}
	base, _ := url.Parse(f.base + "/sub/")
	l, err := ParseListing(base, resp.Header.Get("Content-Type"), []byte(body))
	if err != nil || len(l.Entries) != 3 || l.Entries[0].Name != "inner" || !l.Entries[0].Dir || l.Entries[1].Name != "<b>&x.txt" {
		t.Fatalf("ParseListing(our HTML) = %+v, %v", l, err)
	}
	resp, body = f.do(t, "GET", "/sub/", nil, "Accept", "application/json")
	var jl Listing
	if err := json.Unmarshal([]byte(body), &jl); err != nil || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("JSON listing %q: %v", body, err)
	}
	if len(jl.Entries) != 3 || jl.Entries[2].Name != "big.bin" || jl.Entries[2].Size != 5000 || jl.Entries[1].Href != "%3Cb%3E&x.txt" {
		t.Errorf("JSON listing = %+v", jl.Entries)
	}
	_, body = f.do(t, "GET", "/sub/?sort=size&order=desc", nil, "Accept", "application/json")
	json.Unmarshal([]byte(body), &jl)
	if jl.Entries[1].Name != "big.bin" {
		t.Errorf("sorted by size, descending = %+v", jl.Entries)
	}
}

// rawGet sends a request line as written, bypassing Go's URL cleaning.
func rawGet(t *testing.T, addr, target string) int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", target)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestPathTraversalRefused(t *testing.T) {
	f := newFixture(t, nil)
	f.write(t, "secret.txt", "secret")
	f.write(t, "anon/sub/ok.txt", "ok")
	if err := os.Symlink(filepath.Join(f.dir, "secret.txt"), filepath.Join(f.dir, "anon/out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../secret.txt", filepath.Join(f.dir, "anon/rel-out")); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"//sub", "/sub//ok.txt", "//", "/../secret.txt", "/sub/../../secret.txt", "/%2e%2e/secret.txt", "/sub/%2E%2E/%2e%2e/secret.txt",
		"/..%2fsecret.txt", "/sub%2f..%2f..%2fsecret.txt", "/..\\secret.txt", "/sub%5c..%5c..%5csecret.txt", "/./sub/ok.txt", "/sub/%00"} {
		if code := rawGet(t, f.addr, target); code != 400 {
			t.Errorf("GET %s = %d, want 400", target, code)
		}
	}
	for _, target := range []string{"/out", "/rel-out"} {
		if code := rawGet(t, f.addr, target); code == 200 {
			t.Errorf("GET %s (a symbolic link out of the tree) = 200", target)
		}
	}
	if code := rawGet(t, f.addr, "/sub/ok.txt"); code != 200 {
		t.Errorf("GET /sub/ok.txt = %d, want 200", code)
	}
}

func TestPutDeleteAndAuth(t *testing.T) {
	f := newFixture(t, func(s *Server, _ *testBackend) { s.MaxBodyBytes = 1000 })
	if resp, _ := f.do(t, "PUT", "/~alice/a.txt", strings.NewReader("A")); resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("PUT without credentials = %d, want 401 with a challenge", resp.StatusCode)
	}
	if resp, _ := f.do(t, "PUT", "/~alice/a.txt", strings.NewReader("A"), "auth", "alice:wrong"); resp.StatusCode != 401 {
		t.Fatalf("PUT with a wrong password = %d, want 401", resp.StatusCode)
	}
	if resp, _ := f.do(t, "PUT", "/~alice/a.txt", strings.NewReader("A"), "auth", "bob:bob-pw"); resp.StatusCode != 403 {
		t.Fatalf("PUT as bob into alice's tree = %d, want 403", resp.StatusCode)
	}
	if resp, _ := f.do(t, "GET", "/~alice/", nil); resp.StatusCode != 401 {
		t.Fatalf("GET /~alice/ anonymously = %d, want 401", resp.StatusCode)
	}
	resp, _ := f.do(t, "PUT", "/~alice/a.txt", strings.NewReader("first"), "auth", "alice:alice-pw")
	if resp.StatusCode != 201 || resp.Header.Get("ETag") == "" {
		t.Fatalf("PUT new = %d (ETag %q), want 201 with an ETag", resp.StatusCode, resp.Header.Get("ETag"))
	}
	if resp, _ := f.do(t, "PUT", "/~alice/a.txt", strings.NewReader("second"), "auth", "alice:alice-pw", "X-OC-Mtime", "1000000000"); resp.StatusCode != 204 {
		t.Fatalf("PUT over = %d, want 204", resp.StatusCode)
	}
	p := filepath.Join(f.dir, "home/alice/a.txt")
	if b, _ := os.ReadFile(p); string(b) != "second" {
		t.Errorf("stored %q, want second", b)
	}
	if fi, _ := os.Stat(p); fi.ModTime().Unix() != 1000000000 {
		t.Errorf("mtime = %v, want X-OC-Mtime's", fi.ModTime())
	}
	if resp, body := f.do(t, "GET", "/~alice/a.txt", nil, "auth", "alice:alice-pw"); resp.StatusCode != 200 || body != "second" {
		t.Errorf("GET own file = %d %q", resp.StatusCode, body)
	}
	if resp, _ := f.do(t, "PUT", "/~alice/nodir/a.txt", strings.NewReader("x"), "auth", "alice:alice-pw"); resp.StatusCode != 409 {
		t.Errorf("PUT into a missing directory = %d, want 409", resp.StatusCode)
	}
	if resp, _ := f.do(t, "PUT", "/~alice/big", strings.NewReader(strings.Repeat("b", 2000)), "auth", "alice:alice-pw"); resp.StatusCode != 413 {
		t.Errorf("PUT over MaxBodyBytes = %d, want 413", resp.StatusCode)
	}
	if resp, _ := f.do(t, "PUT", "/new.txt", strings.NewReader("anon"), "auth", "alice:alice-pw"); resp.StatusCode != 201 {
		t.Errorf("PUT to the (writable) anonymous area = %d, want 201", resp.StatusCode)
	}
	if resp, _ := f.do(t, "DELETE", "/new.txt", nil); resp.StatusCode != 401 {
		t.Errorf("DELETE anonymously = %d, want 401", resp.StatusCode)
	}
	if resp, _ := f.do(t, "DELETE", "/~alice/a.txt", nil, "auth", "alice:alice-pw"); resp.StatusCode != 204 {
		t.Errorf("DELETE = %d, want 204", resp.StatusCode)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after DELETE: %v", err)
	}
	if names, _ := filepath.Glob(filepath.Join(f.dir, "home/alice/.*")); len(names) != 0 {
		t.Errorf("temporary files left: %v", names)
	}
}

func TestQuotaIs507(t *testing.T) {
	f := newFixture(t, func(_ *Server, b *testBackend) { b.quota = 10 })
	if resp, _ := f.do(t, "PUT", "/~alice/q", strings.NewReader(strings.Repeat("q", 100)), "auth", "alice:alice-pw"); resp.StatusCode != 507 {
		t.Fatalf("PUT over quota = %d, want 507", resp.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "home/alice/q")); err == nil {
		t.Errorf("a refused upload shows under its name")
	}
}

func TestCredentialsNeedTLSOffLoopback(t *testing.T) {
	dir := t.TempDir()
	srv := &Server{Backend: newTestBackend(t, dir, map[string]string{"alice": "alice-pw"})}
	addr := testkit.Serve(t, srv, testkit.Listener{Listener: testkit.Listen(t), Wrap: testkit.FromAfar})
	req, _ := http.NewRequest("PUT", "http://"+addr+"/~alice/x", strings.NewReader("x"))
	req.SetBasicAuth("alice", "alice-pw")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("PUT with a password in plain text from afar = %d, want 403", resp.StatusCode)
	}
}

func TestHTTP2OverTLS(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "anon"), 0o750)
	os.WriteFile(filepath.Join(dir, "anon/f"), []byte("over h2"), 0o640)
	srv := &Server{Backend: newTestBackend(t, dir, nil)}
	scfg, ccfg := testkit.TLS(t)
	scfg = scfg.Clone()
	scfg.NextProtos = NextProtos
	addr := testkit.Serve(t, srv, tls.NewListener(testkit.Listen(t), scfg))
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: ccfg, ForceAttemptHTTP2: true}}
	resp, err := c.Get("https://" + addr + "/f")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 || string(b) != "over h2" || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Fatalf("GET over TLS = %s %q (HSTS %q), want HTTP/2", resp.Proto, b, resp.Header.Get("Strict-Transport-Security"))
	}
}

func TestGzipTextOnly(t *testing.T) {
	f := newFixture(t, nil)
	text := strings.Repeat("compress me please ", 100)
	f.write(t, "anon/t.txt", text)
	f.write(t, "anon/b.bin", text)
	tr := &http.Transport{DisableCompression: true}
	c := &http.Client{Transport: tr}
	get := func(path string, hdr ...string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", f.base+path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, b
	}
	resp, b := get("/t.txt")
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("text with Accept-Encoding gzip: Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if plain, _ := io.ReadAll(zr); string(plain) != text {
		t.Errorf("gunzipped body differs")
	}
	tag := resp.Header.Get("ETag")
	if !strings.HasSuffix(tag, `-gz"`) {
		t.Errorf("ETag of the gzip variant = %q", tag)
	}
	if resp, _ := get("/t.txt", "If-None-Match", tag); resp.StatusCode != 304 {
		t.Errorf("If-None-Match gzip tag = %d, want 304", resp.StatusCode)
	}
	if resp, _ := get("/b.bin"); resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("binary compressed")
	}
	if resp, b := get("/t.txt", "Range", "bytes=0-7"); resp.StatusCode != 206 || string(b) != "compress" {
		t.Errorf("range with gzip accepted = %d %q, want identity bytes", resp.StatusCode, b)
	}
}

func TestAccessLogAndRate(t *testing.T) {
	var log bytes.Buffer
	f := newFixture(t, func(s *Server, _ *testBackend) {
		s.AccessLog = &log
		s.RequestRate, s.RequestBurst = 0.001, 3
	})
	f.write(t, "anon/x", "12345")
	codes := []int{}
	for range 4 {
		resp, _ := f.do(t, "GET", "/x", nil, "User-Agent", `evil"agent`, "Referer", "http://r/")
		codes = append(codes, resp.StatusCode)
	}
	if fmt.Sprint(codes) != "[200 200 200 429]" {
		t.Errorf("statuses over a rate of 3 = %v", codes)
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("access log has %d lines:\n%s", len(lines), log.String())
	}
	want := `"GET /x HTTP/1.1" 200 5 "http://r/" "evil\"agent"`
	if !strings.HasPrefix(lines[0], "127.0.0.1 - - [") || !strings.HasSuffix(lines[0], want) {
		t.Errorf("access log line %q, want 127.0.0.1 - - [...] %s", lines[0], want)
	}
	if _, err := time.Parse("02/Jan/2006:15:04:05 -0700", lines[0][strings.Index(lines[0], "[")+1:strings.Index(lines[0], "]")]); err != nil {
		t.Errorf("time in the access log: %v", err)
	}
}

func TestMountedHandlers(t *testing.T) {
	f := newFixture(t, func(s *Server, _ *testBackend) {
		answer := func(s string) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, s) })
		}
		s.Handlers = map[string]http.Handler{"/RPC2": answer("rpc"), "/api/": answer("api"), "/api/v2/": answer("v2")}
	})
	for path, want := range map[string]string{"/RPC2": "rpc", "/api/x": "api", "/api/v2/y": "v2"} {
		if _, body := f.do(t, "POST", path, strings.NewReader("x")); body != want {
			t.Errorf("POST %s = %q, want the mounted handler's %q", path, body, want)
		}
	}
	if resp, _ := f.do(t, "GET", "/RPC2/x", nil); resp.StatusCode != 404 {
		t.Errorf("GET /RPC2/x = %d, want the tree's 404", resp.StatusCode)
	}
}

func TestWebDAVBasics(t *testing.T) {
	f := newFixture(t, func(s *Server, _ *testBackend) { s.MaxBodyBytes = 16 })
	auth := []string{"auth", "alice:alice-pw"}
	if resp, _ := f.do(t, "PROPFIND", "/dav/", nil, "Depth", "1"); resp.StatusCode != 401 {
		t.Fatalf("PROPFIND without credentials = %d", resp.StatusCode)
	}
	if resp, _ := f.do(t, "MKCOL", "/dav/docs/", nil, auth...); resp.StatusCode != 201 {
		t.Fatalf("MKCOL = %d", resp.StatusCode)
	}
	if resp, _ := f.do(t, "PUT", "/dav/docs/a.txt", strings.NewReader("dav"), auth...); resp.StatusCode != 201 {
		t.Fatalf("PUT = %d", resp.StatusCode)
	}
	resp, body := f.do(t, "PROPFIND", "/dav/docs/", nil, append(auth, "Depth", "1")...)
	if resp.StatusCode != 207 || !strings.Contains(body, "a.txt") {
		t.Fatalf("PROPFIND = %d %s", resp.StatusCode, body)
	}
	if resp, body := f.do(t, "GET", "/dav/docs/", nil, auth...); resp.StatusCode != 200 || !strings.Contains(body, `href="a.txt"`) {
		t.Errorf("GET of a WebDAV collection = %d, want a listing:\n%s", resp.StatusCode, body)
	}
	_, get := f.do(t, "GET", "/~alice/docs/a.txt", nil, auth...)
	if get != "dav" {
		t.Errorf("the WebDAV upload over plain GET = %q", get)
	}
	if resp, _ := f.do(t, "MOVE", "/dav/docs/a.txt", nil, append(auth, "Destination", f.base+"/dav/b.txt")...); resp.StatusCode != 201 {
		t.Fatalf("MOVE = %d", resp.StatusCode)
	}
	if b, _ := os.ReadFile(filepath.Join(f.dir, "home/alice/b.txt")); string(b) != "dav" {
		t.Errorf("after MOVE: %q", b)
	}
	if resp, _ := f.do(t, "PUT", "/dav/small", strings.NewReader("xx"), auth...); resp.StatusCode != 201 {
		t.Fatalf("PUT under MaxBodyBytes = %d, want 201", resp.StatusCode)
	}
	big := strings.Repeat("x", 17)
	for _, body := range []io.Reader{strings.NewReader(big), io.MultiReader(strings.NewReader(big))} { // with a length, and chunked
		if resp, _ := f.do(t, "PUT", "/dav/big", body, auth...); resp.StatusCode != 413 {
			t.Errorf("PUT over MaxBodyBytes = %d, want 413", resp.StatusCode)
		}
		if _, err := os.Stat(filepath.Join(f.dir, "home/alice/big")); err == nil {
			t.Errorf("a PUT over MaxBodyBytes was stored")
		}
	}
}

func TestDAVQuotaIs507(t *testing.T) {
	f := newFixture(t, func(_ *Server, b *testBackend) { b.quota = 10 })
	resp, _ := f.do(t, "PUT", "/dav/q", strings.NewReader(strings.Repeat("q", 100)), "auth", "alice:alice-pw")
	if resp.StatusCode != 507 {
		t.Fatalf("WebDAV PUT over quota = %d, want 507", resp.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "home/alice/q")); err == nil {
		t.Errorf("a refused upload shows under its name")
	}
}

func TestCGI(t *testing.T) {
	cgiDir := t.TempDir()
	os.WriteFile(filepath.Join(cgiDir, "hello"), []byte("#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\nhi %s' \"$PATH_INFO\"\n"), 0o755)
	os.WriteFile(filepath.Join(cgiDir, "noexec"), []byte("#!/bin/sh\n"), 0o644)
	f := newFixture(t, func(s *Server, _ *testBackend) { s.CGIDir = cgiDir })
	if resp, body := f.do(t, "GET", "/cgi-bin/hello/there", nil); resp.StatusCode != 200 || body != "hi /there" {
		t.Errorf("CGI = %d %q", resp.StatusCode, body)
	}
	if resp, _ := f.do(t, "GET", "/cgi-bin/noexec", nil); resp.StatusCode != 404 {
		t.Errorf("non-executable CGI = %d, want 404", resp.StatusCode)
	}
	g := newFixture(t, nil)
	if resp, _ := g.do(t, "GET", "/cgi-bin/hello", nil); resp.StatusCode != 404 {
		t.Errorf("CGI off by default: %d", resp.StatusCode)
	}
}

func TestSlowHeaderIsCut(t *testing.T) {
	f := newFixture(t, func(s *Server, _ *testBackend) { s.ReadHeaderTimeout = 100 * time.Millisecond })
	c, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(c); err != nil {
		t.Fatalf("a connection with a header never finished: %v, want it closed", err)
	}
}

func TestHeaderLimit(t *testing.T) {
	f := newFixture(t, func(s *Server, _ *testBackend) { s.MaxHeaderBytes = 1024 })
	resp, _ := f.do(t, "GET", "/", nil, "X-Big", strings.Repeat("a", 8000))
	if resp.StatusCode != 431 {
		t.Fatalf("a header over the limit = %d, want 431", resp.StatusCode)
	}
}

func TestConformance(t *testing.T) {
	testkit.Conformance(t, testkit.Target{
		New: func(t *testing.T, gate *testkit.Gate) testkit.StreamServer {
			dir := t.TempDir()
			os.MkdirAll(filepath.Join(dir, "anon"), 0o750)
			os.WriteFile(filepath.Join(dir, "anon/f"), []byte("f"), 0o640)
			be := newTestBackend(t, dir, nil)
			be.gate = gate
			return &Server{Backend: be}
		},
		Greet: func(t *testing.T, c *testkit.Transcript) {
			// HTTP says nothing first: one request that the backend does
			// not see makes the connection an idle kept-alive one.
			c.Write("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n")
			for c.Line() != "" {
			}
		},
		Busy: func(t *testing.T, c *testkit.Transcript) {
			c.Write("GET /f HTTP/1.1\r\nHost: x\r\n\r\n")
		},
		Finish: func(t *testing.T, c *testkit.Transcript) {
			if l := c.Line(); !strings.HasPrefix(l, "HTTP/1.1 200") {
				t.Fatalf("busy request answered %q, want 200", l)
			}
			for c.Line() != "" {
			}
		},
	})
}
