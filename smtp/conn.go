package smtp

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
	"github.com/plumbnet/plumb/internal/wire"
	"github.com/plumbnet/plumb/sasl"
)

// A Conn is one client connection, as a Backend sees it.
type Conn struct {
	srv    *Server
	nc     net.Conn
	br     *bufio.Reader
	lr     *wire.Reader // command lines, from br
	bw     *bufio.Writer
	id     string
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex // guards nc, idle, woken and closed, for Shutdown
	idle   bool       // waiting for a command (in a transaction or not) or an implicit-TLS handshake
	woken  bool       // Shutdown has called Wake
	closed bool

	session  Session
	helo     string
	esmtp    bool
	tls      *tls.ConnectionState
	authed   bool
	errors   int
	tx       *transaction
	quitting bool
}

// transaction is what MAIL started.
type transaction struct {
	from  string
	opts  MailOptions
	rcpts []string
	bdat  *bdatState
}

func (s *Server) newConn(nc net.Conn) *Conn {
	var b [6]byte
	rand.Read(b[:])
	c := &Conn{srv: s, nc: nc, id: hex.EncodeToString(b[:])}
	c.br = bufio.NewReaderSize(nc, 4096)
	c.bw = bufio.NewWriterSize(nc, 4096)
	// Commands may end in a bare LF, as most servers take them; only
	// the message body is strict.
	c.lr = wire.NewReader(c.br)
	c.lr.MaxLine, c.lr.Lenient = s.maxLine(), true
	c.lr.IdleTimeout = lifecycle.WireTimeout(s.IdleTimeout, DefaultIdleTimeout)
	c.lr.LineTimeout = lifecycle.WireTimeout(s.LineTimeout, DefaultLineTimeout)
	c.lr.Conn = idleDeadline{c}
	c.log = s.logger().With("service", "smtp", "conn", c.id, "remote", nc.RemoteAddr().String())
	c.ctx, c.cancel = context.WithCancel(s.loop.Context())
	return c
}

// detectTLS finishes the handshake of a connection the listener gave
// as a *tls.Conn (implicit TLS), in the connection's goroutine so a slow
// client holds up no one else, within the write timeout. Any other
// connection is plaintext, whatever it claims. It reports false if the
// handshake failed or the server is shutting down.
func (c *Conn) detectTLS() bool {
	tc, ok := c.nc.(*tls.Conn)
	if !ok {
		return true
	}
	// No command is in progress yet, so Shutdown may cut the handshake.
	// Idle is set before the deadline and the deadline before the check
	// of the loop: a Wake either comes after the deadline and overrides
	// it, or before the check, which then sees the loop closing.
	c.setIdle(true)
	defer c.setIdle(false)
	tc.SetDeadline(c.srv.writeDeadline())
	if c.srv.loop.Closing() {
		return false
	}
	if err := tc.HandshakeContext(c.ctx); err != nil {
		c.log.Debug("smtp: TLS handshake failed", "err", err)
		return false
	}
	tc.SetDeadline(time.Time{})
	cs := tc.ConnectionState()
	c.tls = &cs
	return true
}

// ID returns a short random name of the connection, used in logs and Received: headers.
func (c *Conn) ID() string { return c.id }

// RemoteAddr returns the client's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// LocalAddr returns the address the client connected to.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// Hostname returns the name the client gave in EHLO or HELO.
func (c *Conn) Hostname() string { return c.helo }

// TLS returns the TLS state, or nil on a plaintext connection.
func (c *Conn) TLS() *tls.ConnectionState { return c.tls }

// Authenticated reports whether AUTH succeeded on this connection.
func (c *Conn) Authenticated() bool { return c.authed }

// Server returns the server the connection belongs to.
func (c *Conn) Server() *Server { return c.srv }

// Info returns the connection's addresses and TLS state.
func (c *Conn) Info() ConnInfo {
	return ConnInfo{RemoteAddr: c.nc.RemoteAddr(), LocalAddr: c.nc.LocalAddr(), TLS: c.tls}
}

// Loopback reports whether the client connects from a loopback address.
func (c *Conn) Loopback() bool { return sasl.IsLoopback(c.nc.RemoteAddr()) }

func (c *Conn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		c.cancel()
		c.nc.Close()
	}
}

