package lifecycle_test

import (
	"bufio"
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
	"github.com/plumbnet/plumb/internal/testkit"
)

// lineServer is the smallest protocol on a Loop: it greets, answers
// "busy" after its gate opens, and says goodbye when woken while idle.
type lineServer struct {
	loop lifecycle.Loop
	gate *testkit.Gate
}

func (s *lineServer) Serve(l net.Listener) error {
	return s.loop.Serve(l, func(c net.Conn) lifecycle.Session { return &lineSession{srv: s, c: c} })
}
func (s *lineServer) Shutdown(ctx context.Context) error { return s.loop.Shutdown(ctx) }
func (s *lineServer) Close() error                       { return s.loop.Close() }

type lineSession struct {
	srv  *lineServer
	c    net.Conn
	mu   sync.Mutex
	idle bool
}

func (s *lineSession) Serve() {
	defer s.c.Close()
	r := bufio.NewReader(s.c)
	s.c.Write([]byte("hello\r\n"))
	for {
		// Marked idle first, then Closing checked outside the lock: a
		// Shutdown between the two either is seen here or wakes the read.
		s.mu.Lock()
		s.idle = true
		s.mu.Unlock()
		if s.srv.loop.Closing() {
			s.c.Write([]byte("bye\r\n"))
			return
		}
		line, err := r.ReadString('\n')
		s.mu.Lock()
		s.idle = false
		s.mu.Unlock()
		if err != nil {
			if s.srv.loop.Closing() {
				s.c.Write([]byte("bye\r\n"))
			}
			return
		}
		if line == "busy\r\n" {
			if s.srv.gate.Wait(s.srv.loop.Context()) != nil {
				return
			}
			s.c.Write([]byte("ok\r\n"))
		}
	}
}

func (s *lineSession) Wake() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.idle {
		s.c.SetReadDeadline(time.Now())
	}
}

func (s *lineSession) Close() { s.c.Close() }

func TestConformance(t *testing.T) {
	testkit.Conformance(t, testkit.Target{
		New: func(t *testing.T, gate *testkit.Gate) testkit.StreamServer {
			return &lineServer{gate: gate}
		},
		Greet:  func(t *testing.T, c *testkit.Transcript) { c.Expect("hello") },
		Busy:   func(t *testing.T, c *testkit.Transcript) { c.Send("busy") },
		Finish: func(t *testing.T, c *testkit.Transcript) { c.Expect("ok") },
	})
}

func TestTimeout(t *testing.T) {
	for _, tc := range []struct{ v, def, want time.Duration }{
		{0, time.Minute, time.Minute},
		{-1, time.Minute, 0},
		{time.Second, time.Minute, time.Second},
	} {
		if got := lifecycle.Timeout(tc.v, tc.def); got != tc.want {
			t.Errorf("Timeout(%v, %v) = %v, want %v", tc.v, tc.def, got, tc.want)
		}
	}
	if !lifecycle.Deadline(0).IsZero() {
		t.Errorf("Deadline(0) = %v, want the zero time", lifecycle.Deadline(0))
	}
}
