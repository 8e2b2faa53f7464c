package imap

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
	"github.com/plumbnet/plumb/internal/wire"
)

type state int

const (
	stateNotAuth state = 1 << iota
	stateAuth
	stateSelected
	stateLogout

	stateAny    = stateNotAuth | stateAuth | stateSelected
	stateLogged = stateAuth | stateSelected
)

// conn is one session, a lifecycle.Session of the server's loop.
type conn struct {
	s      *Server
	br     *bufio.Reader
	lr     *wire.Reader
	bw     *bufio.Writer
	enc    *encoder
	ctx    context.Context
	cancel context.CancelFunc
	w      *lifecycle.Waker // the connection (replaced by STARTTLS); waiting for a command or in IDLE

	tls       *tls.ConnectionState
	state     state
	user      string
	sess      Session
	sel       *selected
	bad       int
	authFails int
	rev2      bool // ENABLE IMAP4rev2
	utf8      bool // ENABLE UTF8=ACCEPT, or IMAP4rev2
	condstore bool // a CONDSTORE-enabling command was seen (RFC 7162 section 3.1)
	qresync   bool // ENABLE QRESYNC: VANISHED instead of EXPUNGE
	saved     []uint32
	code      string // the response code of the tagged OK, set by a handler
}

func newConn(s *Server, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(s.loop.Context())
	c := &conn{s: s, ctx: ctx, cancel: cancel, state: stateNotAuth,
		w: lifecycle.NewWaker(nc, lifecycle.Timeout(s.WriteTimeout, DefaultWriteTimeout))}
	c.bw = writers.Get().(*bufio.Writer)
	c.bw.Reset(c.w)
	c.enc = &encoder{Writer: c.bw}
	c.lr = wire.NewReader(nil)
	c.lr.Lenient = true // clients typed by hand send bare LF
	c.lr.MaxLine = lifecycle.OrDefault(s.MaxLineLength, DefaultMaxLineLength)
	c.lr.Conn = c.w
	c.lr.IdleTimeout = lifecycle.WireTimeout(s.IdleTimeout, DefaultIdleTimeout)
	c.lr.LineTimeout = lifecycle.WireTimeout(s.LineTimeout, DefaultLineTimeout)
	c.resetReader()
	return c
}

func (c *conn) resetReader() {
	c.br = readers.Get().(*bufio.Reader)
	c.br.Reset(c.w.Conn())
	c.lr.Reset(c.br)
}

// The buffers a session works with; while it idles (in IDLE, which may
// last half an hour) it lends them back and holds small ones, so that a
// thousand idle sessions hold little.
var (
	readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 8<<10) }}
	writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 16<<10) }}
)

// quiet swaps the session's buffers for small ones, when nothing is
// buffered either way.
func (c *conn) quiet() bool {
	if c.br.Buffered() > 0 || c.bw.Buffered() > 0 {
		return false
	}
	if c.br.Size() == 8<<10 {
		readers.Put(c.br)
	}
	if c.bw.Size() == 16<<10 {
		writers.Put(c.bw)
	}
	c.br = bufio.NewReaderSize(c.w.Conn(), 16)
	c.lr.Reset(c.br)
	c.bw = bufio.NewWriterSize(c.w, 512)
	c.enc.Writer = c.bw
	return true
}

// busy takes large buffers again after quiet; the reader only once
// nothing reads it (readerFree) and it holds nothing more.
func (c *conn) busy(readerFree bool) {
	c.bw.Flush()
	c.bw = writers.Get().(*bufio.Writer)
	c.bw.Reset(c.w)
	c.enc.Writer = c.bw
	if !readerFree {
		return
	}
	var from io.Reader = c.w.Conn()
	if n := c.br.Buffered(); n > 0 { // a command the client sent right behind DONE
		rest, _ := c.br.Peek(n)
		from = io.MultiReader(bytes.NewReader(bytes.Clone(rest)), from)
	}
	c.br = readers.Get().(*bufio.Reader)
	c.br.Reset(from)
	c.lr.Reset(c.br)
}

