package nntp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
	"github.com/plumbnet/plumb/internal/wire"
	"github.com/plumbnet/plumb/sasl"
)

// conn is one session, a lifecycle.Session of the server's loop.
type conn struct {
	s      *Server
	br     *bufio.Reader
	lr     *wire.Reader
	bw     *bufio.Writer
	ctx    context.Context
	cancel context.CancelFunc

	tls       *tls.ConnectionState
	user      string // authenticated account
	pending   string // AUTHINFO USER waiting for PASS
	group     string // the selected group, "" for none
	cur       int64  // the current article number, 0 when invalid
	bad       int
	authFails int
	quit      bool
	compress  bool

	drain int64 // bytes left to drain a refused article, -1: no bound

	w   *lifecycle.Waker // the connection (replaced by STARTTLS); waiting for a command
	rw  io.ReadWriter    // the Waker's connection, or the COMPRESS layer over it
	out writerFunc       // writes to rw: what bw flushes to
}

// replyBuffers are the sessions' reply buffers: a session waiting for
// a command with nothing unsent gives its buffer back (an idle
// reader's memory is what it reads with, not 16 KiB it is not using).
var replyBuffers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 16<<10) }}

func (c *conn) takeWriter() {
	c.bw = replyBuffers.Get().(*bufio.Writer)
	c.bw.Reset(c.out)
}

func (c *conn) giveWriter() {
	c.bw.Reset(nil)
	replyBuffers.Put(c.bw)
	c.bw = nil
}

