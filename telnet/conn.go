package telnet

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"runtime/debug"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
	"github.com/plumbnet/plumb/sasl"
)

// conn is one session, a lifecycle.Session of the server's loop. One
// goroutine (Serve) reads the client and runs the negotiation; while a
// program runs, another copies its output to the client.
type conn struct {
	s      *Server
	nc     net.Conn         // never replaced: implicit TLS is a *tls.Conn from the start
	wk     *lifecycle.Waker // nc's deadlines and writes; waiting but inside a backend call
	w      *Writer
	p      Parser
	neg    Negotiator
	term   *Terminal
	ctx    context.Context // ends with the session, and when the server closes
	cancel context.CancelFunc
	buf    []byte

	idle          time.Duration // from lifecycle.Timeout: 0 is none
	loginDeadline time.Time     // zero once logged in, or with no limit
	ttypeAsked    bool          // TTYPE SEND went out, IS not yet back

	// data receives the client's data: the login line editor, then the
	// program's terminal.
	data func([]byte)
	// pty is the running program's master side, nil before.
	pty *os.File
	// typeahead is what the client sent after its password, before the
	// program started: the program reads it first.
	typeahead []byte
}

func newConn(s *Server, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(s.loop.Context())
	c := &conn{s: s, nc: nc, ctx: ctx, cancel: cancel, term: newTerminal(), buf: make([]byte, 4096),
		idle: lifecycle.Timeout(s.IdleTimeout, DefaultIdleTimeout),
		wk:   lifecycle.NewWaker(nc, lifecycle.Timeout(s.WriteTimeout, DefaultWriteTimeout)),
	}
	c.w = NewWriter(c.wk)
	c.p = Parser{MaxSubnegotiation: s.MaxSubnegotiation, NewlineCR: true}
	c.neg = Negotiator{AcceptLocal: serverLocal, AcceptRemote: serverRemote}
	c.term.Info = ConnInfo{RemoteAddr: nc.RemoteAddr(), LocalAddr: nc.LocalAddr()}
	return c
}

// serverLocal is what the server agrees to do when asked: echo and
// suppress go-ahead, as a character-at-a-time host does (RFC 857, 858).
func serverLocal(o Option) bool { return o == Echo || o == SuppressGoAhead }

// serverRemote is what the server lets a client do: suppress go-ahead
// and send its terminal type, window size and environment. LINEMODE,
// BINARY and the rest are refused.
func serverRemote(o Option) bool {
	switch o {
	case SuppressGoAhead, TerminalType, NAWS, NewEnviron:
		return true
	}
	return false
}

// Wake ends the session unless it is inside a backend call, which
// finishes first; the session then sees the loop closing.
func (c *conn) Wake() { c.wk.Wake() }

// Close closes the connection at once.
func (c *conn) Close() { c.wk.Close() }

func (c *conn) setWaiting(w bool) { c.wk.SetWaiting(w) }

func (c *conn) remote() string { return c.nc.RemoteAddr().String() }

// errShutdown ends a session because the server is closing.
var errShutdown = errors.New("telnet: server shutting down")

// errIdle ends a session that sent nothing for too long.
var errIdle = errors.New("telnet: idle timeout")

// Serve runs the session.
func (c *conn) Serve() {
	log := c.s.logger()
	defer func() {
		if v := recover(); v != nil {
			log.Error("telnet: panic in session", "remote", c.remote(), "panic", v, "stack", string(debug.Stack()))
			c.say("\r\nInternal error, closing connection\r\n")
		}
		c.cancel()
		c.Close()
	}()
	c.setWaiting(true)
	if tc, ok := c.nc.(*tls.Conn); ok {
		if err := c.handshake(tc); err != nil {
			log.Debug("telnet: TLS handshake failed", "remote", c.remote(), "err", err)
			return
		}
	}
	if c.term.Info.TLS == nil && !c.s.InsecureLogin && !sasl.IsLoopback(c.nc.RemoteAddr()) {
		log.Warn("telnet: login refused without TLS", "remote", c.remote())
		c.say("Logins need TLS from this address: use telnets (port 992).\r\n")
		return
	}
	if t := lifecycle.Timeout(c.s.LoginTimeout, DefaultLoginTimeout); t > 0 {
		c.loginDeadline = time.Now().Add(t)
	}
	var hello []byte
	for _, r := range []Result{c.neg.EnableLocal(Echo), c.neg.EnableLocal(SuppressGoAhead),
		c.neg.EnableRemote(TerminalType), c.neg.EnableRemote(NAWS), c.neg.EnableRemote(NewEnviron)} {
		hello = append(hello, r.Send...)
	}
	if c.w.Raw(hello) != nil {
		return
	}
	if c.s.Banner != "" {
		c.say(c.s.Banner + "\r\n")
	}
	prog, err := c.login()
	switch {
	case errors.Is(err, errShutdown):
		c.say("\r\nServer shutting down.\r\n")
		return
	case errors.Is(err, errIdle):
		c.say("\r\nLogin timed out.\r\n")
		return
	case err != nil:
		log.Debug("telnet: session ended before login", "remote", c.remote(), "err", err)
		return
	}
	c.loginDeadline = time.Time{}
	if err := c.run(prog); err != nil {
		log.Debug("telnet: session ended", "remote", c.remote(), "user", c.term.User, "err", err)
	}
}

