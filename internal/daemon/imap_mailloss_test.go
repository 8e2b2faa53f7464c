package daemon

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/plumbnet/plumb/internal/mailstore"
)

// count returns how many messages alice's folder holds on disk.
func count(t *testing.T, store *mailstore.Store, folder string) int {
	t.Helper()
	mb, err := store.Mailbox(context.Background(), "alice", folder)
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	msgs, err := mb.Messages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(msgs)
}

// TestIMAPMoveUnreadable: a MOVE whose second message cannot be read
// (its file a symlink loop: ELOOP, not "gone") fails, expunges nothing,
// and leaves the destination as it was.
func TestIMAPMoveUnreadable(t *testing.T) {
	addr, store := imapFixture(t, 3)
	c := imapLogin(t, addr)
	c.ok("b CREATE Dest")
	c.ok("c SELECT INBOX")
	mb, err := store.Mailbox(context.Background(), "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := mb.Messages(context.Background())
	mb.Close()
	if err != nil || len(msgs) != 3 {
		t.Fatalf("Messages = %d, %v", len(msgs), err)
	}
	p := msgs[1].Path
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(p, p); err != nil {
		t.Fatal(err)
	}
	if _, tagged := c.run("d MOVE 1:3 Dest"); !strings.HasPrefix(tagged, "NO") {
		t.Errorf("MOVE with an unreadable message = %q, want NO", tagged)
	}
	if n := count(t, store, ""); n != 3 {
		t.Errorf("INBOX holds %d messages after the failed MOVE, want 3", n)
	}
	if n := count(t, store, "Dest"); n != 0 {
		t.Errorf("Dest holds %d messages after the failed MOVE, want 0 (undone)", n)
	}
	c.ok("e NOOP")
}
