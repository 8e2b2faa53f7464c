package ftp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"path"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
	"github.com/plumbnet/plumb/internal/wire"
)

// session is one control connection: its state machine and replies.
// Everything but the fields under mu and the reply writer is touched
// only by the session's own goroutine; a transfer runs in a goroutine
// of its own so that ABOR and STAT can be read while it goes on.
type session struct {
	srv    *Server
	raw    net.Conn // as accepted, or the connection under an accepted *tls.Conn
	conn   net.Conn // raw, or a *tls.Conn over it
	br     *bufio.Reader
	lr     *wire.Reader // command lines, from br
	log    *slog.Logger
	remote netip.Addr // the client's IP (a PROXY header's source, if any)
	local  netip.Addr // the address the client reached (a PROXY header's destination, if any)
	socket netip.Addr // the local address of the socket itself, which data listeners bind
	ctx    context.Context
	cancel context.CancelFunc

	wmu sync.Mutex // serialises replies from the session and its transfer

	cmdAt time.Time // when the command being run arrived

	tls   bool
	mark  []byte // the control connection's session mark (sessionMark); nil without TLS
	pbsz  bool
	protP bool

	user      string // from USER, waiting for PASS
	fs        FS
	loggedIn  bool
	anonymous bool
	hostSent  bool
	failures  int
	cwd       string
	ascii     bool
	epsvAll   bool

	rest          int64  // set by REST, taken by the next transfer command
	rnfr, rnfrArg string // RNFR sets rnfr; the next command sees it as rnfrArg
	pasv          *passiveListener
	active        netip.AddrPort // the PORT/EPRT address, if valid
	mlstFacts     string

	mu      sync.Mutex
	xfer    *transfer
	woken   bool // Shutdown asked the session to end when idle
	waiting bool // reading the next command
	killed  atomic.Bool
}

// errLineTooLong is readLine's report of a line over MaxLineLength.
var errLineTooLong = errors.New("ftp: command line too long")

// errClosing is readLine's report that the server is shutting down.
var errClosing = errors.New("ftp: server shutting down")

// errLineFarTooLong is a command line too long even to skip.
var errLineFarTooLong = errors.New("ftp: command line too long to skip")

func newSession(srv *Server, c net.Conn) *session {
	ctx, cancel := context.WithCancel(srv.loop.Context())
	s := &session{
		srv: srv, raw: c, conn: c, ctx: ctx, cancel: cancel,
		remote: addrOf(c.RemoteAddr()), local: addrOf(c.LocalAddr()), socket: socketAddr(c),
		cwd: "/", mlstFacts: defaultMLSTFacts,
	}
	if tc, ok := c.(*tls.Conn); ok {
		s.raw = tc.NetConn()
	}
	s.log = srv.logger().With("client", c.RemoteAddr().String())
	s.br = bufio.NewReaderSize(s.conn, 512)
	s.lr = wire.NewReader(s.br)
	s.lr.MaxLine = lifecycle.OrDefault(srv.MaxLineLength, DefaultMaxLineLength) + 2 // with CRLF
	s.lr.Lenient = true                                                             // a bare LF ends a command, as most servers take it
	s.lr.IdleTimeout = lifecycle.WireTimeout(srv.IdleTimeout, DefaultIdleTimeout)
	s.lr.LineTimeout = lifecycle.WireTimeout(srv.LineTimeout, DefaultLineTimeout)
	s.lr.Conn = commandDeadline{s}
	return s
}

// The session as internal/lifecycle's Loop sees it.
func (s *session) Serve() { s.serve() }
func (s *session) Wake()  { s.stopWhenIdle() }
func (s *session) Close() { s.kill() }

// commandDeadline is the command reader's view of the connection: under
// the session's lock, so that a Wake between the session's check and
// the deadline set for an idle wait is not lost.
type commandDeadline struct{ s *session }

func (d commandDeadline) SetReadDeadline(t time.Time) error {
	s := d.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.woken && s.xfer == nil {
		t = time.Now()
	}
	return s.conn.SetReadDeadline(t)
}