// handshake completes a TLS handshake under DefaultTLSTimeout.
func (c *conn) handshake(tc *tls.Conn) error {
	c.wk.SetDeadline(time.Now().Add(DefaultTLSTimeout))
	if c.s.loop.Closing() {
		return errShutdown
	}
	if err := tc.HandshakeContext(c.ctx); err != nil {
		return err
	}
	c.wk.SetDeadline(time.Time{})
	st := tc.ConnectionState()
	c.term.Info.TLS = &st
	return nil
}

// say writes text to the client as NVT data.
func (c *conn) say(text string) { c.w.Write([]byte(text)) }

// pump reads what the client sent next and handles it: negotiation
// here, data through c.data. It fails with errShutdown once the server
// is closing and errIdle at the idle or login deadline.
func (c *conn) pump() error {
	dl := lifecycle.Deadline(c.idle)
	if !c.loginDeadline.IsZero() && (dl.IsZero() || c.loginDeadline.Before(dl)) {
		dl = c.loginDeadline
	}
	if c.s.loop.Closing() { // a Wake came, or comes: it ends the wait
		return errShutdown
	}
	// A Wake from now on moves this deadline into the past.
	c.wk.SetReadDeadline(dl)
	n, err := c.nc.Read(c.buf)
	if n > 0 {
		c.p.Parse(c.buf[:n], c.token)
	}
	if err != nil {
		if c.s.loop.Closing() {
			return errShutdown
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return errIdle
		}
		return err
	}
	return nil
}

// token handles one decoded piece of the client's stream.
func (c *conn) token(t Token) {
	switch t.Verb {
	case 0:
		if c.data != nil {
			c.data(t.Data)
		}
	case WILL, WONT, DO, DONT:
		r := c.neg.Receive(t.Verb, t.Option)
		if r.Note != "" {
			c.s.logger().Debug("telnet: negotiation error by the client", "remote", c.remote(), "option", t.Option.String(), "note", r.Note)
		}
		c.w.Raw(r.Send)
		if r.Changed != nil {
			c.changed(*r.Changed)
		}
	case SB:
		c.sub(t)
	case IP, BRK:
		c.control(0x03) // the terminal's VINTR, as telnetd sends it
	case EC:
		c.control(0x7f)
	case EL:
		c.control(0x15)
	case AYT:
		c.say("\r\n[yes]\r\n")
	}
}

// control hands a control character to the program's terminal.
func (c *conn) control(b byte) {
	if c.pty != nil {
		c.pty.Write([]byte{b})
	}
}

// changed acts on an option side that was enabled or disabled.
func (c *conn) changed(ch Change) {
	if ch.Option == Echo && !ch.Remote && c.pty != nil {
		// The program runs: its terminal echoes exactly when we do, so
		// a client that echoes itself sees each key once.
		setEcho(c.term.TTY, ch.Enabled)
		return
	}
	if !ch.Remote || !ch.Enabled {
		return
	}
	switch ch.Option {
	case TerminalType:
		c.ttypeAsked = true
		c.w.Sub(TerminalType, ttypeSend)
	case NewEnviron:
		c.w.Sub(NewEnviron, environSend)
	}
}

// sub handles a subnegotiation of an option the client performs.
func (c *conn) sub(t Token) {
	log := c.s.logger()
	if t.TooLong {
		log.Warn("telnet: subnegotiation over the limit dropped", "remote", c.remote(), "option", t.Option.String())
		if t.Option == TerminalType {
			c.ttypeAsked = false
		}
		return
	}
	if !c.neg.Remote(t.Option) {
		return
	}
	switch t.Option {
	case TerminalType:
		name, err := parseTermType(t.Sub)
		c.ttypeAsked = false
		if c.pty != nil {
			return // the program has started with the type it has
		}
		if err != nil {
			log.Debug("telnet: bad terminal type", "remote", c.remote(), "sub", t.Sub)
			return
		}
		c.term.Type = name
	case NAWS:
		cols, rows, err := parseNAWS(t.Sub)
		if err != nil {
			log.Debug("telnet: bad window size", "remote", c.remote(), "sub", t.Sub)
			return
		}
		c.term.setSize(cols, rows)
		if c.pty != nil {
			setSize(c.pty, cols, rows)
		}
	case NewEnviron:
		_, vars, err := parseEnviron(t.Sub)
		if c.pty != nil {
			return // the program has started with its environment
		}
		if err != nil {
			log.Debug("telnet: bad environment", "remote", c.remote(), "sub", t.Sub)
			return
		}
		for _, v := range vars {
			if !envName(v.Name) || !c.s.acceptsEnv(v.Name) || !printable(v.Value) {
				log.Debug("telnet: environment variable refused", "remote", c.remote(), "name", v.Name)
				continue
			}
			if c.term.Env == nil {
				c.term.Env = map[string]string{}
			}
			if v.Undefined {
				delete(c.term.Env, v.Name)
			} else {
				c.term.Env[v.Name] = v.Value
			}
		}
	}
}

// printable reports whether s has no control characters.
func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}
