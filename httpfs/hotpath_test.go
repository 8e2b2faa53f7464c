package httpfs

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/plumbnet/plumb/internal/testkit"
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

// TestSmallFileLength: a small file from the cache has its
// Content-Length on the wire (net/http's, from the one write), for GET
// and HEAD, over HTTP/1.1 and HTTP/2, and is not chunked.
func TestSmallFileLength(t *testing.T) {
	f := newCacheFixture(t, 0)
	for name, size := range map[string]int{"a.txt": 1000, "b.txt": autoLengthMax - 1, "c.txt": autoLengthMax, "d.bin": 5000} {
		os.WriteFile(filepath.Join(f.dir, name), bytes.Repeat([]byte("x"), size), 0o640)
	}
	srvTLS, cliTLS := testkit.TLS(t)
	srvTLS.NextProtos = NextProtos
	plain := testkit.Serve(t, f.s, nil)
	tlsAddr := testkit.Serve(t, f.s, tls.NewListener(testkit.Listen(t), srvTLS))
	// DisableCompression: the identity answers (TestCachedGzip has the gzip ones).
	h1 := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: cliTLS, ForceAttemptHTTP2: true, DisableCompression: true}}
	for _, c := range []struct {
		client *http.Client
		base   string
	}{{h1, "http://" + plain}, {h2, "https://" + tlsAddr}} {
		for _, name := range []string{"a.txt", "b.txt", "c.txt", "d.bin"} {
			for _, method := range []string{"GET", "HEAD", "GET"} { // the second GET from the cache
				req, _ := http.NewRequest(method, c.base+"/"+name, nil)
				resp, err := c.client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				fi, _ := os.Stat(filepath.Join(f.dir, name))
				if resp.ContentLength != fi.Size() || len(resp.TransferEncoding) != 0 {
					t.Errorf("%s %s over %s: Content-Length %d, Transfer-Encoding %v; want %d", method, name, resp.Proto, resp.ContentLength, resp.TransferEncoding, fi.Size())
				}
				if method == "GET" && int64(len(body)) != fi.Size() {
					t.Errorf("GET %s over %s: %d bytes", name, resp.Proto, len(body))
				}
			}
		}
	}
}
