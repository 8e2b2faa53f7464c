package ftp

import (
	"net"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// wrappedConn is a listener's wrapper that offers the socket under it
// with NetConn, as crypto/tls and plumb's daemon do.
type wrappedConn struct{ net.Conn }

func (w *wrappedConn) NetConn() net.Conn { return w.Conn }

func TestPeerClosedThroughWrapper(t *testing.T) {
	ln := testkit.Listen(t)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w := &wrappedConn{s}
	if peerClosed(w) {
		t.Fatal("peerClosed before the client closed = true")
	}
	c.Close()
	testkit.Eventually(t, 5*time.Second, "peerClosed through a wrapper after the client closed", func() bool { return peerClosed(w) })
}
