package mailstore

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestIndex: entries survive a new Store (a restart), a torn last line
// (a crash mid-append) is ignored, and an entry's message deleted behind
// the store's back is pruned.
func TestIndex(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, s, "alice", "", "Subject: a\r\n\r\na\r\n")
	deliver(t, s, "alice", "", "Subject: b\r\n\r\nb\r\n")
	msgs := messages(t, s, "alice", "")
	mb, _ := s.Mailbox(context.Background(), "alice", "")
	if err := mb.CacheBatch(msgs, []IndexEntry{{Date: 1, Envelope: []byte("(env a)")}, {Date: 2}}); err != nil {
		t.Fatal(err)
	}
	if err := mb.Cache(msgs[1], IndexEntry{Structure: []byte("(bs b)")}); err != nil {
		t.Fatal(err)
	}
	// A crash while appending leaves half a line.
	f, err := os.OpenFile(filepath.Join(dir, "alice", indexFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"k":"torn","d":`)
	f.Close()

	s2, _ := Open(dir)
	mb2, _ := s2.Mailbox(context.Background(), "alice", "")
	if e, ok := mb2.Cached(msgs[0]); !ok || e.Date != 1 || string(e.Envelope) != "(env a)" {
		t.Errorf("Cached(a) after a restart = %+v, %v", e, ok)
	}
	if e, ok := mb2.Cached(msgs[1]); !ok || e.Date != 2 || string(e.Structure) != "(bs b)" {
		t.Errorf("Cached(b) = %+v, %v, want the merged entry", e, ok)
	}
	os.Remove(msgs[0].Path)
	left, _ := mb2.Messages(context.Background())
	if err := mb2.Prune(left); err != nil {
		t.Fatal(err)
	}
	if _, ok := mb2.Cached(msgs[0]); ok {
		t.Errorf("Cached(a) after its file was removed and the index pruned: still there")
	}
}
