package httpfs_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"github.com/plumbnet/plumb/httpfs"
)

// dirBackend serves one directory to everyone, read-only; it has no
// accounts.
type dirBackend struct{ fs *httpfs.DirFS }

func (b dirBackend) Anonymous(context.Context) (httpfs.FS, error) { return b.fs, nil }
func (b dirBackend) Login(context.Context, string, string, net.Addr) (httpfs.FS, error) {
	return nil, httpfs.ErrAuthFailed
}

// Serve a directory over HTTP, then fetch a file from it.
func ExampleServer() {
	dir, _ := os.MkdirTemp("", "httpfs-example")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello\n"), 0o644)
	root, _ := os.OpenRoot(dir)
	defer root.Close()

	srv := &httpfs.Server{Backend: dirBackend{&httpfs.DirFS{Root: root, Read: true}}}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Close()

	resp, err := http.Get("http://" + ln.Addr().String() + "/hello.txt")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Printf("%s %q %s\n", resp.Status, b, resp.Header.Get("Content-Type"))
	// Output: 200 OK "hello\n" text/plain; charset=utf-8
}
