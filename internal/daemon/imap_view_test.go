package daemon

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/imap"
)

// idleClient is a bare IMAP client that holds little memory of its
// own, so that what the test measures is the server's.
type idleClient struct {
	c  net.Conn
	br *bufio.Reader
}

func (c *idleClient) until(t *testing.T, prefix string) string {
	t.Helper()
	c.c.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		line, err := c.br.ReadString('\n')
		if err != nil {
			t.Fatalf("waiting for %q: %v", prefix, err)
		}
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
}

func heapAndStacks() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse + ms.StackInuse
}

// TestIMAPIdleSessionMemory: sessions in IDLE on one mailbox of 1,000
// messages cost at most 64 KiB each (the bound: they share
// the mailbox's listing rather than hold a copy each), client side
// included, and a delivery reaches every one of them.
func TestIMAPIdleSessionMemory(t *testing.T) {
	const msgs, sessions = 1000, 100
	addr, store := imapFixture(t, msgs)
	open := func() *idleClient {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		c := &idleClient{c: nc, br: bufio.NewReaderSize(nc, 512)}
		c.until(t, "* OK")
		fmt.Fprintf(nc, "a LOGIN alice alice-password\r\nb SELECT INBOX\r\nc IDLE\r\n")
		c.until(t, "b OK")
		c.until(t, "+ ")
		return c
	}
	first := open() // the shared listing is made here, not per session
	before := heapAndStacks()
	clients := []*idleClient{first}
	for range sessions {
		clients = append(clients, open())
	}
	per := (int64(heapAndStacks()) - int64(before)) / sessions
	if p := os.Getenv("IDLEPROF"); p != "" {
		f, _ := os.Create(p)
		pprof.Lookup("heap").WriteTo(f, 0)
		f.Close()
	}
	t.Logf("%d B a session in IDLE (server and client)", per)
	if per > 64<<10 {
		t.Errorf("a session in IDLE costs %d bytes, want at most 64 KiB", per)
	}
	start := time.Now()
	if _, err := store.Deliver(context.Background(), "alice", "", strings.NewReader("Subject: wake\r\n\r\nup\r\n")); err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	for _, c := range clients {
		if line := c.until(t, fmt.Sprintf("* %d ", msgs+1)); !strings.Contains(line, "EXISTS") {
			t.Fatalf("after the delivery: %q, want EXISTS", line)
		}
		waits = append(waits, time.Since(start))
	}
	slices.Sort(waits)
	t.Logf("EXISTS after the delivery: median %v, slowest %v", waits[len(waits)/2], waits[len(waits)-1])
	for _, c := range clients {
		fmt.Fprintf(c.c, "DONE\r\nd LOGOUT\r\n")
		c.until(t, "c OK")
	}
}

