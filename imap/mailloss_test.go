package imap

import (
	"context"
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
