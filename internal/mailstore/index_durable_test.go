package mailstore

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// TestModSeqsSynced: the index lines that give out mod-sequences are on
// disk (fsynced, the highest line among them) before ModSeqs returns;
// the cache lines need not be.
func TestModSeqsSynced(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	deliver(t, s, "alice", "", "Subject: a\r\n\r\na\r\n")
	msgs := messages(t, s, "alice", "")
	mb, _ := s.Mailbox(context.Background(), "alice", "")
	var synced []string
	syncIndex = func(f *os.File) error {
		b, _ := os.ReadFile(f.Name())
		synced = append(synced, string(b))
		return f.Sync()
	}
	t.Cleanup(func() { syncIndex = (*os.File).Sync })
	if err := mb.CacheBatch(msgs, []IndexEntry{{Date: 1}}); err != nil {
		t.Fatal(err)
	}
	if len(synced) != 0 {
		t.Errorf("CacheBatch synced the index %d times, want 0", len(synced))
	}
	_, highest, err := mb.ModSeqs(msgs)
	if err != nil {
		t.Fatal(err)
	}
	if len(synced) != 1 || !strings.Contains(synced[0], fmt.Sprintf(`"h":%d`, highest)) {
		t.Errorf("ModSeqs synced %q, want once, with the highest %d", synced, highest)
	}
}

// TestIndexRewriteLocked: CacheBatch and Prune, which may rewrite the
// file, wait for plumb-index.lock as ModSeqs does, so that a rewrite
// cannot drop the mod-sequences another process appends meanwhile.
func TestIndexRewriteLocked(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	deliver(t, s, "alice", "", "Subject: a\r\n\r\na\r\n")
	msgs := messages(t, s, "alice", "")
	mb, _ := s.Mailbox(context.Background(), "alice", "")
	lockPath := filepath.Join(dir, "alice", indexFile+".lock")
	for name, call := range map[string]func() error{
		"CacheBatch": func() error { return mb.CacheBatch(msgs, []IndexEntry{{Date: 1}}) },
		"Prune":      func() error { return mb.Prune(msgs) },
	} {
		lf, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if err := flock(lf, false); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- call() }()
		// The kernel lists a process waiting for a lock with "->".
		var st syscall.Stat_t
		if err := syscall.Fstat(int(lf.Fd()), &st); err != nil {
			t.Fatal(err)
		}
		ino := fmt.Sprintf(":%d ", st.Ino)
		if !testkit.Within(10*time.Second, func() bool {
			b, _ := os.ReadFile("/proc/locks")
			for _, l := range bytes.Split(b, []byte("\n")) {
				if bytes.Contains(l, []byte("-> FLOCK")) && bytes.Contains(l, []byte(ino)) {
					return true
				}
			}
			return false
		}) {
			t.Errorf("%s did not wait for %s", name, indexFile+".lock")
		}
		funlock(lf)
		lf.Close()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