// loopSession is a Conn as the server's lifecycle.Loop sees it; its
// methods are not Conn's, so a backend holding the Conn cannot call them.
type loopSession struct{ c *Conn }

func (s loopSession) Serve() { s.c.serve() }
func (s loopSession) Close() { s.c.close() }

// Wake, called once by Shutdown, makes a connection waiting for its next
// command give up waiting, in a transaction or not: a client that
// stopped after MAIL would otherwise hold Shutdown. One in the middle of
// a command (a message being received) finishes it and sees the loop
// closing before the next command.
func (s loopSession) Wake() {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	c.woken = true
	if c.idle && !c.closed {
		c.nc.SetReadDeadline(time.Now())
	}
}

func (c *Conn) setIdle(idle bool) {
	c.mu.Lock()
	c.idle = idle
	c.mu.Unlock()
}

// idleDeadline is the command reader's view of the connection: under
// the lock, so that a Wake between the session's check of the loop and
// a deadline set for an idle wait is not lost.
type idleDeadline struct{ c *Conn }

func (d idleDeadline) SetReadDeadline(t time.Time) error {
	d.c.mu.Lock()
	defer d.c.mu.Unlock()
	if d.c.idle && d.c.woken {
		t = time.Now()
	}
	return d.c.nc.SetReadDeadline(t)
}

func (c *Conn) serve() {
	defer c.close()
	defer func() {
		// However the session ends, a BDAT message left unfinished must
		// let the backend's Data return (and release what it holds)
		// before Logout.
		c.abortTx()
		if c.session != nil {
			c.session.Logout()
		}
	}()
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("smtp: panic serving connection", "panic", r, "stack", string(debug.Stack()))
			c.reply(421, EnhancedCode{4, 3, 0}, "Internal error, closing connection")
			c.bw.Flush()
		}
	}()
	if !c.detectTLS() {
		return
	}
	if c.srv.loop.Closing() {
		c.reply(421, EnhancedCode{4, 3, 2}, c.srv.hostname()+" Service shutting down")
		c.bw.Flush()
		return
	}
	var err error
	if c.session, err = c.srv.Backend.NewSession(c.ctx, c); err != nil {
		c.replyErr(err, "new session")
		c.bw.Flush()
		return
	}
	c.reply(220, NoEnhancedCode, c.srv.hostname()+" ESMTP plumb ready")
	// The deferred abortTx ends any transaction left when the loop returns.
	for !c.quitting {
		if c.errors > c.srv.maxErrors() {
			c.reply(421, EnhancedCode{4, 7, 0}, "Too many errors, closing connection")
			c.bw.Flush()
			return
		}
		// Commands the client pipelined before Shutdown are in the
		// buffer already and are answered; then the session ends, in a
		// transaction or not.
		if c.srv.loop.Closing() && c.br.Buffered() == 0 {
			c.replyShutdown()
			c.bw.Flush()
			return
		}
		line, err := c.readCommand()
		if err != nil {
			switch {
			case errors.Is(err, wire.ErrLineTooLong):
				c.reply(500, EnhancedCode{5, 5, 6}, "Line too long")
				continue
			case errors.Is(err, errLineFarTooLong):
				c.reply(500, EnhancedCode{5, 5, 6}, "Line too long, closing connection")
				c.bw.Flush()
				return
			}
			c.replyReadErr(err)
			c.bw.Flush()
			return
		}
		c.handle(line)
	}
	c.bw.Flush()
}

func (c *Conn) replyShutdown() {
	c.reply(421, EnhancedCode{4, 3, 2}, c.srv.hostname()+" Service shutting down")
}

// replyReadErr says goodbye for a failed read of a command or an AUTH
// response, if there is anything to say: a timeout is Shutdown's wake-up
// or the idle timer; the peer gone needs no reply.
func (c *Conn) replyReadErr(err error) {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout() && c.srv.loop.Closing():
		c.replyShutdown()
	case errors.As(err, &ne) && ne.Timeout():
		c.reply(421, EnhancedCode{4, 4, 2}, c.srv.hostname()+" Idle timeout, closing connection")
	}
}

// errLineFarTooLong is a command line too long even to skip.
var errLineFarTooLong = errors.New("smtp: command line too long to skip")