// Wake ends the session if it is waiting for a command, in IDLE or in a
// TLS handshake.
func (c *conn) Wake() { c.w.Wake() }

// Close closes the connection at once.
func (c *conn) Close() { c.w.Close() }

func (c *conn) setWaiting(w bool) { c.w.SetWaiting(w) }

func (c *conn) remote() string { return c.w.Conn().RemoteAddr().String() }

func (c *conn) info() ConnInfo {
	nc := c.w.Conn()
	return ConnInfo{RemoteAddr: nc.RemoteAddr(), LocalAddr: nc.LocalAddr(), TLS: c.tls}
}

var errShutdown = errors.New("imap: server shutting down")

// connError is a failure of the connection itself: the session ends.
type connError struct{ err error }

func (e connError) Error() string { return e.err.Error() }
func (e connError) Unwrap() error { return e.err }

// Serve runs the session.
func (c *conn) Serve() {
	log := c.s.logger()
	defer func() {
		if v := recover(); v != nil {
			log.Error("imap: panic in session", "remote", c.remote(), "panic", v, "stack", string(debug.Stack()))
			c.untagged("BYE [SERVERBUG] Internal error, closing connection")
			c.bw.Flush()
		}
		c.cancel()
		c.unselect()
		if c.sess != nil {
			c.sess.Logout()
		}
		c.Close()
	}()
	if tc, ok := c.w.Conn().(*tls.Conn); ok {
		c.setWaiting(true)
		err := c.handshake(tc)
		c.setWaiting(false)
		if err != nil {
			log.Debug("imap: TLS handshake failed", "remote", c.remote(), "err", err)
			return
		}
	}
	c.untagged("OK [CAPABILITY " + c.capabilities() + "] IMAP4rev1 server ready")
	if c.bw.Flush() != nil {
		return
	}
	maxBad := lifecycle.OrDefault(c.s.MaxBadCommands, DefaultMaxBadCommands)
	for c.state != stateLogout {
		line, err := c.waitLine()
		switch {
		case errors.Is(err, errShutdown):
			c.untagged("BYE Server shutting down")
			c.bw.Flush()
			return
		case errors.Is(err, wire.ErrLineTooLong):
			c.untagged("BAD [TOOBIG] Line too long")
			c.bw.Flush()
			if c.lr.DiscardLine() != nil {
				return
			}
		case errors.Is(err, os.ErrDeadlineExceeded):
			c.untagged("BYE Autologout; idle for too long")
			c.bw.Flush()
			return
		case err != nil:
			return
		default:
			if err := c.dispatch(line); err != nil {
				log.Debug("imap: session ended", "remote", c.remote(), "err", err)
				c.bw.Flush()
				return
			}
		}
		if c.state == stateNotAuth && c.bad >= maxBad {
			c.untagged("BYE Too many unknown commands")
			c.bw.Flush()
			return
		}
		if c.br.Buffered() == 0 || c.state == stateLogout {
			if err := c.bw.Flush(); err != nil {
				return
			}
		}
	}
}

// waitLine reads a line the client may take its time to send.
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

