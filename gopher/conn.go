package gopher

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
	"github.com/plumbnet/plumb/internal/wire"
)

// recordHandshake is the first byte of a TLS connection: a handshake record.
const recordHandshake = 0x16

// conn is one connection: one request and its response (RFC 1436 has
// no second request on a connection).
type conn struct {
	s      *Server
	raw    net.Conn         // the accepted connection, for closing
	w      *lifecycle.Waker // raw, or the TLS connection over it; waiting for the request
	br     *bufio.Reader
	bw     *bufio.Writer
	ctx    context.Context // ends with the connection, and when the server closes
	cancel context.CancelFunc
	tls    *tls.ConnectionState // nil unless TLS
}

func newConn(s *Server, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(s.loop.Context())
	c := &conn{s: s, raw: nc, ctx: ctx, cancel: cancel,
		w: lifecycle.NewWaker(nc, lifecycle.Timeout(s.WriteTimeout, DefaultWriteTimeout))}
	c.br = bufio.NewReaderSize(nc, 2048)
	c.bw = bufio.NewWriterSize(c.w, 32<<10)
	return c
}

// Wake ends the connection if it is still waiting for its request (or
// its TLS handshake).
func (c *conn) Wake() { c.w.Wake() }

// Close closes the connection at once (with no TLS close_notify).
func (c *conn) Close() { c.raw.Close() }

func (c *conn) remote() string { return c.raw.RemoteAddr().String() }

// Serve reads the request, answers it and closes the connection.
func (c *conn) Serve() {
	log := c.s.logger()
	defer func() {
		if v := recover(); v != nil {
			log.Error("gopher: panic in session", "remote", c.remote(), "panic", v, "stack", string(debug.Stack()))
			c.bw.Reset(c.w) // drop a half-written answer
			c.writeError("Server error")
			c.bw.Flush()
		}
		c.cancel()
		c.Close()
	}()
	line, err := c.request()
	if err != nil {
		if errors.Is(err, wire.ErrLineTooLong) {
			c.writeError(errTooLong.Error())
			c.finish()
			return
		}
		log.Debug("gopher: no request", "remote", c.remote(), "err", err)
		return
	}
	c.respond(line)
	c.finish()
}

// request waits for the request line: first for TLS, on an implicit-TLS
// connection or one that starts with a handshake record, then for the
// line itself. Shutdown ends the wait.
func (c *conn) request() (string, error) {
	c.w.SetWaiting(true)
	defer c.w.SetWaiting(false)
	if c.s.loop.Closing() {
		return "", ErrServerClosed
	}
	if tc, ok := c.raw.(*tls.Conn); ok {
		if err := c.handshake(tc); err != nil {
			return "", err
		}
	} else if cfg := c.s.ListenerTLSConfig(); cfg != nil {
		c.w.SetReadDeadline(lifecycle.Deadline(lifecycle.Timeout(c.s.IdleTimeout, DefaultIdleTimeout)))
		b, err := c.br.Peek(1)
		if err != nil {
			return "", err
		}
		if b[0] == recordHandshake {
			if err := c.handshake(tls.Server(bufferedConn{c.raw, c.br}, cfg)); err != nil {
				return "", err
			}
		}
	}
	lr := wire.NewReader(c.br)
	lr.Lenient = true // RFC 1436 asks for CRLF; clients typed by hand send LF
	lr.MaxLine = lifecycle.OrDefault(c.s.MaxSelectorLength, DefaultMaxSelectorLength) + 2
	lr.Conn = c.w
	lr.IdleTimeout = lifecycle.WireTimeout(c.s.IdleTimeout, DefaultIdleTimeout)
	lr.LineTimeout = lifecycle.WireTimeout(c.s.LineTimeout, DefaultLineTimeout)
	line, err := lr.ReadLine()
	if err != nil && c.s.loop.Closing() {
		return "", ErrServerClosed
	}
	return line, err
}

// bufferedConn reads what was peeked at before the rest of the connection.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// handshake completes a TLS handshake within TLSTimeout; the
// connection is read and written through tc from then on. The deadline
// goes through the Waker, so a Shutdown during the handshake ends it.
func (c *conn) handshake(tc *tls.Conn) error {
	c.w.SetDeadline(lifecycle.Deadline(lifecycle.Timeout(c.s.TLSTimeout, DefaultTLSTimeout)))
	if c.s.loop.Closing() {
		return ErrServerClosed
	}
	if err := tc.HandshakeContext(c.ctx); err != nil {
		return err
	}
	c.w.SetDeadline(time.Time{})
	st := tc.ConnectionState()
	c.tls = &st
	c.w.SetConn(tc)
	c.br = bufio.NewReaderSize(tc, 2048)
	return nil
}

// finish sends what is buffered and ends the connection: a half close
// first, so that a request line the client sent more after (a Gopher+
// field) does not make the kernel reset the connection and lose the
// end of the response.
func (c *conn) finish() {
	if c.bw.Flush() != nil {
		return
	}
	tcp := c.raw
	if tc, ok := c.w.Conn().(*tls.Conn); ok {
		tc.CloseWrite() // close_notify
		tcp = tc.NetConn()
	}
	if cw, ok := tcp.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		tcp.SetReadDeadline(time.Now().Add(time.Second))
		io.CopyN(io.Discard, tcp, 64<<10)
	}
}

// host and port name this server in menus: the configured ones, or
// the address the client connected to.
func (c *conn) hostPort() (string, int) {
	host, port := c.s.Hostname, c.s.Port
	if host != "" && port != 0 {
		return host, port
	}
	h, p, err := net.SplitHostPort(c.raw.LocalAddr().String())
	if err != nil {
		h, p = "localhost", strconv.Itoa(DefaultPort)
	}
	if host == "" {
		host = h
	}
	if port == 0 {
		port, _ = strconv.Atoi(p)
	}
	return host, port
}

func (c *conn) writeError(msg string) {
	c.bw.WriteString(errorItem(msg).Line())
	c.bw.WriteString("\r\n.\r\n")
}

// fail answers a failed backend call: "not found" and "access denied"
// are said; anything else is logged, and the client hears a generic
// error, never the error's text.
func (c *conn) fail(err error, what, selector string) {
	switch {
	case errors.Is(err, os.ErrNotExist):
		c.writeError("Not found")
	case errors.Is(err, os.ErrPermission):
		c.writeError("Access denied")
	case errors.Is(err, context.DeadlineExceeded) && c.ctx.Err() == nil:
		c.s.logger().Warn("gopher: request timed out", "selector", selector, "remote", c.remote())
		c.writeError("The request took too long")
	default:
		logf := c.s.logger().Error
		if c.ctx.Err() != nil {
			logf = c.s.logger().Debug
		}
		logf("gopher: "+what, "selector", selector, "remote", c.remote(), "err", err)
		c.writeError("Server error")
	}
}
