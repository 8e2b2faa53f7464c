package imap

import (
	"context"
	"slices"
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