func newConn(s *Server, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(s.loop.Context())
	c := &conn{s: s, ctx: ctx, cancel: cancel, drain: -1,
		w: lifecycle.NewWaker(nc, lifecycle.Timeout(s.WriteTimeout, DefaultWriteTimeout))}
	c.rw = wakerRW{c.w}
	c.br = bufio.NewReaderSize(readerFunc(c.read), 8<<10)
	c.out = writerFunc(func(p []byte) (int, error) { return c.rw.Write(p) })
	c.takeWriter()
	c.lr = wire.NewReader(c.br)
	c.lr.Lenient = true // readers typed by hand send bare LF; articles are read strictly
	c.lr.MaxLine = lifecycle.OrDefault(s.MaxLineLength, DefaultMaxLineLength)
	c.lr.Conn = c.w
	c.lr.IdleTimeout = lifecycle.WireTimeout(s.IdleTimeout, DefaultIdleTimeout)
	c.lr.LineTimeout = lifecycle.WireTimeout(s.LineTimeout, DefaultLineTimeout)
	return c
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// wakerRW reads from the Waker's connection and writes through the
// Waker (each write within WriteTimeout).
type wakerRW struct{ w *lifecycle.Waker }

func (r wakerRW) Read(p []byte) (int, error)  { return r.w.Conn().Read(p) }
func (r wakerRW) Write(p []byte) (int, error) { return r.w.Write(p) }

func (c *conn) read(p []byte) (int, error) {
	if c.drain < 0 {
		return c.rw.Read(p)
	}
	if c.drain == 0 {
		return 0, errDrainLimit
	}
	if int64(len(p)) > c.drain {
		p = p[:c.drain]
	}
	n, err := c.rw.Read(p)
	c.drain -= int64(n)
	return n, err
}

// errDrainLimit ends a session that sends far more of a refused
// article than the size limit.
var errDrainLimit = errors.New("nntp: refused article goes on past twice the size limit")

// setDrain bounds what may still be read (after what is buffered), or
// lifts the bound with -1.
func (c *conn) setDrain(n int64) { c.drain = n }

// Wake ends the session if it is waiting for a command.
func (c *conn) Wake() { c.w.Wake() }

// Close closes the connection at once.
func (c *conn) Close() { c.w.Close() }

func (c *conn) setWaiting(w bool) { c.w.SetWaiting(w) }

func (c *conn) nc() net.Conn { return c.w.Conn() }

func (c *conn) remote() string { return c.nc().RemoteAddr().String() }

func (c *conn) info() ConnInfo {
	return ConnInfo{RemoteAddr: c.nc().RemoteAddr(), LocalAddr: c.nc().LocalAddr(), TLS: c.tls}
}

// canPost reports whether POST is open to this session now.
func (c *conn) canPost() bool { return c.user != "" || c.s.AnonymousPost }

// canRead reports whether reading commands are open now.
func (c *conn) canRead() bool { return c.user != "" || !c.s.ReadAuth }

// canFeed reports whether IHAVE and streaming are open now: to a
// feed_from network, or to an account configured as a peer. Fed
// articles skip POST's checks, so being a reader is not enough.
func (c *conn) canFeed() bool {
	return c.user != "" && slices.Contains(c.s.FeedAccounts, c.user) || c.s.feedAllowed(c.nc().RemoteAddr())
}

// Serve runs the session.
func (c *conn) Serve() {
	log := c.s.logger()
	defer func() {
		if v := recover(); v != nil {
			log.Error("nntp: panic in session", "remote", c.remote(), "panic", v, "stack", string(debug.Stack()))
			c.reply("400 Internal error, closing connection")
			c.bw.Flush()
		}
		c.cancel()
		c.Close()
		if d, ok := c.rw.(*deflateConn); ok {
			d.release()
		}
		if c.compress {
			c.s.compressDone()
		}
		c.giveWriter()
	}()
	if tc, ok := c.nc().(*tls.Conn); ok {
		c.setWaiting(true)
		err := c.handshake(tc)
		c.setWaiting(false)
		if err != nil {
			log.Debug("nntp: TLS handshake failed", "remote", c.remote(), "err", err)
			return
		}
	}
	if c.canPost() {
		c.reply("200 " + c.s.hostname() + " plumb NNTP server ready, posting allowed")
	} else {
		c.reply("201 " + c.s.hostname() + " plumb NNTP server ready, posting needs AUTHINFO")
	}
	if c.bw.Flush() != nil {
		return
	}
	maxBad := lifecycle.OrDefault(c.s.MaxBadCommands, DefaultMaxBadCommands)
	for !c.quit {
		line, err := c.waitLine()
		switch {
		case errors.Is(err, errShutdown):
			c.reply("400 Server shutting down")
			c.bw.Flush()
			return
		case errors.Is(err, wire.ErrLineTooLong):
			if c.lr.DiscardLine() != nil {
				return
			}
			c.bad++
			log.Info("nntp: command line too long", "remote", c.remote())
			c.reply("501 Command line too long")
		case errors.Is(err, os.ErrDeadlineExceeded):
			c.reply("400 Idle timeout, closing connection")
			c.bw.Flush()
			return
		case err != nil:
			return
		default:
			if err := c.dispatch(line); err != nil {
				log.Debug("nntp: session ended", "remote", c.remote(), "err", err)
				c.bw.Flush()
				return
			}
		}
		if c.bad >= maxBad {
			c.reply("400 Too many bad commands, closing connection")
			c.bw.Flush()
			return
		}
		if c.br.Buffered() == 0 || c.quit {
			if err := c.flush(); err != nil {
				return
			}
		}
	}
}

var errShutdown = errors.New("nntp: server shutting down")

// waitLine reads a line the client may take its time to send, or
// reports errShutdown once the server is closing.
func (c *conn) waitLine() (string, error) {
	c.setWaiting(true)
	defer c.setWaiting(false)
	if c.bw.Buffered() == 0 {
		c.giveWriter()
		defer c.takeWriter()
	}
	if c.s.loop.Closing() {
		return "", errShutdown
	}
	line, err := c.lr.ReadLine()
	if err != nil && c.s.loop.Closing() {
		return "", errShutdown
	}
	return line, err
}

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

// reply writes one response line; the loop flushes.
func (c *conn) reply(line string) {
	c.bw.WriteString(line)
	c.bw.WriteString("\r\n")
}

func (c *conn) replyf(format string, args ...any) { c.reply(fmt.Sprintf(format, args...)) }

// flush sends what is buffered, through the compressor when on.
func (c *conn) flush() error {
	if err := c.bw.Flush(); err != nil {
		return err
	}
	if f, ok := c.rw.(interface{ Flush() error }); ok {
		return f.Flush()
	}
	return nil
}

// backendError answers a failed backend call: an *Error is the reply;
// anything else is logged and the client hears fallback.
func (c *conn) backendError(err error, fallback, what string) {
	var pe *Error
	if errors.As(err, &pe) {
		c.reply(pe.line())
		return
	}
	log := c.s.logger().Error
	if c.ctx.Err() != nil {
		log = c.s.logger().Debug
	}
	log("nntp: "+what, "user", c.user, "remote", c.remote(), "err", err)
	c.reply(fallback)
}

// plaintextOK reports whether a password may be received here.
func (c *conn) plaintextOK() bool {
	return c.tls != nil || c.s.InsecureAuth || sasl.IsLoopback(c.nc().RemoteAddr())
}
