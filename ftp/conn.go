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
)

// session is one control connection: its state machine and replies.
// Everything but the fields under mu and the reply writer is touched
// only by the session's own goroutine; a transfer runs in a goroutine
// of its own so that ABOR and STAT can be read while it goes on.
type session struct {
	srv    *Server
	raw    net.Conn // as accepted, or the connection under an accepted *tls.Conn
	conn   net.Conn // raw, or a *tls.Conn over it
	r      *bufio.Reader
	log    *slog.Logger
	remote netip.Addr // the client's IP (a PROXY header's source, if any)
	local  netip.Addr // the address the client reached (a PROXY header's destination, if any)
	socket netip.Addr // the local address of the socket itself, which data listeners bind
	ctx    context.Context
	cancel context.CancelFunc

	wmu sync.Mutex // serialises replies from the session and its transfer

	partial []byte    // a line read in part before a read error
	tooLong bool      // discarding the rest of an over-long line
	cmdAt   time.Time // when the command being run arrived

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
	closing bool // Shutdown asked the session to end when idle
	killed  atomic.Bool
}

// errLineTooLong is readLine's report of a line over MaxLineLength.
var errLineTooLong = errors.New("ftp: command line too long")

// errClosing is readLine's report that the server is shutting down.
var errClosing = errors.New("ftp: server shutting down")

func newSession(srv *Server, c net.Conn) *session {
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{
		srv: srv, raw: c, conn: c, ctx: ctx, cancel: cancel,
		remote: addrOf(c.RemoteAddr()), local: addrOf(c.LocalAddr()), socket: socketAddr(c),
		cwd: "/", mlstFacts: defaultMLSTFacts,
	}
	if tc, ok := c.(*tls.Conn); ok {
		s.raw = tc.NetConn()
	}
	s.log = srv.logger().With("client", c.RemoteAddr().String())
	return s
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
	s.r = bufio.NewReaderSize(s.conn, 512)
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
		case errors.Is(err, errClosing):
			s.waitTransfer()
			s.reply(421, "Server shutting down; closing control connection")
			return
		case isTimeout(err):
			if s.busy() {
				continue // no command is expected while data flows
			}
			if s.isClosing() {
				s.reply(421, "Server shutting down; closing control connection")
			} else {
				s.reply(421, "Idle timeout; closing control connection")
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

// readLine reads one command line, refreshing the idle deadline.
func (s *session) readLine() (string, error) {
	s.mu.Lock()
	if s.closing && s.xfer == nil {
		s.mu.Unlock()
		return "", errClosing
	}
	s.conn.SetReadDeadline(time.Now().Add(durationOr(s.srv.IdleTimeout, DefaultIdleTimeout)))
	s.mu.Unlock()
	limit := intOr(s.srv.MaxLineLength, DefaultMaxLineLength) + 2 // with CRLF
	for {
		chunk, err := s.r.ReadSlice('\n')
		if s.tooLong {
			if err == nil {
				s.tooLong = false
				return "", errLineTooLong
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			return "", err
		}
		if len(s.partial)+len(chunk) > limit {
			s.partial = s.partial[:0]
			if err == nil {
				return "", errLineTooLong
			}
			s.tooLong = true
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			return "", err
		}
		if err == nil {
			if len(s.partial) == 0 {
				return string(chunk), nil
			}
			line := string(append(s.partial, chunk...))
			s.partial = s.partial[:0]
			return line, nil
		}
		s.partial = append(s.partial, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return "", err
	}
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
	s.conn.SetWriteDeadline(time.Now().Add(durationOr(s.srv.IdleTimeout, DefaultIdleTimeout)))
	if _, err := io.WriteString(s.conn, text); err != nil {
		s.log.Debug("writing reply failed", "err", err)
		s.raw.Close()
	}
}

// handshake completes the TLS handshake of the control connection: one
// the listener handed over as a *tls.Conn (implicit FTPS), or one made
// by AUTH TLS, and from then on treats the connection as TLS.
func (s *session) handshake(tc *tls.Conn) error {
	s.raw.SetDeadline(time.Now().Add(durationOr(s.srv.PassiveTimeout, DefaultPassiveTimeout)))
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
	return s.closing
}

// stopWhenIdle asks the session to end at its next idle moment.
func (s *session) stopWhenIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closing = true
	s.conn.SetReadDeadline(time.Now())
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
