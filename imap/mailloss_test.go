package imap

import (
	"bufio"
	"context"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// TestAppendCutLiteral: a client that hangs up inside an APPEND literal
// stores nothing; the half message is not taken for whole.
func TestAppendCutLiteral(t *testing.T) {
	be := NewMemoryBackend()
	be.AddUser("alice", "pw")
	srv := &Server{Backend: be}
	addr := testkit.Serve(t, srv, nil)
	s := login(t, addr)
	s.Send("b APPEND INBOX {100}")
	s.Expect("+")
	s.Write(strings.Repeat("x", 50))
	s.Conn.Close()
	// Shutdown waits for the session, and so for its APPEND, to end.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	be.mu.Lock()
	defer be.mu.Unlock()
	if n := len(be.users["alice"].mailboxes["INBOX"].msgs); n != 0 {
		t.Errorf("INBOX holds %d messages after a cut APPEND, want 0", n)
	}
}

// deafBackend is a MemoryBackend whose selected mailboxes never signal
// an update, so a session's view stays as it was at SELECT: the stale
// view a session has between another's change and its next look.
type deafBackend struct{ *MemoryBackend }

func (b deafBackend) Login(ctx context.Context, c ConnInfo, user, pass string) (Session, error) {
	s, err := b.MemoryBackend.Login(ctx, c, user, pass)
	if err != nil {
		return nil, err
	}
	return deafSession{s.(*memSession)}, nil
}

type deafSession struct{ *memSession }

func (s deafSession) Select(ctx context.Context, name string) (Mailbox, error) {
	mb, err := s.memSession.Select(ctx, name)
	if err != nil {
		return nil, err
	}
	return deafMailbox{mb.(*memHandle)}, nil
}

type deafMailbox struct{ *memHandle }

func (deafMailbox) Updates() <-chan struct{} { return nil }

// TestStoreStaleView: a session whose view predates another's
// +FLAGS \Flagged adds \Seen; both flags end up set, neither change
// overwrites the other.
func TestStoreStaleView(t *testing.T) {
	be := NewMemoryBackend()
	be.AddUser("alice", "pw")
	if _, err := be.Deliver("alice", "INBOX", []byte("Subject: 1\r\n\r\n1\r\n")); err != nil {
		t.Fatal(err)
	}
	addr := testkit.Serve(t, &Server{Backend: deafBackend{be}}, nil)
	a, b := login(t, addr), login(t, addr)
	a.ok("s SELECT INBOX")
	b.ok("s SELECT INBOX")
	a.ok(`f STORE 1 +FLAGS (\Flagged \Deleted)`)
	b.ok(`g STORE 1 +FLAGS (\Seen)`) // b still sees no flags
	b.ok(`h STORE 1 -FLAGS (\Deleted)`)
	a.ok(`i FETCH 1 BODY[]`) // the implicit \Seen, from a's stale view
	be.mu.Lock()
	got := be.users["alice"].mailboxes["INBOX"].msgs[0].flags
	be.mu.Unlock()
	if want := []string{FlagFlagged, FlagSeen}; !slices.Equal(got, want) {
		t.Errorf("flags = %q, want %q", got, want)
	}
}

// TestFetchTooLarge: a message over the size readMessage reads whole
// gets NO [LIMIT] for the items that parse it, not an answer from a
// cut-off copy; BODY[] still streams it whole.
func TestFetchTooLarge(t *testing.T) {
	be := NewMemoryBackend()
	be.AddUser("alice", "pw")
	big := "Subject: big\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n" + strings.Repeat("x", 300) + "\r\n--b--\r\n"
	if _, err := be.Deliver("alice", "INBOX", []byte(big)); err != nil {
		t.Fatal(err)
	}
	addr := testkit.Serve(t, &Server{Backend: be, MaxLiteralSize: 100}, nil)
	s := login(t, addr)
	s.ok("b SELECT INBOX")
	for _, item := range []string{"BODYSTRUCTURE", "BODY.PEEK[HEADER]", "BODY.PEEK[1]"} {
		if u, tagged := s.run("c FETCH 1 " + item); !strings.HasPrefix(tagged, "NO [LIMIT]") || has(u, "FETCH") {
			t.Errorf("FETCH %s of a message over the limit = %q, %q; want NO [LIMIT] and no answer", item, u, tagged)
		}
	}
	s.Send("d FETCH 1 BODY.PEEK[]")
	s.Expect("* 1 FETCH (BODY[] {" + strconv.Itoa(len(big)) + "}")
	s.until("d")
	s.ok("e NOOP")
}

type failingReader struct{ data string }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.data == "" {
		return 0, errors.New("disk on fire")
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// TestCRLFReaderError: a read error inside a line is an error, not the
// message's end with a CRLF made up after the cut.
func TestCRLFReaderError(t *testing.T) {
	_, err := io.ReadAll(&crlfReader{r: bufio.NewReader(&failingReader{data: "Subject: x\n\nhalf a li"})})
	if err == nil || err.Error() != "disk on fire" {
		t.Errorf("ReadAll = %v, want the read error", err)
	}
}

// TestShutdownEndsStartTLSHandshake: a client that sends STARTTLS and
// never starts its handshake holds no command, so Shutdown ends it at
// once rather than after DefaultTLSTimeout.
func TestShutdownEndsStartTLSHandshake(t *testing.T) {
	srvCfg, _ := testkit.TLS(t)
	be := NewMemoryBackend()
	be.AddUser("alice", "pw")
	srv := &Server{Backend: be, TLSConfig: srvCfg}
	addr := testkit.Serve(t, srv, nil)
	s := dial(t, addr)
	s.Send("a STARTTLS")
	s.Expect("a OK")
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with a client stalled in its STARTTLS handshake = %v, want nil", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Shutdown took %v with a stalled handshake, want it prompt", d)
	}
	if !s.Closed(2 * time.Second) {
		t.Errorf("stalled STARTTLS session still open after Shutdown")
	}
}

