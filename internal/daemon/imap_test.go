package daemon

import (
	"context"
	"fmt"
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

// imapFixture serves the real adapter over a temporary mail store with
// one user, alice, and n messages.
func imapFixture(t *testing.T, n int) (addr string, store *mailstore.Store) {
	t.Helper()
	dir := t.TempDir()
	db, err := accounts.OpenWith(filepath.Join(dir, accounts.FileName), accounts.Options{Cost: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Add("alice", "alice-password"); err != nil {
		t.Fatal(err)
	}
	store, err = mailstore.Open(filepath.Join(dir, "mail"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		body := fmt.Sprintf("Subject: %d\nFrom: a@example.org\n\nbody %d\n", i+1, i+1)
		if _, err := store.Deliver(context.Background(), "alice", "", strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}
	srv := &imap.Server{Backend: &imapBackend{accounts: db, store: store, log: slog.New(slog.DiscardHandler)}}
	return testkit.Serve(t, srv, nil), store
}

type imapTr struct {
	*testkit.Transcript
	t *testing.T
}

func (c imapTr) run(line string) ([]string, string) {
	c.t.Helper()
	tag, _, _ := strings.Cut(line, " ")
	c.Send(line)
	return c.until(tag)
}

func (c imapTr) until(tag string) ([]string, string) {
	c.t.Helper()
	var u []string
	for {
		l := c.Line()
		if strings.HasPrefix(l, tag+" ") {
			return u, strings.TrimPrefix(l, tag+" ")
		}
		u = append(u, l)
	}
}

func (c imapTr) ok(line string) []string {
	c.t.Helper()
	u, tagged := c.run(line)
	if !strings.HasPrefix(tagged, "OK") {
		c.t.Fatalf("%s = %q (%q), want OK", line, tagged, u)
	}
	return u
}

func imapLogin(t *testing.T, addr string) imapTr {
	c := imapTr{testkit.Dial(t, addr), t}
	c.Expect("* OK")
	c.ok("a LOGIN alice alice-password")
	return c
}

func anyContains(lines []string, s string) bool {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

func TestIMAPAdapter(t *testing.T) {
	addr, store := imapFixture(t, 2)
	c := imapLogin(t, addr)
	u := c.ok(`b LIST "" *`)
	for _, w := range []string{`(\Sent \HasNoChildren) "/" Sent`, `(\Trash \HasNoChildren) "/" Trash`, `"/" INBOX`} {
		if !anyContains(u, w) {
			t.Errorf("LIST = %q, missing %q", u, w)
		}
	}
	if u := c.ok("c SELECT INBOX"); !anyContains(u, "* 2 EXISTS") {
		t.Fatalf("SELECT = %q", u)
	}
	// The wire form has CRLF line ends; RFC822.SIZE counts them.
	body := "Subject: 1\r\nFrom: a@example.org\r\n\r\nbody 1\r\n"
	if u := c.ok("d FETCH 1 (RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)])"); !anyContains(u, fmt.Sprintf("RFC822.SIZE %d", len(body))) {
		t.Errorf("FETCH = %q", u)
	}
	c.ok(`e STORE 1 +FLAGS (\Seen \Flagged)`)
	msgs, err := store.Mailbox(context.Background(), "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	list, _ := msgs.Messages(context.Background())
	if list[0].Flags != "FS" {
		t.Errorf("flags on disk = %q, want FS", list[0].Flags)
	}
	c.ok("f COPY 1:2 Archive")
	c.ok("g MOVE 2 Trash")
	if u := c.ok("h STATUS Archive (MESSAGES)"); !anyContains(u, "MESSAGES 2") {
		t.Errorf("STATUS Archive = %q", u)
	}
	c.ok("i CREATE Work/Projects")
	names, _ := store.Folders("alice")
	if !strings.Contains(strings.Join(names, ","), "Work/Projects") {
		t.Errorf("Folders = %q after CREATE", names)
	}
	msg := "Subject: appended\r\n\r\nx\r\n"
	c.Send(fmt.Sprintf("j APPEND Work/Projects (\\Seen) {%d+}", len(msg)))
	c.Write(msg + "\r\n")
	if _, tagged := c.until("j"); !strings.HasPrefix(tagged, "OK [APPENDUID ") {
		t.Errorf("APPEND = %q", tagged)
	}
	c.ok("k ENABLE IMAP4rev2")
	c.ok("l RENAME Work Play")
	if u := c.ok(`m LIST "" Play/%`); !anyContains(u, "Play/Projects") {
		t.Errorf("LIST after RENAME = %q", u)
	}
}

// TestIMAPSeesDeliveryAndPOP3Delete: a delivery wakes IDLE at once; a
// deletion through another handle (POP3's) is reported as EXPUNGE.
func TestIMAPSeesDeliveryAndPOP3Delete(t *testing.T) {
	addr, store := imapFixture(t, 2)
	c := imapLogin(t, addr)
	c.ok("b SELECT INBOX")
	c.Send("c IDLE")
	c.Expect("+ ")
	if _, err := store.Deliver(context.Background(), "alice", "", strings.NewReader("Subject: new\r\n\r\nnew\r\n")); err != nil {
		t.Fatal(err)
	}
	// Measured from the delivery's return (the message is stored and
	// announced) to the EXISTS: the bound is 100 ms.
	delivered := time.Now()
	c.Conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	c.Expect("* 3 EXISTS")
	if d := time.Since(delivered); d > 100*time.Millisecond {
		t.Errorf("IDLE sent EXISTS %v after the delivery returned, want at most 100ms", d)
	}
	c.Expect("* 3 RECENT")
	pop, err := store.Lock(context.Background(), "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	list, _ := pop.Messages(context.Background())
	if err := pop.Delete(context.Background(), list[0].UID); err != nil {
		t.Fatal(err)
	}
	pop.Close()
	c.Expect("* 1 EXPUNGE")
	c.Send("DONE")
	if _, tagged := c.until("c"); !strings.HasPrefix(tagged, "OK") {
		t.Errorf("IDLE = %q", tagged)
	}
	// A file dropped into new/ by another program shows up at NOOP.
	home := filepath.Join(store.Dir(), "alice")
	if err := os.WriteFile(filepath.Join(home, "new", "1700000000.x1.host"), []byte("Subject: dropped\n\nx\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if u := c.ok("d NOOP"); !anyContains(u, "* 3 EXISTS") {
		t.Errorf("NOOP after a file was dropped in new/ = %q", u)
	}
}

// TestIMAPIndex: FETCH ENVELOPE/BODYSTRUCTURE/INTERNALDATE fill the index
// beside the Maildir, and a later FETCH answers from it without parsing
// the message.
func TestIMAPIndex(t *testing.T) {
	addr, store := imapFixture(t, 1)
	c := imapLogin(t, addr)
	c.ok("b SELECT INBOX")
	u := c.ok("c FETCH 1 (ENVELOPE BODYSTRUCTURE INTERNALDATE)")
	if !anyContains(u, `"1"`) {
		t.Fatalf("FETCH = %q", u)
	}
	mb, err := store.Mailbox(context.Background(), "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	msgs, _ := mb.Messages(context.Background())
	e, ok := mb.Cached(msgs[0])
	// The size is in the file's name; the date, looked up for the
	// INTERNALDATE, is kept.
	if !ok || e.Date == 0 || !strings.Contains(string(e.Envelope), `"1"`) || len(e.Structure) == 0 {
		t.Fatalf("index entry after FETCH = %+v, %v", e, ok)
	}
	// What the index says is what FETCH answers.
	e.Envelope = []byte(`(NIL "from the index" NIL NIL NIL NIL NIL NIL NIL NIL)`)
	if err := mb.Cache(msgs[0], e); err != nil {
		t.Fatal(err)
	}
	if u := c.ok("d FETCH 1 ENVELOPE"); !anyContains(u, "from the index") {
		t.Errorf("FETCH ENVELOPE with an index entry = %q", u)
	}
	if _, err := os.Stat(filepath.Join(store.Dir(), "alice", "plumb-index")); err != nil {
		t.Errorf("no index beside the Maildir: %v", err)
	}
}

// TestIMAPCondStore: mod-sequences from the index, raised by a flag
// change through IMAP and by one made through the store directly.
func TestIMAPCondStore(t *testing.T) {
	addr, store := imapFixture(t, 2)
	c := imapLogin(t, addr)
	if u := c.ok("b SELECT INBOX (CONDSTORE)"); !anyContains(u, "[HIGHESTMODSEQ 2]") {
		t.Fatalf("SELECT (CONDSTORE) = %q", u)
	}
	if u := c.ok(`c STORE 1 +FLAGS (\Seen)`); !anyContains(u, "MODSEQ (3)") {
		t.Errorf("STORE = %q, want MODSEQ (3)", u)
	}
	mb, _ := store.Mailbox(context.Background(), "alice", "")
	msgs, _ := mb.Messages(context.Background())
	if err := mb.SetFlags(context.Background(), msgs[1].UID, "F"); err != nil {
		t.Fatal(err)
	}
	if u := c.ok("d NOOP"); !anyContains(u, `* 2 FETCH (UID 2 FLAGS (\Flagged \Recent) MODSEQ (4))`) {
		t.Errorf("NOOP after a flag change elsewhere = %q", u)
	}
	if u := c.ok("e UID FETCH 1:* (FLAGS) (CHANGEDSINCE 3)"); len(u) != 1 || !anyContains(u, "UID 2") {
		t.Errorf("UID FETCH CHANGEDSINCE 3 = %q", u)
	}
	if u := c.ok("f STATUS INBOX (HIGHESTMODSEQ)"); !anyContains(u, "HIGHESTMODSEQ 4") {
		t.Errorf("STATUS = %q", u)
	}
}
