package httpfs

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// loginBackend serves one tree, opened once, at / and to user "u"
// (password "p"), as the daemon's backend does: the same FS value for
// every request, so the small-file cache is used.
type loginBackend struct{ t FS }

func (b loginBackend) Anonymous(context.Context) (FS, error) { return b.t, nil }
func (b loginBackend) Login(_ context.Context, user, pass string, _ net.Addr) (FS, error) {
	if user != "u" || pass != "p" {
		return nil, ErrAuthFailed
	}
	return b.t, nil
}

type cacheFixture struct {
	dir string
	s   *Server
	now int64 // the server's clock
}

func newCacheFixture(t *testing.T, ttl time.Duration) *cacheFixture {
	dir := t.TempDir()
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	f := &cacheFixture{dir: dir}
	f.s = &Server{Backend: loginBackend{&DirFS{Root: r}}, StatCacheTTL: ttl}
	f.s.clock = func() int64 { return f.now }
	return f
}

// do makes a request from loopback and returns the status and body.
func (f *cacheFixture) do(t *testing.T, method, target, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, target, strings.NewReader(body))
	req.RemoteAddr = "127.0.0.1:4000"
	req.SetBasicAuth("u", "p")
	w := &bodyWriter{discardWriter: discardWriter{h: http.Header{}}}
	f.s.ServeHTTP(w, req)
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.code, w.body.String()
}

