package gopher

import (
	"context"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// TestTLSHandshakeBounded: a client that starts a TLS handshake and
// stalls is cut off at TLSTimeout, and Shutdown does not wait for it.
func TestTLSHandshakeBounded(t *testing.T) {
	server, _ := testkit.TLS(t)
	ts := startServer(t, nil, func(s *Server) { s.TLSConfig = server; s.TLSTimeout = 200 * time.Millisecond })
	c := testkit.Dial(t, ts.addr)
	start := time.Now()
	c.Write("\x16\x03\x01") // a handshake record's start, and nothing more
	if !c.Closed(5 * time.Second) {
		t.Fatal("a stalled handshake still holds its connection")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("closed after %v, want about TLSTimeout (200ms)", d)
	}

	slow := startServer(t, nil, func(s *Server) { s.TLSConfig = server })
	c = testkit.Dial(t, slow.addr)
	c.Write("\x16\x03\x01")
	testkit.Eventually(t, 5*time.Second, "the handshake under way", func() bool { return slow.loop.Sessions() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := slow.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown during a stalled handshake = %v, want it to end the handshake", err)
	}
	if !c.Closed(5 * time.Second) {
		t.Error("the stalled handshake's connection is still open after Shutdown")
	}
}
