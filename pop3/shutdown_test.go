package pop3

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// TestWriteTimeoutEndsStalledRetr: a client that asks for a large
// message and stops reading is dropped at WriteTimeout, so it holds
// neither its maildrop's lock nor Shutdown.
func TestWriteTimeoutEndsStalledRetr(t *testing.T) {
	// Small socket buffers, so that a few megabytes fill them.
	ln := testkit.Listener{Listener: testkit.Listen(t), Wrap: func(c net.Conn) net.Conn {
		c.(*net.TCPConn).SetWriteBuffer(16 << 10)
		return c
	}}
	ts := startServer(t, ln, func(s *Server) { s.WriteTimeout = 300 * time.Millisecond })
	ts.b.Deliver("bob", strings.Repeat(strings.Repeat("x", 78)+"\r\n", 50_000)) // 4 MB
	w := dialPOP(t, ts.addr)
	w.Conn.(*net.TCPConn).SetReadBuffer(16 << 10)
	do(w, "USER bob", "+OK")
	do(w, "PASS pw with spaces", "+OK Logged in, 1 messages")
	do(w, "RETR 1", "+OK 4000000 octets") // and read no more

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown(5s) with a client not reading its RETR = %v after %v, want nil", err, time.Since(start))
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Shutdown with a stalled RETR took %v, want about WriteTimeout (300ms)", d)
	}
	d, err := ts.b.Login(context.Background(), ConnInfo{}, "bob", "pw with spaces")
	if err != nil {
		t.Fatalf("Login(bob) after the stalled session ended = %v, want nil (the lock released)", err)
	}
	d.Close()
}

// TestShutdownEndsAuthContinuation: a client that leaves an AUTH
// exchange waiting for its response is woken by Shutdown, as it would
// be waiting for a command, and told so.
func TestShutdownEndsAuthContinuation(t *testing.T) {
	ts := startServer(t, nil, nil)
	w := dialPOP(t, ts.addr)
	do(w, "AUTH LOGIN", "+ VXNlcm5hbWU6")
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		done <- ts.Shutdown(ctx)
	}()
	w.Expect("-ERR [SYS/TEMP] Server shutting down")
	if !w.Closed(2 * time.Second) {
		t.Error("session open after Shutdown's -ERR in AUTH")
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown(3s) during an AUTH exchange = %v after %v, want nil", err, time.Since(start))
	}
}
