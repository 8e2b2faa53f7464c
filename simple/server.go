package simple

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
)

// ErrServerClosed is returned by Serve and ServePacket after Shutdown or
// Close. It matches net.ErrClosed with errors.Is.
var ErrServerClosed = lifecycle.ErrServerClosed

// Defaults for the zero values of Server's fields.
const (
	DefaultIdleTimeout = 5 * time.Minute
	DefaultMaxBuffer   = 64 << 10
	// firstBuffer is what echo and discard read into until a peer sends
	// more than it holds: small, so idle connections cost little.
	firstBuffer = 512
	// drainTimeout bounds how long a daytime, qotd or time connection
	// waits for the peer to close after the reply.
	drainTimeout = 2 * time.Second
)

// Server serves one small service over TCP (Serve) or UDP (ServePacket).
// The zero value of every field but Service is a safe default. A Server
// may serve several listeners; it must not be copied after first use.
type Server struct {
	// Service is the protocol served.
	Service Service

	// Quotes are qotd's replies, one picked at random for each request;
	// nil (or none short enough for MaxQuote) uses a built-in list.
	Quotes []string

	// IdleTimeout closes a TCP connection when nothing has moved on it
	// for this long: no byte read and no write finished. It also bounds
	// how long a write to a peer that does not read may block. Zero
	// means DefaultIdleTimeout; negative means no timeout.
	IdleTimeout time.Duration

	// MaxBuffer is the largest read buffer echo and discard grow to (per
	// TCP connection); zero means DefaultMaxBuffer.
	MaxBuffer int

	// Now returns the time for daytime and time; nil means time.Now.
	Now func() time.Time

	// Location is the zone daytime replies are written in; nil means time.Local.
	Location *time.Location

	// Logger receives connection errors at debug level and panics at
	// error level; nil means slog.Default().
	Logger *slog.Logger

	loop       lifecycle.Loop // the TCP side
	onceLoop   sync.Once
	inShutdown atomic.Bool // the UDP side
	mu         sync.Mutex
	packets    map[net.PacketConn]struct{}

	quotesOnce sync.Once
	replies    [][]byte // qotd replies, CRLF-terminated
	line       atomic.Uint64
}

func (s *Server) logger() *slog.Logger { return lifecycle.Logger(s.Logger) }

func (s *Server) idleTimeout() time.Duration {
	return lifecycle.Timeout(s.IdleTimeout, DefaultIdleTimeout)
}

func (s *Server) maxBuffer() int {
	if s.MaxBuffer <= 0 {
		return DefaultMaxBuffer
	}
	return max(s.MaxBuffer, firstBuffer)
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Serve accepts connections on l and serves each in its own goroutine
// until Shutdown or Close, then returns ErrServerClosed. Errors of one
// Accept (a full file table, a bad PROXY header) are logged and retried.
func (s *Server) Serve(l net.Listener) error {
	if serviceInfo[s.Service].name == "" {
		l.Close()
		return fmt.Errorf("simple: Server.Service %d is not a known service", int(s.Service))
	}
	s.onceLoop.Do(func() { s.loop.Name, s.loop.Logger = s.Service.String(), s.Logger })
	return s.loop.Serve(l, func(c net.Conn) lifecycle.Session { return &session{s: s, c: c} })
}

// session is one TCP connection, a lifecycle.Session of the loop.
type session struct {
	s     *Server
	c     net.Conn
	woken atomic.Bool // set by Wake; cheaper to check per read than Loop.Closing
}

func (ss *session) Serve() { ss.s.serveConn(ss.c, &ss.woken) }

// Wake ends a read at once: echo and discard waiting for input end,
// while a write in progress (echo's reply to what it has read) still
// completes; the session then sees the loop closing. Chargen's output
// has no end to wait for, so its write ends too.
func (ss *session) Wake() {
	ss.woken.Store(true)
	past := time.Unix(1, 0)
	if ss.s.Service == Chargen {
		ss.c.SetDeadline(past)
		return
	}
	ss.c.SetReadDeadline(past)
}

func (ss *session) Close() { ss.c.Close() }

// serveConn serves c until the peer leaves or woken is set.
func (s *Server) serveConn(c net.Conn, woken *atomic.Bool) {
	defer func() {
		if r := recover(); r != nil {
			s.logger().Error("panic serving connection", "service", s.Service.String(),
				"remote", c.RemoteAddr().String(), "panic", r, "stack", string(debug.Stack()))
		}
		c.Close()
	}()
	var err error
	switch s.Service {
	case Echo:
		err = s.serveEcho(c, woken)
	case Discard:
		err = s.serveDiscard(c, woken)
	case Chargen:
		err = s.serveChargen(c, woken)
	default:
		err = s.serveReply(c, woken)
	}
	if err != nil && !s.loop.Closing() && !errors.Is(err, io.EOF) {
		s.logger().Debug("connection ended", "service", s.Service.String(),
			"remote", c.RemoteAddr().String(), "err", err)
	}
}

// idleDeadline keeps a connection's deadline IdleTimeout ahead while it
// makes progress. Setting a deadline costs a timer update, so it is
// moved only when an eighth of the timeout has passed since the last
// move: a busy connection pays for it rarely.
type idleDeadline struct {
	c   net.Conn
	d   time.Duration
	set time.Time
}

func (t *idleDeadline) refresh() error {
	if t.d <= 0 {
		return nil
	}
	now := time.Now()
	if now.Sub(t.set) < t.d/8 {
		return nil
	}
	t.set = now
	return t.c.SetDeadline(now.Add(t.d))
}

// serveEcho sends back what it reads, through one buffer that starts
// small and grows only while reads fill it.
func (s *Server) serveEcho(c net.Conn, woken *atomic.Bool) error {
	dl := idleDeadline{c: c, d: s.idleTimeout()}
	limit := s.maxBuffer()
	buf := make([]byte, firstBuffer)
	for {
		if err := dl.refresh(); err != nil {
			return err
		}
		if woken.Load() { // after refresh, so that a Wake is never undone
			return nil
		}
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return werr
			}
			if n == len(buf) && len(buf) < limit {
				buf = make([]byte, min(4*len(buf), limit))
			}
		}
		if err != nil {
			return err
		}
	}
}

