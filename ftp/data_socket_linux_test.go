package ftp

import (
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
)

// sockopt reads an integer socket option of c's socket.
func sockopt(t *testing.T, c net.Conn, level, opt int) int {
	t.Helper()
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var serr error
	rc.Control(func(fd uintptr) { v, serr = syscall.GetsockoptInt(int(fd), level, opt) })
	if serr != nil {
		t.Fatal(serr)
	}
	return v
}

// Data connections are plain TCP (not MPTCP) without keepalive, in both
// modes: a connection for one transfer needs neither.
func TestDataConnectionSockets(t *testing.T) {
	type seen struct{ proto, keepalive int }
	var mu sync.Mutex
	var got []seen
	ts := startServer(t, func(s *Server) {
		s.AdmitDataConn = func(control, data net.Conn) (net.Conn, error) {
			mu.Lock()
			got = append(got, seen{sockopt(t, data, syscall.SOL_SOCKET, syscall.SO_PROTOCOL),
				sockopt(t, data, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)})
			mu.Unlock()
			return data, nil
		}
	})
	ts.home.WriteFile("a.txt", []byte("a"))
	c := dialT(t, ts.addr)
	c.login("alice", "secret")
	c.retr("RETR a.txt")
	c.activeRetr("RETR a.txt")
	mu.Lock()
	defer mu.Unlock()
	for i, s := range got {
		if s.proto != syscall.IPPROTO_TCP || s.keepalive != 0 {
			t.Errorf("data connection %d (%s): SO_PROTOCOL %d, SO_KEEPALIVE %d; want TCP (%d) without keepalive",
				i+1, []string{"passive", "active"}[i], s.proto, s.keepalive, syscall.IPPROTO_TCP)
		}
	}
	if len(got) != 2 {
		t.Errorf("saw %d data connections, want 2", len(got))
	}
}

// A PASV or EPSV reply is held passiveReplyHold after the command, so
// that curl 7.88 is waiting for it (and does not stall a second).
func TestPassiveReplyHeld(t *testing.T) {
	ts := startServer(t, nil)
	c := dialT(t, ts.addr)
	c.login("alice", "secret")
	for _, verb := range []string{"EPSV", "PASV"} {
		start := time.Now()
		c.Do(verb, map[string]int{"EPSV": 229, "PASV": 227}[verb])
		if d := time.Since(start); d < passiveReplyHold {
			t.Errorf("%s answered after %v, want at least %v", verb, d, passiveReplyHold)
		}
	}
}
