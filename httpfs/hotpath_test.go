package httpfs

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// readFromWriter is a ResponseWriter with ReadFrom, as net/http's is:
// it records what ReadFrom was given.
type readFromWriter struct {
	discardWriter
	src   io.Reader
	bytes int64
}

func (w *readFromWriter) ReadFrom(r io.Reader) (int64, error) {
	w.src = r
	n, err := io.Copy(io.Discard, r)
	w.bytes += n
	return n, err
}

// isFile reports a reader net/http hands to sendfile: an *os.File, or
// one in an *io.LimitedReader (ServeContent's io.CopyN).
func isFile(r io.Reader) bool {
	if lr, ok := r.(*io.LimitedReader); ok {
		r = lr.R
	}
	_, ok := r.(*os.File)
	return ok
}

// TestLargeFileGoesToReadFrom: a file over the cache's size reaches the
// connection's ReadFrom as the *os.File itself (net/http's sendfile
// path) through the access log and the compression wrappers, for a
// binary file and for text with no gzip asked, whole and in a range.
func TestLargeFileGoesToReadFrom(t *testing.T) {
	f := newCacheFixture(t, 0)
	f.s.AccessLog = io.Discard
	big := bytes.Repeat([]byte("0123456789abcdef"), (cacheFileMax+1)/16+1)
	for _, n := range []string{"big.bin", "big.txt"} {
		if err := os.WriteFile(filepath.Join(f.dir, n), big, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ path, gzip, rng string }{
		{"/big.bin", "gzip", ""},
		{"/big.bin", "gzip", "bytes=10-60000"},
		{"/big.txt", "", ""},
	} {
		req, _ := http.NewRequest("GET", c.path, nil)
		req.RemoteAddr = "127.0.0.1:4000"
		if c.gzip != "" {
			req.Header.Set("Accept-Encoding", c.gzip)
		}
		if c.rng != "" {
			req.Header.Set("Range", c.rng)
		}
		w := &readFromWriter{discardWriter: discardWriter{h: http.Header{}}}
		f.s.ServeHTTP(w, req)
		if !isFile(w.src) {
			t.Errorf("GET %s (Accept-Encoding %q, Range %q): ReadFrom got %T, not the file", c.path, c.gzip, c.rng, w.src)
		}
		if want := int64(len(big)); c.rng != "" {
			want = 60000 - 10 + 1
			if w.bytes != want {
				t.Errorf("GET %s Range %s: %d bytes, want %d", c.path, c.rng, w.bytes, want)
			}
		} else if w.bytes != want {
			t.Errorf("GET %s: %d bytes, want %d", c.path, w.bytes, want)
		}
	}
}
