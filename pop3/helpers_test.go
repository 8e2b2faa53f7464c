package pop3

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

var quietLog = slog.New(slog.DiscardHandler)

// testServer runs a Server with a MemoryBackend holding alice
// (password "secret", APOP secret "tanstaafl") and two messages, and
// bob (password "pw with spaces") with none.
type testServer struct {
	*Server
	b    *MemoryBackend
	addr string
}

func newTestBackend() *MemoryBackend {
	b := NewMemoryBackend()
	b.AddUser("alice", "secret", "tanstaafl")
	b.AddUser("bob", "pw with spaces", "")
	b.Deliver("alice", "Subject: one\r\n\r\nfirst body\r\n")
	b.Deliver("alice", "Subject: two\n\n.dotted line\nline 2\nline 3\n..\n")
	return b
}

// startServer serves on a loopback port (on ln's when ln is not nil)
// until the test ends.
func startServer(t *testing.T, ln net.Listener, configure func(*Server)) *testServer {
	t.Helper()
	b := newTestBackend()
	s := &Server{Backend: b, Logger: quietLog}
	if configure != nil {
		configure(s)
	}
	return &testServer{Server: s, b: b, addr: testkit.Serve(t, s, ln)}
}

// dialPOP connects and reads the greeting.
func dialPOP(t *testing.T, addr string) *testkit.Transcript {
	t.Helper()
	c := testkit.Dial(t, addr)
	c.Expect("+OK POP3 server ready")
	return c
}

// do sends a command and checks that the first reply line starts with prefix.
func do(c *testkit.Transcript, cmd, prefix string) string {
	c.Send(cmd)
	return c.Expect(prefix)
}

// multi reads a multi-line body up to ".", returning the raw lines.
func multi(c *testkit.Transcript) []string {
	var out []string
	for {
		l := c.Line()
		if l == "." {
			return out
		}
		out = append(out, l)
	}
}

func login(c *testkit.Transcript) {
	do(c, "USER alice", "+OK")
	do(c, "PASS secret", "+OK Logged in, 2 messages")
}

// dialClient connects a Client to addr, closed when the test ends.
func dialClient(t *testing.T, addr string) *Client {
	t.Helper()
	c, err := Dial(context.Background(), addr)
	if err != nil {
		t.Fatalf("Dial(%s) = %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// gatedBackend holds every RETR at the gate: the busy command of the
// conformance test.
type gatedBackend struct {
	*MemoryBackend
	gate *testkit.Gate
}

func (b gatedBackend) Login(ctx context.Context, c ConnInfo, user, pass string) (Maildrop, error) {
	d, err := b.MemoryBackend.Login(ctx, c, user, pass)
	if err != nil {
		return nil, err
	}
	return gatedDrop{d, b.gate}, nil
}

type gatedDrop struct {
	Maildrop
	gate *testkit.Gate
}

func (d gatedDrop) Open(ctx context.Context, uid string) (io.ReadCloser, error) {
	if err := d.gate.Wait(ctx); err != nil {
		return nil, err
	}
	return d.Maildrop.Open(ctx, uid)
}

// nopConn is a net.Conn that does nothing, for a Client reading from a buffer.
type nopConn struct{ net.Conn }

func (nopConn) SetReadDeadline(time.Time) error { return nil }
func (nopConn) Close() error                    { return nil }