// TestClientStreamCutLiteral: FetchTo's writer sees a body the server
// cut off as io.ErrUnexpectedEOF, not as a complete message.
func TestClientStreamCutLiteral(t *testing.T) {
	var sunk error
	rr := respReader{br: bufioReader("* 1 FETCH (BODY[] {100}\r\n" + strings.Repeat("x", 50)), maxResp: 1 << 16, maxLiteral: 1 << 16,
		sink: func(item string, r io.Reader) error {
			_, sunk = io.Copy(io.Discard, r)
			return sunk
		}}
	if _, err := rr.read(); err == nil {
		t.Errorf("a response cut inside its literal read without an error")
	}
	if sunk != io.ErrUnexpectedEOF {
		t.Errorf("the sink read the cut literal with %v, want io.ErrUnexpectedEOF", sunk)
	}
}

func TestSearchTooLargeIsNo(t *testing.T) {
	be := NewMemoryBackend()
	be.AddUser("alice", "pw")
	if _, err := be.Deliver("alice", "INBOX", []byte("Subject: small\r\n\r\nhello\r\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := be.Deliver("alice", "INBOX", []byte("Subject: big\r\n\r\n"+strings.Repeat("x", 300)+"\r\n")); err != nil {
		t.Fatal(err)
	}
	addr := testkit.Serve(t, &Server{Backend: be, MaxLiteralSize: 100}, nil)
	s := login(t, addr)
	s.ok("b SELECT INBOX")
	// The big message cannot be read whole: neither BODY nor NOT BODY
	// may claim an answer about it.
	for _, q := range []string{`BODY "xxx"`, `NOT BODY "xxx"`} {
		if u, tagged := s.run("c SEARCH " + q); !strings.HasPrefix(tagged, "NO [LIMIT]") || has(u, "SEARCH") {
			t.Errorf("SEARCH %s over a message past the limit = %q, %q; want NO [LIMIT] and no answer", q, u, tagged)
		}
	}
	// Keys that need no body still answer.
	if u := s.ok(`d SEARCH LARGER 100`); !has(u, "* SEARCH 2") {
		t.Errorf("SEARCH LARGER 100 = %q, want * SEARCH 2", u)
	}
}
