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
	"strings"
	"sync"
	"time"

	"github.com/plumbnet/plumb/sasl"
)

type state int

const (
	stateAuthorization state = 1 << iota
	stateTransaction
)

// saslLineMax is the longest SASL response line: a MaxResponseLen
// response in base64 and CRLF.
var saslLineMax = (sasl.MaxResponseLen+2)/3*4 + 2

var errLineTooLong = errors.New("pop3: line too long")

// conn is one session.
type conn struct {
	s      *Server
	nc     net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	ctx    context.Context
	cancel context.CancelFunc

	tls       bool
	state     state
	user      string // from USER, waiting for PASS
	timestamp string // the APOP timestamp of the greeting, "" without APOP
	bad       int
	authFails int
	quit      bool

	drop    Maildrop
	msgs    []Message
	deleted []bool

	mu      sync.Mutex
	waiting bool // blocked reading the next command
}

func newConn(s *Server, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	return &conn{s: s, nc: nc, ctx: ctx, cancel: cancel, state: stateAuthorization,
		br: bufio.NewReaderSize(nc, 8192), bw: bufio.NewWriterSize(nc, 32<<10)}
}

// closeIfIdle closes the session if it is waiting for a command; a
// command in progress finishes first.
func (c *conn) closeIfIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waiting {
		c.nc.Close()
	}
}

func (c *conn) info() ConnInfo { return ConnInfo{RemoteAddr: c.nc.RemoteAddr(), TLS: c.tls} }