// TestIMAPDateLookedUpLater: a SELECT leaves the internal dates the
// index lacks unread (a stat a message); FETCH INTERNALDATE and SEARCH
// BEFORE still find them, from the file.
func TestIMAPDateLookedUpLater(t *testing.T) {
	addr, store := imapFixture(t, 2)
	p := filepath.Join(store.Dir(), "alice", "new", "978307200.x1.host")
	if err := os.WriteFile(p, []byte("Subject: old\n\nold\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2001, 1, 1, 12, 0, 0, 0, time.UTC)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	c := imapLogin(t, addr)
	c.ok("b SELECT INBOX")
	if u := c.ok("c SEARCH BEFORE 2-Jan-2001"); len(u) != 1 || u[0] != "* SEARCH 3" {
		t.Errorf("SEARCH BEFORE = %q, want message 3", u)
	}
	if u := c.ok("d FETCH 3 INTERNALDATE"); !anyContains(u, `-Jan-2001 `) {
		t.Errorf("FETCH INTERNALDATE = %q", u)
	}
}

// TestIMAPIdleSeesFileDroppedBehind: a session in IDLE hears of a file
// another program drops into new/ within the store's watch poll (a
// second), not the 30-second IDLE poll.
func TestIMAPIdleSeesFileDroppedBehind(t *testing.T) {
	addr, store := imapFixture(t, 2)
	c := imapLogin(t, addr)
	c.ok("b SELECT INBOX")
	c.Send("c IDLE")
	c.Expect("+ ")
	p := filepath.Join(store.Dir(), "alice", "new", "1700000000.x1.host")
	if err := os.WriteFile(p, []byte("Subject: dropped\n\nx\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	c.Expect("* 3 EXISTS")
	c.Send("DONE")
	if _, tagged := c.until("c"); !strings.HasPrefix(tagged, "OK") {
		t.Errorf("IDLE = %q", tagged)
	}
}

// TestIMAPListingAppended: after a delivery the adapter's listing
// starts where the one before it does, so a session's view of the
// mailbox takes in the new message without a walk over the old ones,
// and two sessions on the folder share the listing.
func TestIMAPListingAppended(t *testing.T) {
	_, store := imapFixture(t, 3)
	ctx := context.Background()
	be := &imapBackend{store: store, log: slog.New(slog.DiscardHandler)}
	s := &imapSession{b: be, user: "alice"}
	a, err := s.Select(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, _ := s.Select(ctx, "INBOX")
	defer b.Close()
	before, err := a.Messages(ctx)
	if err != nil || len(before) != 3 {
		t.Fatalf("Messages = %d, %v", len(before), err)
	}
	if other, _ := b.(imap.SnapshotLister).Snapshot(ctx); &other[0] != &before[0] {
		t.Errorf("two sessions on one folder hold two listings")
	}
	if _, err := store.Deliver(ctx, "alice", "", strings.NewReader("Subject: new\r\n\r\nx\r\n")); err != nil {
		t.Fatal(err)
	}
	after, err := a.(imap.SnapshotLister).Snapshot(ctx)
	if err != nil || len(after) != 4 {
		t.Fatalf("Snapshot after a delivery = %d, %v", len(after), err)
	}
	if &after[0] != &before[0] || after[3].ModSeq == 0 {
		t.Errorf("the listing after a delivery was made afresh (or left the new message unnumbered), not appended to")
	}
}

// TestIMAPKeywords: a keyword is stored as Dovecot stores it (a letter
// in the file name, given in dovecot-keywords), shown by FETCH, allowed
// by PERMANENTFLAGS, and carried by COPY under its name, whatever
// letter it has in the other folder.
func TestIMAPKeywords(t *testing.T) {
	addr, store := imapFixture(t, 2)
	c := imapLogin(t, addr)
	c.ok("b CREATE Other")
	if u := c.ok("c SELECT Other"); !anyContains(u, `\*)] `) {
		t.Errorf("SELECT = %q, want \\* in PERMANENTFLAGS", u)
	}
	c.ok(`c2 APPEND Other (Todo) {7}` + "\r\nx: y\r\n\r\n")
	c.ok("d SELECT INBOX")
	if u := c.ok(`e STORE 2 +FLAGS ($Label1 \Seen)`); !anyContains(u, `FLAGS (\Seen $Label1`) {
		t.Errorf("STORE = %q", u)
	}
	names, _ := filepath.Glob(filepath.Join(store.Dir(), "alice", "cur", "*:2,Sa"))
	b, _ := os.ReadFile(filepath.Join(store.Dir(), "alice", "dovecot-keywords"))
	if len(names) != 1 || string(b) != "0 $Label1\n" {
		t.Errorf("files with Sa: %q, dovecot-keywords %q", names, b)
	}
	c.ok("f COPY 2 Other")
	c.ok("g SELECT Other")
	if u := c.ok("h FETCH 1:* FLAGS"); !anyContains(u, `* 2 FETCH (FLAGS (\Seen $Label1))`) || !anyContains(u, `* 1 FETCH (FLAGS (Todo))`) {
		t.Errorf("FETCH in Other = %q", u)
	}
	if u := c.ok(`i STORE 2 -FLAGS ($label1)`); !anyContains(u, `FLAGS (\Seen)`) {
		t.Errorf("STORE -FLAGS = %q", u)
	}
}

// TestIMAPFetchCRLFFile: a message stored with CRLF line ends is sent
// as the file is, whole and in part, and one with bare LFs in its CRLF
// form, both at their RFC822.SIZE.
func TestIMAPFetchCRLFFile(t *testing.T) {
	addr, store := imapFixture(t, 1) // message 1 has bare LFs
	crlf := "Subject: crlf\r\n\r\n0123456789\r\n"
	if _, err := store.Deliver(context.Background(), "alice", "", strings.NewReader(crlf)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := imap.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(ctx, "alice", "alice-password"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, "INBOX", true); err != nil {
		t.Fatal(err)
	}
	got := map[uint32]map[string]string{}
	err = c.Fetch(ctx, false, imap.SeqSetOf(1, 2), "(BODY.PEEK[] BODY.PEEK[]<17.5>)", func(f *imap.FetchData) error {
		got[f.Seq] = f.Sections
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint32][2]string{
		1: {"Subject: 1\r\nFrom: a@example.org\r\n\r\nbody 1\r\n", " a@ex"},
		2: {crlf, "01234"},
	}
	for seq, w := range want {
		if g := got[seq]; g["BODY[]"] != w[0] || g["BODY[]<17>"] != w[1] {
			t.Errorf("message %d: BODY[] %q, BODY[]<17> %q; want %q, %q", seq, g["BODY[]"], g["BODY[]<17>"], w[0], w[1])
		}
	}
}
