package imap

import (
	"context"
	"strings"
	"testing"

	"github.com/plumbnet/plumb/internal/testkit"
)

// TestIdlePipelined: a command the client sends right behind DONE, in
// the same packet, is read and answered after IDLE lent its buffers
// back, and a long command line after that still reads whole.
func TestIdlePipelined(t *testing.T) {
	_, addr := newTestServer(t, "Subject: 1\r\n\r\n1\r\n")
	s := login(t, addr)
	s.ok("a SELECT INBOX")
	s.Send("b IDLE")
	s.Expect("+ idling")
	s.Write("DONE\r\nc FETCH 1 (FLAGS)\r\nd NOOP\r\n")
	if _, tagged := s.until("b"); !strings.HasPrefix(tagged, "OK") {
		t.Errorf("IDLE = %q", tagged)
	}
	if u, tagged := s.until("c"); !strings.HasPrefix(tagged, "OK") || !has(u, "* 1 FETCH (FLAGS (\\Recent))") {
		t.Errorf("FETCH behind DONE = %q %q", u, tagged)
	}
	if _, tagged := s.until("d"); !strings.HasPrefix(tagged, "OK") {
		t.Errorf("NOOP behind DONE = %q", tagged)
	}
	long := "e SEARCH " + strings.Repeat("NOT SEEN ", 1000) + "ALL"
	if u := s.ok(long); !has(u, "* SEARCH") {
		t.Errorf("a long SEARCH after IDLE = %q", u)
	}
	s.Send("f IDLE")
	s.Expect("+ idling")
	s.Send("DONE")
	if _, tagged := s.until("f"); !strings.HasPrefix(tagged, "OK") {
		t.Errorf("second IDLE = %q", tagged)
	}
}

// syncCounting counts the SyncFlags calls on the mailboxes it opens.
type syncCounting struct {
	*MemoryBackend
	syncs chan int
}

type syncSession struct {
	Session
	b *syncCounting
}

type syncMailbox struct {
	Mailbox
	b *syncCounting
}

func (b *syncCounting) Login(ctx context.Context, c ConnInfo, user, pass string) (Session, error) {
	s, err := b.MemoryBackend.Login(ctx, c, user, pass)
	return &syncSession{s, b}, err
}

func (s *syncSession) Select(ctx context.Context, name string) (Mailbox, error) {
	m, err := s.Session.Select(ctx, name)
	return &syncMailbox{m, s.b}, err
}

func (m *syncMailbox) SyncFlags(ctx context.Context) error {
	m.b.syncs <- 1
	return nil
}

// TestStoreSyncsOnce: a STORE on many messages syncs its flag changes
// once, before its OK; one that changes nothing does not sync.
func TestStoreSyncsOnce(t *testing.T) {
	be := &syncCounting{MemoryBackend: NewMemoryBackend(), syncs: make(chan int, 100)}
	be.AddUser("alice", "pw")
	for range 5 {
		be.Deliver("alice", "INBOX", []byte("Subject: x\r\n\r\nx\r\n"))
	}
	addr := testkit.Serve(t, &Server{Backend: be}, nil)
	s := login(t, addr)
	s.ok("a SELECT INBOX")
	s.ok(`b STORE 1:5 +FLAGS.SILENT (\Flagged)`)
	if n := len(be.syncs); n != 1 {
		t.Errorf("STORE of 5 messages synced %d times, want once", n)
	}
	s.ok(`c STORE 6:9 +FLAGS (\Flagged)`)
	if n := len(be.syncs); n != 1 {
		t.Errorf("a STORE of no message synced: %d syncs in all, want 1", n)
	}
	s.ok(`d FETCH 1:2 BODY[]`)
	if n := len(be.syncs); n != 2 {
		t.Errorf("a FETCH that set \\Seen: %d syncs in all, want 2", n)
	}
}