func (s *session) serve() {
	defer s.finish()
	setOOBInline(s.raw)
	if tc, ok := s.conn.(*tls.Conn); ok {
		if err := s.handshake(tc); err != nil {
			s.log.Debug("implicit TLS handshake failed", "err", err)
			return
		}
	}
	welcome := s.srv.Welcome
	if welcome == "" {
		welcome = "plumb FTP server ready"
	}
	s.reply(220, welcome)
	s.log.Debug("session started", "tls", s.tls)
	for {
		line, err := s.readLine()
		switch {
		case err == nil:
			s.cmdAt = time.Now()
		case errors.Is(err, errLineTooLong):
			s.reply(500, "Command line too long")
			continue
		case errors.Is(err, errLineFarTooLong):
			s.reply(421, "Command line too long; closing control connection")
			return
		case errors.Is(err, errClosing):
			s.waitTransfer()
			s.reply(421, "Server shutting down; closing control connection")
			return
		case isTimeout(err):
			if s.busy() && !s.lr.Partial() {
				continue // no command is expected while data flows
			}
			if s.isClosing() {
				s.reply(421, "Server shutting down; closing control connection")
			} else if s.lr.Partial() {
				s.reply(421, "Command line not finished in time; closing control connection")
			} else {
				s.reply(421, "Timeout waiting for a command; closing control connection")
			}
			return
		default:
			return // the client went away; finish aborts a transfer
		}
		if s.dispatch(line) {
			return
		}
	}
}

// finish ends the session: it aborts a transfer in progress and closes
// everything the session holds.
func (s *session) finish() {
	s.mu.Lock()
	x := s.xfer
	s.mu.Unlock()
	if x != nil {
		x.abort()
		<-x.done
	}
	s.cancel()
	s.closePassive()
	s.logout()
	s.conn.Close()
	s.raw.Close()
	s.log.Debug("session ended")
}

// dispatch runs one command line; it reports whether the session ends.
func (s *session) dispatch(line string) (quit bool) {
	verb, arg := parseCommandLine(line)
	if verb == "" {
		s.reply(500, "Syntax error: empty command")
		return false
	}
	cmd := commands[verb]
	if cmd == nil {
		s.reply(500, "Unknown command")
		return false
	}
	if !cmd.duringTransfer {
		s.waitTransfer()
	}
	s.rnfrArg, s.rnfr = s.rnfr, ""
	if cmd.login && !s.loggedIn {
		s.reply(530, "Please log in with USER and PASS")
		return false
	}
	if cmd.arg == argRequired && arg == "" {
		s.reply(501, "Syntax error: "+verb+" needs an argument")
		return false
	}
	if cmd.arg == argNone && arg != "" {
		s.reply(501, "Syntax error: "+verb+" takes no argument")
		return false
	}
	if strings.IndexByte(arg, 0) >= 0 {
		// No file name holds one, and no file system takes one.
		s.reply(501, "Syntax error: NUL byte in the argument")
		return false
	}
	if s.fault(verb) {
		return false
	}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic in command handler", "verb", verb, "panic", p, "stack", string(debug.Stack()))
			s.reply(421, "Internal error; closing control connection")
			quit = true
		}
	}()
	return cmd.fn(s, arg)
}

// parseCommandLine splits a command line into its verb, upper-cased,
// and its argument. Telnet IAC sequences (sent with ABOR as an
// interrupt) and the line end are removed; the argument keeps every
// other byte, spaces included.
func parseCommandLine(line string) (verb, arg string) {
	if strings.IndexByte(line, 0xff) >= 0 {
		line = stripTelnet(line)
	}
	line = strings.TrimSuffix(line, "\n")
	line = strings.TrimSuffix(line, "\r")
	line = strings.TrimLeft(line, " ")
	verb, arg, _ = strings.Cut(line, " ")
	if len(verb) > 8 {
		return "", ""
	}
	return asciiUpper(verb), arg
}

// asciiUpper upper-cases ASCII letters only, leaving other bytes as they
// are (strings.ToUpper would rewrite invalid UTF-8).
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// stripTelnet removes IAC command sequences: IAC IAC is a literal 0xff
// (kept), IAC followed by a command byte (0xf0-0xfe) is dropped, and a
// lone IAC (its command byte taken as urgent data) is dropped.
func stripTelnet(line string) string {
	var b strings.Builder
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c != 0xff {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(line) {
			switch n := line[i+1]; {
			case n == 0xff:
				b.WriteByte(0xff)
				i++
			case n >= 0xf0:
				i++
			}
		}
	}
	return b.String()
}