// change writes content to name behind the server's back (as FTP or
// another program would), keeping the old modification time, so only
// the size, inode or change time can tell.
func (f *cacheFixture) change(t *testing.T, name, content string, byRename bool) {
	t.Helper()
	p := filepath.Join(f.dir, name)
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	tmp := p
	if byRename {
		tmp = p + ".new"
	}
	if err := os.WriteFile(tmp, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(tmp, fi.ModTime(), fi.ModTime())
	if byRename {
		if err := os.Rename(tmp, p); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSmallFileCacheSeesChanges: a cached file rewritten in place (same
// size, its modification time put back), replaced by rename or removed
// behind the server's back is served as it now is once StatCacheTTL has
// passed since the last stat; a write through the server itself is seen
// at once.
func TestSmallFileCacheSeesChanges(t *testing.T) {
	f := newCacheFixture(t, 0)
	ttl := int64(DefaultStatCacheTTL)
	os.WriteFile(filepath.Join(f.dir, "f.txt"), []byte("aaaa"), 0o640)
	want := func(wantCode int, wantBody string) {
		t.Helper()
		if code, got := f.do(t, "GET", "/f.txt", ""); code != wantCode || (wantCode == 200 && got != wantBody) {
			t.Fatalf("GET = %d %q, want %d %q", code, got, wantCode, wantBody)
		}
	}
	want(200, "aaaa")
	want(200, "aaaa") // from the cache

	f.change(t, "f.txt", "bbbb", false)
	f.now += ttl
	want(200, "bbbb")

	f.change(t, "f.txt", "cccc", true)
	f.now += ttl - 1 // the stat of the last GET is still trusted...
	f.do(t, "GET", "/f.txt", "")
	f.now++ // ...and no longer
	want(200, "cccc")

	// A PUT through the server is served at once, with no time passing.
	if code, _ := f.do(t, "PUT", "/f.txt", "dddd"); code != http.StatusNoContent {
		t.Fatalf("PUT = %d", code)
	}
	want(200, "dddd")
	// So is a DELETE.
	if code, _ := f.do(t, "DELETE", "/f.txt", ""); code != http.StatusNoContent {
		t.Fatalf("DELETE = %d", code)
	}
	want(404, "")

	// A file removed behind the server's back is gone after the TTL.
	os.WriteFile(filepath.Join(f.dir, "g.txt"), []byte("gggg"), 0o640)
	if _, got := f.do(t, "GET", "/g.txt", ""); got != "gggg" {
		t.Fatalf("GET g.txt = %q", got)
	}
	os.Remove(filepath.Join(f.dir, "g.txt"))
	f.now += ttl
	if code, _ := f.do(t, "GET", "/g.txt", ""); code != http.StatusNotFound {
		t.Fatalf("GET of a removed file after the TTL = %d, want 404", code)
	}
}

// TestStatCacheOff: with a negative StatCacheTTL every request stats
// the file, so a change behind the server's back is served at once.
func TestStatCacheOff(t *testing.T) {
	f := newCacheFixture(t, -1)
	os.WriteFile(filepath.Join(f.dir, "f.txt"), []byte("aaaa"), 0o640)
	for i, c := range []string{"bbbb", "cccc"} {
		f.do(t, "GET", "/f.txt", "")
		f.change(t, "f.txt", c, i == 1)
		if _, got := f.do(t, "GET", "/f.txt", ""); got != c {
			t.Fatalf("GET after a change = %q, want %q", got, c)
		}
	}
}

// TestCachedRangesAndConditionals: a file served from the cache answers
// ranges and conditions as one from disk does.
func TestCachedRangesAndConditionals(t *testing.T) {
	f := newCacheFixture(t, 0)
	os.WriteFile(filepath.Join(f.dir, "f.txt"), []byte("0123456789"), 0o640)
	f.do(t, "GET", "/f.txt", "") // into the cache
	req, _ := http.NewRequest("GET", "/f.txt", nil)
	req.RemoteAddr = "127.0.0.1:4000"
	req.Header.Set("Range", "bytes=2-4")
	w := &bodyWriter{discardWriter: discardWriter{h: http.Header{}}}
	f.s.ServeHTTP(w, req)
	if w.code != http.StatusPartialContent || w.body.String() != "234" {
		t.Fatalf("Range from the cache: %d %q", w.code, w.body.String())
	}
	tag := w.h.Get("Etag")
	req.Header.Del("Range")
	req.Header.Set("If-None-Match", tag)
	w = &bodyWriter{discardWriter: discardWriter{h: http.Header{}}}
	f.s.ServeHTTP(w, req)
	if w.code != http.StatusNotModified || w.body.Len() != 0 {
		t.Fatalf("If-None-Match %s from the cache: %d %q", tag, w.code, w.body.String())
	}
}

type bodyWriter struct {
	discardWriter
	body strings.Builder
}

func (w *bodyWriter) Write(p []byte) (int, error) { return w.body.Write(p) }

// TestCachedGzip: a cached text file asked for with gzip is sent
// compressed (made once, the same bytes every time), with the gzip
// variant's ETag, which a conditional GET then matches; a short file
// and a binary one go as they are.
func TestCachedGzip(t *testing.T) {
	f := newCacheFixture(t, 0)
	text := strings.Repeat("compress me please ", 60)
	os.WriteFile(filepath.Join(f.dir, "t.txt"), []byte(text), 0o640)
	os.WriteFile(filepath.Join(f.dir, "short.txt"), []byte("short"), 0o640)
	os.WriteFile(filepath.Join(f.dir, "b.bin"), []byte(text), 0o640)
	get := func(name string, hdr ...string) *bodyWriter {
		req, _ := http.NewRequest("GET", name, nil)
		req.RemoteAddr = "127.0.0.1:4000"
		req.Header.Set("Accept-Encoding", "gzip, deflate")
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		w := &bodyWriter{discardWriter: discardWriter{h: http.Header{}}}
		f.s.ServeHTTP(w, req)
		return w
	}
	var first string
	for i := range 3 { // read in, then from the cache twice
		w := get("/t.txt")
		if w.h.Get("Content-Encoding") != "gzip" || w.h.Get("Vary") != "Accept-Encoding" {
			t.Fatalf("GET %d: Content-Encoding %q, Vary %q", i, w.h.Get("Content-Encoding"), w.h.Get("Vary"))
		}
		body := w.body.String()
		if n := w.h.Get("Content-Length"); n != "" && n != strconv.Itoa(len(body)) {
			t.Fatalf("GET %d: Content-Length %s, body %d bytes", i, n, len(body))
		}
		zr, err := gzip.NewReader(strings.NewReader(body))
		if err != nil {
			t.Fatalf("GET %d: %v", i, err)
		}
		if plain, err := io.ReadAll(zr); err != nil || string(plain) != text {
			t.Fatalf("GET %d: gunzipped %d bytes, %v", i, len(plain), err)
		}
		if !strings.HasSuffix(w.h.Get("Etag"), `-gz"`) {
			t.Fatalf("GET %d: ETag %q of the gzip variant", i, w.h.Get("Etag"))
		}
		if i == 1 {
			first = body
		} else if i == 2 && body != first {
			t.Fatalf("the cached gzip variant changed between requests")
		}
	}
	var e *cachedFile
	for k, v := range f.s.cache.m {
		if k.name == "/t.txt" {
			e = v
		}
	}
	if e == nil || string(e.gz) != first {
		t.Fatalf("the body sent is not the cache's gzip variant")
	}
	tag := get("/t.txt").h.Get("Etag")
	if w := get("/t.txt", "If-None-Match", tag); w.code != http.StatusNotModified {
		t.Errorf("If-None-Match %s = %d, want 304", tag, w.code)
	}
	for _, n := range []string{"/short.txt", "/b.bin"} {
		get(n)
		if w := get(n); w.h.Get("Content-Encoding") != "" {
			t.Errorf("GET %s from the cache: Content-Encoding %q", n, w.h.Get("Content-Encoding"))
		}
	}
}

// TestCacheConcurrentPuts: GETs of a cached file while PUTs replace it
// see only whole versions, and the last PUT is served at once after it.
func TestCacheConcurrentPuts(t *testing.T) {
	f := newCacheFixture(t, 0)
	version := func(i int) string { return strings.Repeat(strconv.Itoa(i%10), 100+i) }
	os.WriteFile(filepath.Join(f.dir, "f.txt"), []byte(version(0)), 0o640)
	valid := map[string]bool{version(0): true}
	const puts = 20
	for i := 1; i <= puts; i++ {
		valid[version(i)] = true
	}
	done := make(chan struct{})
	errs := make(chan string, 4)
	for range 4 {
		go func() {
			for {
				select {
				case <-done:
					errs <- ""
					return
				default:
				}
				if code, got := f.do(t, "GET", "/f.txt", ""); code != 200 || !valid[got] {
					errs <- fmt.Sprintf("GET = %d, %d bytes: not a version written", code, len(got))
					return
				}
			}
		}()
	}
	for i := 1; i <= puts; i++ {
		if code, _ := f.do(t, "PUT", "/f.txt", version(i)); code != http.StatusNoContent {
			t.Errorf("PUT %d = %d", i, code)
		}
	}
	close(done)
	for range 4 {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
	if _, got := f.do(t, "GET", "/f.txt", ""); got != version(puts) {
		t.Errorf("after the last PUT: %d bytes, want %d", len(got), len(version(puts)))
	}
}
