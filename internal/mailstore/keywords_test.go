package mailstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestKeywords: keywords get letters in Dovecot's dovecot-keywords
// format, are matched without regard to case, and run out after 26.
func TestKeywords(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, s, "alice", "", "Subject: x\n\nx\n")
	mb, _ := s.Mailbox(context.Background(), "alice", "")
	k, err := mb.AddKeywords([]string{"$Label1", "Todo", "$label1"})
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := k.Letter("todo"); !ok || l != 'b' {
		t.Errorf("Letter(todo) = %c, %v, want b", l, ok)
	}
	b, _ := os.ReadFile(filepath.Join(s.Dir(), "alice", keywordsFile))
	if string(b) != "0 $Label1\n1 Todo\n" {
		t.Errorf("dovecot-keywords = %q", b)
	}
	if got := k.Names("Sab"); len(got) != 2 || got[0] != "$Label1" || got[1] != "Todo" {
		t.Errorf("Names(Sab) = %q", got)
	}
	var many []string
	for i := range 24 {
		many = append(many, fmt.Sprintf("k%d", i))
	}
	if _, err := mb.AddKeywords(many); err != nil {
		t.Fatalf("26 keywords in all: %v", err)
	}
	if _, err := mb.AddKeywords([]string{"one-too-many"}); !errors.Is(err, ErrTooManyKeywords) {
		t.Errorf("a 27th keyword = %v, want ErrTooManyKeywords", err)
	}
	if again, _ := mb.Keywords(); again[25] != "k23" {
		t.Errorf("Keywords()[25] = %q, want k23", again[25])
	}
}

// TestIndexModSeqLineKeepsStructures: a flag change's new mod-sequence
// is a short line of its own, and a store reading the file afresh
// still has the message's structures.
func TestIndexModSeqLineKeepsStructures(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, _ := Open(dir)
	deliver(t, s, "alice", "", "Subject: x\n\nx\n")
	mb, _ := s.Mailbox(ctx, "alice", "")
	msgs, _ := mb.Messages(ctx)
	env := []byte(`(NIL "x" NIL NIL NIL NIL NIL NIL NIL NIL)`)
	if _, _, err := mb.CacheAndNumber(msgs, msgs, []IndexEntry{{Envelope: env}}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "alice", indexFile)
	before, _ := os.Stat(path)
	if _, err := mb.AddFlags(ctx, msgs[0].UID, "S"); err != nil {
		t.Fatal(err)
	}
	msgs, _ = mb.Messages(ctx)
	seqs, _, err := mb.ModSeqs(msgs)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(path)
	if grew := after.Size() - before.Size(); grew > 100 {
		t.Errorf("a flag change added %d bytes to the index, want a short line", grew)
	}
	s2, _ := Open(dir)
	mb2, _ := s2.Mailbox(ctx, "alice", "")
	e, ok := mb2.Cached(msgs[0])
	if !ok || string(e.Envelope) != string(env) || e.ModSeq != seqs[0] || e.Flags != "S" {
		t.Errorf("the entry read afresh = %+v, %v; want the envelope, flags S and mod-sequence %d", e, ok, seqs[0])
	}
}