func (s *Server) serveDiscard(c net.Conn, woken *atomic.Bool) error {
	dl := idleDeadline{c: c, d: s.idleTimeout()}
	limit := s.maxBuffer()
	buf := make([]byte, firstBuffer)
	for {
		if err := dl.refresh(); err != nil {
			return err
		}
		if woken.Load() { // after refresh, so that a Wake is never undone
			return nil
		}
		n, err := c.Read(buf)
		if n == len(buf) && len(buf) < limit {
			buf = make([]byte, min(4*len(buf), limit))
		}
		if err != nil {
			return err
		}
	}
}

// serveChargen writes the pattern until the peer goes away; what the
// peer sends is left unread (RFC 864 throws it away).
func (s *Server) serveChargen(c net.Conn, woken *atomic.Bool) error {
	dl := idleDeadline{c: c, d: s.idleTimeout()}
	for {
		if err := dl.refresh(); err != nil {
			return err
		}
		if woken.Load() { // after refresh, so that a Wake is never undone
			return nil
		}
		if _, err := c.Write(chargenStream[:chargenWrite]); err != nil {
			return err
		}
	}
}

// serveReply answers daytime, qotd and time: the reply, then a
// half-close, then a short wait for the peer to close, so that the
// peer's unread input does not make the kernel reset the connection
// and destroy the reply before it is read.
func (s *Server) serveReply(c net.Conn, woken *atomic.Bool) error {
	c.SetDeadline(time.Now().Add(drainTimeout))
	if _, err := c.Write(s.reply(nil)); err != nil {
		return err
	}
	cw, ok := c.(interface{ CloseWrite() error })
	if !ok {
		return nil
	}
	if err := cw.CloseWrite(); err != nil {
		return err
	}
	if woken.Load() { // a Wake may have come before the deadline was set
		return nil
	}
	var buf [128]byte
	for {
		if _, err := c.Read(buf[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// reply returns the answer of daytime, qotd or time to a request, and
// for chargen over UDP a datagram of 1 to 512 characters.
func (s *Server) reply(req []byte) []byte {
	switch s.Service {
	case Daytime:
		loc := s.Location
		if loc == nil {
			loc = time.Local
		}
		return s.now().In(loc).AppendFormat(make([]byte, 0, 48), DaytimeLayout+"\r\n")
	case Time:
		b := EncodeTime(s.now())
		return b[:]
	case QOTD:
		s.quotesOnce.Do(s.prepareQuotes)
		return s.replies[rand.IntN(len(s.replies))]
	case Chargen:
		n := s.line.Add(1) - 1
		return chargenDatagram(int(n%chargenRing), 1+rand.IntN(MaxChargenDatagram))
	case Echo:
		return req
	}
	return nil
}

// prepareQuotes makes the qotd replies once, keeping only quotations
// short enough for RFC 865.
func (s *Server) prepareQuotes() {
	for _, q := range s.Quotes {
		if len(q)+2 <= MaxQuote {
			s.replies = append(s.replies, []byte(q+"\r\n"))
		}
	}
	if len(s.replies) == 0 {
		for _, q := range builtinQuotes {
			s.replies = append(s.replies, []byte(q+"\r\n"))
		}
	}
}

// Shutdown stops the server gracefully: it closes the listeners and
// packet connections, lets each connection finish the write it is in
// (echo's reply to what it has read, daytime's line) and then ends it,
// and waits for that until ctx is done, when it closes what is left and
// returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closePackets()
	return s.loop.Shutdown(ctx)
}

// Close closes every listener, packet connection and connection at once.
func (s *Server) Close() error {
	s.closePackets()
	return s.loop.Close()
}

func (s *Server) closePackets() {
	s.inShutdown.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	for pc := range s.packets {
		pc.Close()
	}
}
