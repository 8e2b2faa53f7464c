package pop3

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime/debug"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
	"github.com/plumbnet/plumb/internal/wire"
)

type state int

const (
	stateAuthorization state = 1 << iota
	stateTransaction
)

// conn is one session, a lifecycle.Session of the server's loop.
type conn struct {
	s      *Server
	br     *bufio.Reader
	lr     *wire.Reader
	bw     *bufio.Writer
	ctx    context.Context // ends with the session, and when the server closes
	cancel context.CancelFunc

	tls       *tls.ConnectionState // nil until a TLS handshake completes
	state     state
	user      string // from USER, waiting for PASS
	timestamp string // the APOP timestamp of the greeting, "" without APOP
	bad       int
	authFails int
	quit      bool

	drop    Maildrop
	msgs    []Message
	deleted []bool

	w *lifecycle.Waker // the connection (replaced by STLS); waiting for a command or SASL response
}

func newConn(s *Server, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(s.loop.Context())
	c := &conn{s: s, ctx: ctx, cancel: cancel, state: stateAuthorization,
		br: bufio.NewReaderSize(nc, 8192), w: lifecycle.NewWaker(nc, lifecycle.Timeout(s.WriteTimeout, DefaultWriteTimeout))}
	c.bw = bufio.NewWriterSize(c.w, 32<<10)
	c.lr = wire.NewReader(c.br)
	c.lr.Lenient = true // RFC 1939 clients typed by hand send bare LF
	c.lr.MaxLine = lifecycle.OrDefault(s.MaxLineLength, DefaultMaxLineLength)
	c.lr.Conn = c.w
	c.lr.IdleTimeout = lifecycle.WireTimeout(s.IdleTimeout, DefaultIdleTimeout)
	c.lr.LineTimeout = lifecycle.WireTimeout(s.LineTimeout, DefaultLineTimeout)
	return c
}

// Wake ends the session if it is waiting for a command; a command in
// progress finishes first, and the session then sees the loop closing.
func (c *conn) Wake() { c.w.Wake() }

// Close closes the connection at once.
func (c *conn) Close() { c.w.Close() }

func (c *conn) setWaiting(w bool) { c.w.SetWaiting(w) }

func (c *conn) remote() string { return c.w.Conn().RemoteAddr().String() }

func (c *conn) info() ConnInfo {
	nc := c.w.Conn()
	return ConnInfo{RemoteAddr: nc.RemoteAddr(), LocalAddr: nc.LocalAddr(), TLS: c.tls}
}

// Serve runs the session.
func (c *conn) Serve() {
	log := c.s.logger()
	defer func() {
		if v := recover(); v != nil {
			log.Error("pop3: panic in session", "remote", c.remote(), "panic", v, "stack", string(debug.Stack()))
			c.reply("-ERR [SYS/TEMP] Internal error, closing connection")
			c.bw.Flush()
		}
		c.cancel()
		if c.drop != nil {
			c.drop.Close() // without QUIT nothing is deleted
		}
		c.Close()
	}()
	if tc, ok := c.w.Conn().(*tls.Conn); ok {
		// No command is in progress yet: Shutdown may end the handshake.
		c.setWaiting(true)
		err := c.handshake(tc)
		c.setWaiting(false)
		if err != nil {
			log.Debug("pop3: TLS handshake failed", "remote", c.remote(), "err", err)
			return
		}
	}
	greeting := "+OK POP3 server ready"
	if _, ok := c.s.Backend.(APOPBackend); ok {
		c.timestamp = fmt.Sprintf("<%d.%d@%s>", os.Getpid(), time.Now().UnixNano(), c.s.hostname())
		greeting += " " + c.timestamp
	}
	c.reply(greeting)
	if c.bw.Flush() != nil {
		return
	}
	maxBad := lifecycle.OrDefault(c.s.MaxBadCommands, DefaultMaxBadCommands)
	for !c.quit {
		line, err := c.next()
		switch {
		case errors.Is(err, errShutdown):
			c.reply("-ERR [SYS/TEMP] Server shutting down")
			c.bw.Flush()
			return
		case errors.Is(err, wire.ErrLineTooLong):
			if c.lr.DiscardLine() != nil {
				return
			}
			c.bad++
			c.reply("-ERR Line too long")
		case errors.Is(err, os.ErrDeadlineExceeded):
			c.reply("-ERR Disconnected for inactivity")
			c.bw.Flush()
			return
		case err != nil:
			return
		default:
			if err := c.dispatch(line); err != nil {
				log.Debug("pop3: session ended", "remote", c.remote(), "err", err)
				return
			}
		}
		if c.bad >= maxBad {
			c.reply("-ERR Too many bad commands, closing connection")
			c.bw.Flush()
			return
		}
		if c.br.Buffered() == 0 || c.quit { // answer a pipelined batch at once
			if err := c.bw.Flush(); err != nil {
				return
			}
		}
	}
}

var errShutdown = errors.New("pop3: server shutting down")

// next reads the next command line, or reports errShutdown once the
// server is closing.
func (c *conn) next() (string, error) { return c.waitLine() }

// waitLine reads a line the client may take its time to send (a
// command, a SASL response), or reports errShutdown once the server is
// closing. The session is marked waiting before the check, so a
// Shutdown after it finds the session waiting and wakes it.
func (c *conn) waitLine() (string, error) {
	c.setWaiting(true)
	defer c.setWaiting(false)
	if c.s.loop.Closing() {
		return "", errShutdown
	}
	line, err := c.lr.ReadLine()
	if err != nil && c.s.loop.Closing() {
		return "", errShutdown
	}
	return line, err
}

// handshake completes a TLS handshake under DefaultTLSTimeout; the
// session is TLS from then on.
func (c *conn) handshake(tc *tls.Conn) error {
	c.w.SetDeadline(time.Now().Add(DefaultTLSTimeout)) // tc's: SetConn came first
	if c.s.loop.Closing() {
		return errShutdown
	}
	if err := tc.HandshakeContext(c.ctx); err != nil {
		return err
	}
	c.w.SetDeadline(time.Time{})
	st := tc.ConnectionState()
	c.tls = &st
	return nil
}

// reply writes one response line; the loop flushes.
func (c *conn) reply(line string) {
	c.bw.WriteString(line)
	c.bw.WriteString("\r\n")
}

// backendError answers a failed backend call: an *Error the backend
// returned is the reply; anything else is logged, and the client hears
// fallback and never the error's text.
func (c *conn) backendError(err error, fallback, what string, attrs ...any) {
	var pe *Error
	if errors.As(err, &pe) {
		c.reply(pe.reply())
		return
	}
	log := c.s.logger().Error
	if c.ctx.Err() != nil {
		log = c.s.logger().Debug // the server is closing; the call was cut short
	}
	log("pop3: "+what, append(attrs, "user", c.user, "remote", c.remote(), "err", err)...)
	c.reply(fallback)
}

// dispatch runs one command line; an error ends the session.
func (c *conn) dispatch(line string) error {
	cmd, err := parseCommand(line)
	if err != nil {
		c.bad++
		c.reply("-ERR Syntax error")
		return nil
	}
	h, ok := handlers[cmd.name]
	if !ok {
		c.bad++
		c.reply("-ERR Unknown command")
		return nil
	}
	if h.states&c.state == 0 {
		c.bad++
		c.reply("-ERR Command not valid in this state")
		return nil
	}
	if c.fault(cmd.name) {
		return nil
	}
	return h.fn(c, cmd)
}