// handshake runs the TLS handshake on tc, the Waker's connection by
// then, whose deadlines a Wake keeps in the past: a Shutdown ends a
// handshake the client stalls.
func (c *conn) handshake(tc *tls.Conn) error {
	c.w.SetDeadline(time.Now().Add(DefaultTLSTimeout))
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

// untagged writes "* line".
func (c *conn) untagged(line string) {
	c.bw.WriteString("* ")
	c.bw.WriteString(line)
	c.bw.WriteString("\r\n")
}

// parser returns a parser of a command line, reading literals from the session.
func (c *conn) parser(line string) *parser {
	p := newParser(line)
	p.br, p.lr = c.br, c.lr
	p.maxLiteral = lifecycle.OrDefault(c.s.MaxStringLiteral, DefaultMaxStringLiteral)
	p.budget = lifecycle.OrDefault(c.s.MaxCommandMemory, DefaultMaxCommandMemory)
	p.cont = func() error {
		c.bw.WriteString("+ Ready for literal data\r\n")
		return c.bw.Flush()
	}
	p.deadline = func(n int64) {
		lt := lifecycle.Timeout(c.s.LineTimeout, DefaultLineTimeout)
		if lt > 0 {
			c.lr.Conn.SetReadDeadline(time.Now().Add(lt + time.Duration(n/literalRate)*time.Second))
		}
	}
	return p
}

// dispatch runs one command line; an error ends the session.
func (c *conn) dispatch(line string) error {
	p := c.parser(line)
	var tag, name string
	if !p.atom(&tag) || strings.HasPrefix(tag, "+") {
		c.bad++
		c.untagged("BAD Missing or malformed tag")
		return p.skip(1 << 20)
	}
	if !p.sp() || !p.atom(&name) {
		c.bad++
		c.tagged(tag, "BAD Missing command")
		return p.skip(1 << 20)
	}
	name = strings.ToUpper(name)
	uid := false
	if name == "UID" {
		uid = true
		if !p.sp() || !p.atom(&name) {
			c.tagged(tag, "BAD Missing command after UID")
			return p.skip(1 << 20)
		}
		name = strings.ToUpper(name)
		if !uidCommands[name] {
			c.tagged(tag, "BAD Unknown UID command")
			return p.skip(1 << 20)
		}
	}
	cmd, ok := commands[name]
	if !ok {
		c.bad++
		c.tagged(tag, "BAD Unknown command")
		return p.skip(1 << 20)
	}
	if cmd.states&c.state == 0 {
		c.tagged(tag, "BAD Command not valid in this state")
		return p.skip(1 << 20)
	}
	if c.fault(tag, name, line) {
		return p.skip(1 << 20)
	}
	c.code = ""
	err := cmd.fn(c, &request{tag: tag, name: name, uid: uid, p: p})
	return c.finish(tag, name, uid, cmd, p, err)
}

// finish answers a command with its tagged status.
func (c *conn) finish(tag, name string, uid bool, cmd command, p *parser, err error) error {
	var ce connError
	var pe *Error
	switch {
	case errors.Is(err, errHandled):
		return nil
	case err == nil:
		if c.sel != nil && !cmd.noSync {
			c.sync(uid || !cmd.noExpunge, false)
		}
		status := "OK"
		if c.code != "" {
			status += " [" + c.code + "]"
		}
		if uid {
			name = "UID " + name
		}
		c.tagged(tag, status+" "+name+" completed")
		return nil
	case errors.As(err, &ce), errors.Is(err, errShutdown):
		return err
	case errors.Is(err, errLiteralTooLarge):
		if serr := p.skip(0); serr != nil {
			c.untagged("BYE [TOOBIG] Literal too large")
			return err
		}
		c.tagged(tag, "NO [TOOBIG] Literal too large")
	case errors.Is(err, wire.ErrSyntax):
		if serr := p.skip(1 << 20); serr != nil {
			return serr
		}
		c.tagged(tag, "BAD "+printable(strings.TrimPrefix(err.Error(), "syntax error: "), 200))
	case errors.As(err, &pe):
		c.tagged(tag, pe.status())
	default:
		log := c.s.logger().Error
		if c.ctx.Err() != nil {
			log = c.s.logger().Debug
		}
		log("imap: "+strings.ToLower(name)+" failed", "user", c.user, "remote", c.remote(), "err", err)
		c.tagged(tag, "NO [SERVERBUG] Internal error")
	}
	return nil
}

func (c *conn) tagged(tag, status string) {
	c.bw.WriteString(tag)
	c.bw.WriteByte(' ')
	c.bw.WriteString(status)
	c.bw.WriteString("\r\n")
}

// request is one command being run.
type request struct {
	tag, name string
	uid       bool
	p         *parser
}

func syntaxErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{wire.ErrSyntax}, args...)...)
}
