package finger

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"runtime/debug"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
	"github.com/plumbnet/plumb/internal/wire"
)

// conn is one session, a lifecycle.Session of the server's loop: one
// query line, one answer, then the server closes (RFC 1288 section 2.1).
type conn struct {
	s      *Server
	w      *lifecycle.Waker // the connection; waiting while the query line is read
	br     *bufio.Reader
	lr     *wire.Reader
	bw     *bufio.Writer
	ctx    context.Context
	cancel context.CancelFunc
}

func newConn(s *Server, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(s.loop.Context())
	c := &conn{s: s, w: lifecycle.NewWaker(nc, lifecycle.Timeout(s.WriteTimeout, DefaultWriteTimeout)),
		ctx: ctx, cancel: cancel, br: bufio.NewReaderSize(nc, 1024)}
	c.bw = bufio.NewWriterSize(c.w, 8192)
	c.lr = wire.NewReader(c.br)
	c.lr.Lenient = true // RFC 1288 says CRLF; hand-typed queries and old clients send LF
	c.lr.MaxLine = lifecycle.OrDefault(s.MaxLineLength, DefaultMaxLineLength)
	c.lr.Conn = c.w
	c.lr.IdleTimeout = lifecycle.WireTimeout(s.IdleTimeout, DefaultIdleTimeout)
	c.lr.LineTimeout = lifecycle.WireTimeout(s.LineTimeout, DefaultLineTimeout)
	return c
}

// Wake ends the session if it is still waiting for its query; an
// answer in progress finishes.
func (c *conn) Wake() { c.w.Wake() }

// Close closes the connection at once.
func (c *conn) Close() { c.w.Close() }

func (c *conn) remote() string { return c.w.Conn().RemoteAddr().String() }

func (c *conn) info() ConnInfo {
	nc := c.w.Conn()
	return ConnInfo{RemoteAddr: nc.RemoteAddr(), LocalAddr: nc.LocalAddr()}
}

// Serve reads the query, answers it and closes.
func (c *conn) Serve() {
	log := c.s.logger()
	defer func() {
		if v := recover(); v != nil {
			log.Error("finger: panic in session", "remote", c.remote(), "panic", v, "stack", string(debug.Stack()))
			c.bw.Reset(c.w) // drop a half-written answer
			c.text("finger: internal error\n")
		}
		c.bw.Flush()
		c.cancel()
		c.Close()
	}()
	line, err := c.readQuery()
	switch {
	case errors.Is(err, wire.ErrLineTooLong):
		log.Info("finger: query too long; refused", "remote", c.remote())
		// Read the rest (bounded, within the line's deadline), so that
		// closing with it unread does not reset the connection and lose
		// the answer.
		if c.lr.DiscardLine() == nil {
			c.text("finger: query too long\n")
		}
		return
	case errors.Is(err, os.ErrDeadlineExceeded):
		return // idle, slow, or woken by Shutdown: nothing to answer
	case err != nil:
		return
	}
	q, err := ParseQuery(line)
	if err != nil {
		c.text("finger: bad query\n")
		return
	}
	c.answer(q)
}

// readQuery reads the query line, unless the server is closing.
func (c *conn) readQuery() (string, error) {
	c.w.SetWaiting(true)
	defer c.w.SetWaiting(false)
	if c.s.loop.Closing() {
		return "", os.ErrDeadlineExceeded
	}
	return c.lr.ReadLine()
}

// answer writes the answer to q.
func (c *conn) answer(q Query) {
	switch {
	case len(q.Hosts) > 0:
		c.forward(q)
	case q.User == "":
		c.list()
	default:
		c.user(q)
	}
}

func (c *conn) user(q Query) {
	e, err := c.s.Backend.User(c.ctx, c.info(), q.User, q.Verbose)
	switch {
	case errors.Is(err, ErrNoSuchUser):
		c.text("finger: " + q.User + ": no such user.\n")
		return
	case err != nil:
		c.failed("user", err, "user", q.User)
		return
	}
	c.text(formatEntry(e, q.Verbose, c.s.location()))
}

func (c *conn) list() {
	l, ok := c.s.Backend.(Lister)
	if !c.s.ListUsers || !ok {
		c.text("finger: listing of users is not offered here.\n")
		return
	}
	logins, err := l.LoggedIn(c.ctx, c.info())
	if err != nil {
		c.failed("list", err)
		return
	}
	c.text(formatList(logins, c.s.location()))
}

// failed answers a backend failure without its text, and logs it.
func (c *conn) failed(what string, err error, attrs ...any) {
	log := c.s.logger().Error
	if c.ctx.Err() != nil {
		log = c.s.logger().Debug // the server is closing
	}
	log("finger: "+what+" failed", append(attrs, "remote", c.remote(), "err", err)...)
	c.text("finger: temporary failure, try again later.\n")
}

// text writes s made harmless (see Harmless), every line end as CRLF.
func (c *conn) text(s string) {
	h := Harmless([]byte(s))
	// Harmless leaves no CR, so the writer holds nothing back and needs
	// no Close (which would flush the answer's buffer).
	wire.NewCRLFWriter(c.bw).Write(h)
	if len(h) > 0 && h[len(h)-1] != '\n' {
		c.bw.WriteString("\r\n") // the last line ends too
	}
}

func (s *Server) location() *time.Location {
	if s.Location != nil {
		return s.Location
	}
	return time.Local
}
