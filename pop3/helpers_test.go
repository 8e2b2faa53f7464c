package pop3

import (
	"crypto/tls"
	"net"
	"time"
)

func testClientTLS() *tls.Config { return &tls.Config{InsecureSkipVerify: true} }

func listenLoopback() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

// nopConn is a net.Conn that does nothing, for a Client reading from a buffer.
type nopConn struct{ net.Conn }

func (nopConn) SetDeadline(time.Time) error { return nil }
