package smtp

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// startServer serves srv on a loopback port until the test ends.
func startServer(t *testing.T, srv *Server) string {
	t.Helper()
	return startServerOn(t, srv, nil)
}

// startServerOn is startServer with the accepted connections wrapped,
// e.g. to make them look as if they came from afar (testkit.FromAfar).
func startServerOn(t *testing.T, srv *Server, wrap func(net.Conn) net.Conn) string {
	t.Helper()
	if srv.Hostname == "" {
		srv.Hostname = "mx.test"
	}
	var ln net.Listener = testkit.Listen(t)
	if wrap != nil {
		ln = testkit.Listener{Listener: ln, Wrap: wrap}
	}
	return testkit.Serve(t, srv, ln)
}

var fromAfar = testkit.FromAfar

// session is a raw client for transcript tests, with SMTP's prefix checks.
type session struct {
	*testkit.Transcript
	t *testing.T
}

func dialSession(t *testing.T, addr string) *session {
	t.Helper()
	s := &session{Transcript: testkit.Dial(t, addr), t: t}
	s.expect("220 ")
	return s
}

// send writes raw text (add CRLF yourself).
func (s *session) send(text string) {
	s.t.Helper()
	s.Write(text)
}

// expect reads a reply and fails unless its last line starts with prefix.
func (s *session) expect(prefix string) string {
	s.t.Helper()
	_, r := s.Reply()
	last := r[strings.LastIndexByte(r, '\n')+1:]
	if !strings.HasPrefix(last, prefix) {
		s.t.Fatalf("reply = %q, want %q...", r, prefix)
	}
	return r
}

// cmd sends one command line and expects a reply starting with prefix.
func (s *session) cmd(line, prefix string) string {
	s.t.Helper()
	s.send(line + "\r\n")
	return s.expect(prefix)
}

// closed reports whether the server closed the connection.
func (s *session) closed() bool { return s.Closed(5 * time.Second) }

// body returns a stored message without the Received: header the server added.
func body(t *testing.T, data []byte) string {
	t.Helper()
	s := string(data)
	if !strings.HasPrefix(s, "Received: from ") {
		t.Fatalf("message does not start with a Received: header: %q", s)
	}
	// The header's continuation lines start with a tab.
	i := 0
	for {
		j := strings.Index(s[i:], "\r\n")
		if j < 0 {
			t.Fatalf("unterminated Received: header in %q", s)
		}
		i += j + 2
		if i >= len(s) || s[i] != '\t' {
			return s[i:]
		}
	}
}

// lockedBuffer is a log destination a test reads while the server
// writes to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// readHook calls hook before each Read.
type readHook struct {
	net.Conn
	hook func()
}

func (r readHook) Read(p []byte) (int, error) {
	r.hook()
	return r.Conn.Read(p)
}
