package ftp

import (
	"net"
	"testing"
	"time"
)

// wrappedConn is a listener's wrapper that offers the socket under it
// with NetConn, as crypto/tls and plumb's daemon do.
type wrappedConn struct{ net.Conn }

func (w *wrappedConn) NetConn() net.Conn { return w.Conn }

func TestPeerClosedThroughWrapper(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
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
	time.Sleep(50 * time.Millisecond)
	if !peerClosed(w) {
		t.Fatal("peerClosed through a wrapper after the client closed = false")
	}
}