// readCommand reads one command line. It flushes pending replies first
// unless more pipelined commands are already buffered (RFC 2920). A line
// over the limit is skipped and wire.ErrLineTooLong returned.
func (c *Conn) readCommand() (string, error) {
	if c.br.Buffered() == 0 {
		c.nc.SetWriteDeadline(c.srv.writeDeadline())
		if err := c.bw.Flush(); err != nil {
			return "", err
		}
	}
	c.setIdle(true)
	defer c.setIdle(false)
	line, err := c.lr.ReadLine()
	if errors.Is(err, wire.ErrLineTooLong) {
		if derr := c.lr.DiscardLine(); errors.Is(derr, wire.ErrLineTooLong) {
			return "", errLineFarTooLong
		} else if derr != nil {
			return "", derr
		}
	}
	return line, err
}

// reply writes one reply; text lines separated by "\n" become a
// multi-line reply. The enhanced code goes on every line (RFC 2034).
func (c *Conn) reply(code int, ec EnhancedCode, text string) {
	if ec == (EnhancedCode{}) {
		ec = defaultEnhanced(code)
	}
	prefix := ""
	if s := ec.String(); s != "" {
		prefix = s + " "
	}
	lines := strings.Split(text, "\n")
	c.nc.SetWriteDeadline(c.srv.writeDeadline())
	for i, l := range lines {
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		fmt.Fprintf(c.bw, "%d%s%s%s\r\n", code, sep, prefix, l)
	}
	if code >= 400 {
		c.errors++
	}
}

// replyErr answers for a backend error: an *Error with a failure code
// (400 to 599) is the reply; any other error is logged and the client
// sees a generic 451. A success or intermediate code from a backend's
// error would tell the client a refused step was taken (a 250 for a
// recipient not added) or put it out of step (a 354 after MAIL).
func (c *Conn) replyErr(err error, what string) {
	var se *Error
	if errors.As(err, &se) && se.Code >= 400 && se.Code <= 599 {
		msg := strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' {
				return ' '
			}
			return r
		}, se.Msg)
		c.reply(se.Code, se.EnhancedCode, msg)
		return
	}
	c.log.Error("smtp: backend error", "step", what, "err", err)
	c.reply(ErrTryLater.Code, ErrTryLater.EnhancedCode, ErrTryLater.Msg)
}

// resetTx ends the transaction in the backend and here.
func (c *Conn) resetTx() {
	c.abortTx()
	if c.session != nil {
		c.session.Reset()
	}
}

// abortTx stops a BDAT transfer in progress, if any, and forgets the transaction.
func (c *Conn) abortTx() {
	if c.tx != nil && c.tx.bdat != nil {
		c.tx.bdat.abort()
	}
	c.tx = nil
}

func (c *Conn) backendCtx() (context.Context, context.CancelFunc) {
	return context.WithCancel(c.ctx)
}

// received returns the Received: header for the transaction (RFC 5321
// section 4.4), trace information the message carries from here on.
func (c *Conn) received(tx *transaction, id string) string {
	proto := "SMTP"
	if c.esmtp {
		proto = "ESMTP"
		if tx.opts.UTF8 {
			proto = "UTF8SMTP"
		}
		if c.tls != nil {
			proto += "S"
		}
		if c.authed {
			proto += "A"
		}
	}
	ip := "unknown"
	switch a := c.nc.RemoteAddr().(type) {
	case *net.TCPAddr:
		ip = a.IP.String()
		if a.IP.To4() == nil {
			ip = "IPv6:" + ip
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Received: from %s ([%s])\r\n\tby %s (plumb) with %s id %s", c.helo, ip, c.srv.hostname(), proto, id)
	if c.tls != nil {
		fmt.Fprintf(&b, "\r\n\t(using %s with cipher %s)", tls.VersionName(c.tls.Version), tls.CipherSuiteName(c.tls.CipherSuite))
	}
	if len(tx.rcpts) == 1 {
		fmt.Fprintf(&b, "\r\n\tfor <%s>", tx.rcpts[0])
	}
	fmt.Fprintf(&b, ";\r\n\t%s\r\n", time.Now().Format(time.RFC1123Z))
	return b.String()
}

func newMessageID() string {
	var b [8]byte
	rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}
