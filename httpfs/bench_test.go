package httpfs

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixedBackend serves one tree, opened once, as the daemon's does.
type fixedBackend struct{ t FS }

func (b fixedBackend) Anonymous(context.Context) (FS, error) { return b.t, nil }
func (b fixedBackend) Login(context.Context, string, string, net.Addr) (FS, error) {
	return nil, ErrAuthFailed
}

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

func benchServer(b *testing.B, files map[string]int) *Server {
	dir := b.TempDir()
	for name, size := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o750)
		os.WriteFile(p, []byte(strings.Repeat("x", size)), 0o640)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	return &Server{Backend: fixedBackend{&DirFS{Root: r}}}
}

func benchGet(b *testing.B, s *Server, target string, hdr ...string) {
	req, _ := http.NewRequest("GET", target, nil)
	req.RemoteAddr = "127.0.0.1:4000"
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		clear(w.h)
		w.code = 0
		s.ServeHTTP(w, req)
		if w.code != 0 && w.code != 200 {
			b.Fatalf("GET %s = %d", target, w.code)
		}
	}
}

// BenchmarkSmallFile is the handler's share of the 1 KiB file bench.
func BenchmarkSmallFile(b *testing.B) {
	benchGet(b, benchServer(b, map[string]int{"small.txt": 1024}), "/small.txt")
}

// BenchmarkSmallFileGzip is the same file to a client that accepts
// gzip, as browsers do.
func BenchmarkSmallFileGzip(b *testing.B) {
	benchGet(b, benchServer(b, map[string]int{"small.txt": 1024}), "/small.txt", "Accept-Encoding", "gzip")
}

// BenchmarkListing1000 is a directory listing of 1,000 entries.
func BenchmarkListing1000(b *testing.B) {
	files := map[string]int{}
	for i := range 1000 {
		files[fmt.Sprintf("dir/file-%04d.txt", i)] = i
	}
	benchGet(b, benchServer(b, files), "/dir/")
}

// BenchmarkNetHTTPFileServer is the baseline: net/http's FileServer on
// the same file.
func BenchmarkNetHTTPFileServer(b *testing.B) {
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "small.txt"), []byte(strings.Repeat("x", 1024)), 0o640)
	h := http.FileServer(http.Dir(dir))
	req, _ := http.NewRequest("GET", "/small.txt", nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}
