package daemon

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/imap"
	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/mailstore"
	"github.com/plumbnet/plumb/internal/testkit"
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
	if err := os.Mkdir(p, 0o700); err != nil {
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

// TestIMAPStatusWithoutSize: STATUS reads no message unless SIZE is
// asked: with a message that cannot be read (a file without its size
// in the name that is a directory: EISDIR), STATUS MESSAGES still answers.
func TestIMAPStatusWithoutSize(t *testing.T) {
	addr, store := imapFixture(t, 2)
	p := filepath.Join(store.Dir(), "alice", "new", "1700000000.x1.host")
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
	c := imapLogin(t, addr)
	if u := c.ok("b STATUS INBOX (MESSAGES UNSEEN)"); !anyContains(u, "(MESSAGES 3 UNSEEN 3)") {
		t.Errorf("STATUS = %q, want MESSAGES 3 UNSEEN 3", u)
	}
	if _, tagged := c.run("c STATUS INBOX (SIZE)"); !strings.HasPrefix(tagged, "NO") {
		t.Errorf("STATUS SIZE with an unreadable message = %q, want NO", tagged)
	}
}

// TestIMAPAppendCutLiteral: a client hanging up inside an APPEND
// literal leaves nothing in the store, not the half message fsynced.
func TestIMAPAppendCutLiteral(t *testing.T) {
	dir := t.TempDir()
	db, err := accounts.OpenWith(filepath.Join(dir, accounts.FileName), accounts.Options{Cost: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Add("alice", "alice-password"); err != nil {
		t.Fatal(err)
	}
	store, err := mailstore.Open(filepath.Join(dir, "mail"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &imap.Server{Backend: &imapBackend{accounts: db, store: store, log: slog.New(slog.DiscardHandler)}}
	addr := testkit.Serve(t, srv, nil)
	c := imapLogin(t, addr)
	c.Send("b APPEND INBOX {100}")
	c.Expect("+")
	c.Write(strings.Repeat("x", 50))
	c.Conn.Close()
	// Shutdown waits for the session, and so for its APPEND, to end.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, store, ""); n != 0 {
		t.Errorf("INBOX holds %d messages after a cut APPEND, want 0", n)
	}
}

// TestIMAPFetchUnreadable: a message the store cannot read (its file
// made a directory: EISDIR) fails the FETCH with NO; it is not passed
// over as if another session had expunged it, with an OK for data the
// client never got.
func TestIMAPFetchUnreadable(t *testing.T) {
	addr, store := imapFixture(t, 2)
	c := imapLogin(t, addr)
	c.ok("b SELECT INBOX")
	mb, err := store.Mailbox(context.Background(), "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := mb.Messages(context.Background())
	mb.Close()
	if err != nil || len(msgs) != 2 {
		t.Fatalf("Messages = %d, %v", len(msgs), err)
	}
	p := msgs[1].Path
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
	if u, tagged := c.run("c FETCH 2 BODY.PEEK[TEXT]"); !strings.HasPrefix(tagged, "NO") {
		t.Errorf("FETCH of an unreadable message = %q, %q; want NO", u, tagged)
	}
	if u := c.ok("d FETCH 1 BODY.PEEK[TEXT]"); !anyContains(u, "* 1 FETCH") {
		t.Errorf("FETCH 1 after the failure = %q, want its answer", u)
	}
}
