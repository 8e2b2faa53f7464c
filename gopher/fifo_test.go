//go:build unix

package gopher

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestFIFONeverBlocks: a FIFO, as a file or as a gophermap, is refused
// without being opened (an open would wait for a writer).
func TestFIFONeverBlocks(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"pipe.txt", "sub/gophermap", "inc/x.gophermap"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		if err := syscall.Mkfifo(filepath.Join(dir, p), 0o644); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
	}
	os.WriteFile(filepath.Join(dir, "inc/a.txt"), []byte("a\n"), 0o644)
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	ts := startServer(t, nil, func(s *Server) { s.Backend = &FSBackend{Root: root.FS()} })
	if got, want := fetch(t, ts.addr, "/pipe.txt"), menu(errorItem("Not found").Line()); got != want {
		t.Errorf("/pipe.txt = %q, want %q", got, want)
	}
	if got, want := fetch(t, ts.addr, "/sub/"), menu(errorItem("Access denied").Line()); got != want {
		t.Errorf("/sub/ = %q, want %q", got, want)
	}
	if got, want := fetch(t, ts.addr, "/inc/"), menu(ts.local('0', "a.txt", "/inc/a.txt")); got != want {
		t.Errorf("/inc/ = %q, want %q", got, want)
	}
}