// readLine reads one command line, within IdleTimeout for it to start
// and LineTimeout for it to end (internal/wire). A line too long is
// skipped and answered; one too long even to skip ends the session.
func (s *session) readLine() (string, error) {
	s.mu.Lock()
	if s.woken && s.xfer == nil {
		s.mu.Unlock()
		return "", errClosing
	}
	s.waiting = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.waiting = false
		s.mu.Unlock()
	}()
	line, err := s.lr.ReadLine()
	if errors.Is(err, wire.ErrLineTooLong) {
		if derr := s.lr.DiscardLine(); errors.Is(derr, wire.ErrLineTooLong) {
			return "", errLineFarTooLong
		} else if derr != nil {
			return "", derr
		}
		return "", errLineTooLong
	}
	return line, err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// reply sends one reply; a msg with newlines becomes a multi-line reply.
func (s *session) reply(code int, msg string) {
	var b strings.Builder
	lines := strings.Split(strings.ReplaceAll(msg, "\r", ""), "\n")
	for i, l := range lines {
		b.WriteString(strconv.Itoa(code))
		if i == len(lines)-1 {
			b.WriteByte(' ')
		} else {
			b.WriteByte('-')
		}
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	s.writeReply(b.String())
}

// replyLines sends a multi-line reply whose middle lines are given as
// is (prefixed with a space, as RFC 2389 and 3659 lay out FEAT and MLST).
func (s *session) replyLines(code int, first string, lines []string, last string) {
	var b strings.Builder
	fmt.Fprintf(&b, "%d-%s\r\n", code, first)
	for _, l := range lines {
		b.WriteByte(' ')
		b.WriteString(strings.NewReplacer("\r", "", "\n", "").Replace(l))
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "%d %s\r\n", code, last)
	s.writeReply(b.String())
}

func (s *session) writeReply(text string) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.conn.SetWriteDeadline(lifecycle.Deadline(s.srv.idleTimeout()))
	if _, err := io.WriteString(s.conn, text); err != nil {
		s.log.Debug("writing reply failed", "err", err)
		s.raw.Close()
	}
}

// handshake completes the TLS handshake of the control connection: one
// the listener handed over as a *tls.Conn (implicit FTPS), or one made
// by AUTH TLS, and from then on treats the connection as TLS.
func (s *session) handshake(tc *tls.Conn) error {
	s.raw.SetDeadline(lifecycle.Deadline(s.srv.passiveTimeout()))
	err := tc.HandshakeContext(s.ctx)
	s.raw.SetDeadline(time.Time{})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.conn = tc
	s.mu.Unlock()
	s.tls = true
	s.mark = sessionMark(tc.ConnectionState())
	return nil
}

// socketAddr is the local IP of the socket under c, through the
// wrappers of TLS (NetConn), the daemon (NetConn) and go-proxyproto
// (Raw): a PROXY header's destination is the balancer's address, which
// no listener here could bind.
func socketAddr(c net.Conn) netip.Addr {
	for range 8 {
		switch w := c.(type) {
		case interface{ NetConn() net.Conn }:
			c = w.NetConn()
		case interface{ Raw() net.Conn }:
			c = w.Raw()
		default:
			return addrOf(c.LocalAddr())
		}
	}
	return addrOf(c.LocalAddr())
}

// resolve turns a client's path into the session's absolute virtual
// path and the FS name for it. ".." never climbs above "/".
func (s *session) resolve(arg string) (vpath, name string) {
	p := arg
	if !strings.HasPrefix(p, "/") {
		p = s.cwd + "/" + p
	}
	vpath = path.Clean("/" + p)
	name = strings.TrimPrefix(vpath, "/")
	if name == "" {
		name = "."
	}
	return vpath, name
}

// takeRest returns the REST offset and clears it: it applies to the
// next transfer only, whatever commands (EPSV, TYPE) come in between.
func (s *session) takeRest() int64 {
	r := s.rest
	s.rest = 0
	return r
}

func (s *session) logout() {
	if c, ok := s.fs.(io.Closer); ok {
		c.Close()
	}
	s.fs, s.loggedIn, s.anonymous, s.user = nil, false, false, ""
	s.cwd = "/"
}

func (s *session) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.woken
}

// stopWhenIdle asks the session to end at its next idle moment: at once
// if it waits for a command outside a transfer, else when its command
// or transfer is done.
func (s *session) stopWhenIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.woken = true
	if s.waiting && s.xfer == nil {
		s.conn.SetReadDeadline(time.Now())
	}
}

// kill closes the session's connections at once.
func (s *session) kill() {
	s.killed.Store(true)
	s.cancel() // ends a Backend call waiting (a login throttle, say)
	s.mu.Lock()
	x := s.xfer
	s.mu.Unlock()
	if x != nil {
		x.abort()
	}
	s.raw.Close()
}
