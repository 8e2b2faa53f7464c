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

// TestModSeqs: a flag change, here or behind the store's back, raises
// the message's mod-sequence; a deletion raises the highest; nothing
// goes down across a restart.
func TestModSeqs(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	deliver(t, s, "alice", "", "Subject: a\r\n\r\na\r\n")
	deliver(t, s, "alice", "", "Subject: b\r\n\r\nb\r\n")
	mb, _ := s.Mailbox(context.Background(), "alice", "")
	msgs, _ := mb.Messages(context.Background())
	seqs, high, err := mb.ModSeqs(msgs)
	if err != nil || seqs[0] != 1 || seqs[1] != 2 || high != 2 {
		t.Fatalf("ModSeqs = %v %d %v", seqs, high, err)
	}
	if seqs, high, _ = mb.ModSeqs(msgs); seqs[1] != 2 || high != 2 {
		t.Errorf("ModSeqs again = %v %d, want unchanged", seqs, high)
	}
	// Another program marks b seen (renames its file).
	os.Rename(msgs[1].Path, filepath.Join(dir, "alice", "cur", msgs[1].Key+":2,S"))
	msgs, _ = mb.Messages(context.Background())
	if seqs, high, _ = mb.ModSeqs(msgs); seqs[1] != 3 || high != 3 {
		t.Errorf("ModSeqs after a flag change behind our back = %v %d, want b at 3", seqs, high)
	}
	mb.Delete(context.Background(), msgs[0].UID)
	msgs, _ = mb.Messages(context.Background())
	s2, _ := Open(dir)
	mb2, _ := s2.Mailbox(context.Background(), "alice", "")
	if seqs, high, _ = mb2.ModSeqs(msgs); len(seqs) != 1 || seqs[0] != 3 || high != 4 {
		t.Errorf("ModSeqs after a deletion and a restart = %v %d, want [3] 4", seqs, high)
	}
}

// TestModSeqsTwoProcesses: two stores on one tree (two processes) never
// give out one mod-sequence twice.
func TestModSeqsTwoProcesses(t *testing.T) {
	dir := t.TempDir()
	s1, _ := Open(dir)
	s2, _ := Open(dir)
	deliver(t, s1, "alice", "", "Subject: a\r\n\r\na\r\n")
	mb1, _ := s1.Mailbox(context.Background(), "alice", "")
	mb2, _ := s2.Mailbox(context.Background(), "alice", "")
	msgs, _ := mb1.Messages(context.Background())
	if _, high, _ := mb1.ModSeqs(msgs); high != 1 {
		t.Fatalf("first highest = %d", high)
	}
	deliver(t, s2, "alice", "", "Subject: b\r\n\r\nb\r\n")
	msgs, _ = mb2.Messages(context.Background())
	seqs2, high2, _ := mb2.ModSeqs(msgs)
	if high2 != 2 || seqs2[0] != 1 || seqs2[1] != 2 {
		t.Fatalf("second process: %v %d, want [1 2] 2", seqs2, high2)
	}
	mb1.SetFlags(context.Background(), msgs[0].UID, "S")
	msgs, _ = mb1.Messages(context.Background())
	if seqs, high, _ := mb1.ModSeqs(msgs); high != 3 || seqs[0] != 3 || seqs[1] != 2 {
		t.Errorf("first process after the second's numbering: %v %d, want [3 2] 3", seqs, high)
	}
}
