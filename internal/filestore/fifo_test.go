//go:build unix

package filestore

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestFIFONeverBlocks: opening or listing a FIFO is refused at once,
// not after a writer comes.
func TestFIFONeverBlocks(t *testing.T) {
	ctx := context.Background()
	s, tr := newTree(t, Limits{})
	if err := syscall.Mkfifo(filepath.Join(s.Dir(), "home", "alice", "pipe"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 2)
	go func() {
		f, err := tr.Open(ctx, "pipe")
		if err == nil {
			f.Close()
		}
		done <- err
	}()
	go func() {
		_, err := tr.ReadDir(ctx, "pipe")
		done <- err
	}()
	for range 2 {
		select {
		case err := <-done:
			if err == nil {
				t.Error("a FIFO opened or listed without an error")
			}
			if errors.Is(err, fs.ErrNotExist) {
				t.Errorf("FIFO: %v, want another error than not found", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("opening a FIFO blocked")
		}
	}
}