func (c *conn) serve() {
	log := c.s.logger()
	defer func() {
		if v := recover(); v != nil {
			log.Error("pop3: panic in session", "remote", c.nc.RemoteAddr().String(), "panic", v, "stack", string(debug.Stack()))
			c.reply("-ERR [SYS/TEMP] Internal error, closing connection")
			c.bw.Flush()
		}
		c.cancel()
		if c.drop != nil {
			c.drop.Close() // without QUIT nothing is deleted
		}
		c.nc.Close()
	}()
	if tc, ok := c.nc.(*tls.Conn); ok {
		tc.SetDeadline(time.Now().Add(DefaultTLSTimeout))
		if err := tc.HandshakeContext(c.ctx); err != nil {
			log.Debug("pop3: TLS handshake failed", "remote", c.nc.RemoteAddr().String(), "err", err)
			return
		}
		tc.SetDeadline(time.Time{})
		c.tls = true
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
	idle := orDefault(c.s.IdleTimeout, DefaultIdleTimeout)
	maxLine := orDefault(c.s.MaxLineLength, DefaultMaxLineLength)
	maxBad := orDefault(c.s.MaxBadCommands, DefaultMaxBadCommands)
	for !c.quit {
		if c.s.shuttingDown() {
			c.reply("-ERR [SYS/TEMP] Server shutting down")
			c.bw.Flush()
			return
		}
		c.mu.Lock()
		c.waiting = true
		c.mu.Unlock()
		c.nc.SetReadDeadline(time.Now().Add(idle))
		line, err := c.readLine(maxLine)
		c.mu.Lock()
		c.waiting = false
		c.mu.Unlock()
		switch {
		case errors.Is(err, errLineTooLong):
			c.bad++
			c.reply("-ERR Line too long")
		case err != nil:
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.reply("-ERR Disconnected for inactivity")
				c.bw.Flush()
			}
			return
		default:
			if err := c.dispatch(line); err != nil {
				log.Debug("pop3: session ended", "remote", c.nc.RemoteAddr().String(), "err", err)
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

// readLine reads one line of at most max bytes with its line end, and
// returns it without the line end. A longer line is read to its end
// and discarded.
func (c *conn) readLine(max int) (string, error) {
	var buf []byte
	tooLong := false
	for {
		chunk, err := c.br.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > max {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return "", err
		}
	}
	if tooLong {
		return "", errLineTooLong
	}
	s := strings.TrimSuffix(string(buf), "\n")
	return strings.TrimSuffix(s, "\r"), nil
}

// reply writes one response line; the loop flushes.
func (c *conn) reply(line string) {
	c.bw.WriteString(line)
	c.bw.WriteString("\r\n")
}

type handler struct {
	fn     func(c *conn, cmd command) error
	states state
}

var handlers map[string]handler

func init() {
	auth, trans, both := stateAuthorization, stateTransaction, stateAuthorization|stateTransaction
	handlers = map[string]handler{
		"CAPA": {(*conn).cmdCapa, both},
		"QUIT": {(*conn).cmdQuit, both},
		"USER": {(*conn).cmdUser, auth},
		"PASS": {(*conn).cmdPass, auth},
		"APOP": {(*conn).cmdAPOP, auth},
		"AUTH": {(*conn).cmdAuth, auth},
		"STLS": {(*conn).cmdSTLS, auth},
		"STAT": {(*conn).cmdStat, trans},
		"LIST": {(*conn).cmdList, trans},
		"UIDL": {(*conn).cmdUIDL, trans},
		"RETR": {(*conn).cmdRetr, trans},
		"TOP":  {(*conn).cmdTop, trans},
		"DELE": {(*conn).cmdDele, trans},
		"NOOP": {(*conn).cmdNoop, trans},
		"RSET": {(*conn).cmdRset, trans},
	}
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
	return h.fn(c, cmd)
}

// plaintextOK reports whether a password may be received here.
func (c *conn) plaintextOK() bool {
	return c.tls || c.s.InsecureAuth || sasl.IsLoopback(c.nc.RemoteAddr())
}

func (c *conn) cmdCapa(cmd command) error {
	c.reply("+OK Capability list follows")
	for _, l := range []string{"TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"} {
		c.reply(l)
	}
	if c.state == stateAuthorization {
		if c.plaintextOK() {
			c.reply("USER")
			c.reply("SASL " + strings.Join(sasl.Mechanisms(), " "))
		}
		if c.s.TLSConfig != nil && !c.tls {
			c.reply("STLS")
		}
	}
	c.reply("IMPLEMENTATION plumb")
	c.reply(".")
	return nil
}

func (c *conn) cmdQuit(cmd command) error {
	c.quit = true
	if c.state != stateTransaction {
		c.reply("+OK Bye")
		return nil
	}
	// UPDATE state (RFC 1939 §6).
	var uids []string
	for i, d := range c.deleted {
		if d {
			uids = append(uids, c.msgs[i].UID)
		}
	}
	left := len(c.msgs) - len(uids)
	var err error
	if len(uids) > 0 {
		err = c.drop.Delete(c.ctx, uids)
	}
	// Release the maildrop before the reply, so a client that logs in
	// again at once finds it free.
	c.drop.Close()
	c.drop = nil
	if err != nil {
		c.s.logger().Error("pop3: deleting messages", "user", c.user, "err", err)
		c.reply("-ERR [SYS/TEMP] Some deleted messages were not removed")
		return nil
	}
	c.reply(fmt.Sprintf("+OK Bye (%d messages left)", left))
	return nil
}

func (c *conn) cmdSTLS(cmd command) error {
	if c.s.TLSConfig == nil || c.tls {
		c.reply("-ERR STLS not available")
		return nil
	}
	c.reply("+OK Begin TLS negotiation")
	if err := c.bw.Flush(); err != nil {
		return err
	}
	if c.br.Buffered() > 0 {
		// Commands pipelined after STLS were sent in the clear: refuse
		// to carry them into the TLS session (plaintext injection).
		return errors.New("pop3: data after STLS before the TLS handshake")
	}
	tc := tls.Server(c.nc, c.s.TLSConfig)
	tc.SetDeadline(time.Now().Add(DefaultTLSTimeout))
	if err := tc.HandshakeContext(c.ctx); err != nil {
		return fmt.Errorf("pop3: STLS handshake: %w", err)
	}
	tc.SetDeadline(time.Time{})
	c.mu.Lock()
	c.nc = tc
	c.mu.Unlock()
	c.br.Reset(tc)
	c.bw.Reset(tc)
	c.tls, c.user = true, ""
	return nil
}
