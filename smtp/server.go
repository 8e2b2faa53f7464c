package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for the Server's zero-valued limits.
const (
	DefaultMaxLineLength     = 2048 // RFC 5321 says 512; AUTH and ESMTP parameters need more (RFC 4954 section 4)
	DefaultMaxDataLineLength = 64 << 10
	DefaultMaxMessageBytes   = 32 << 20
	DefaultMaxRecipients     = 100
	DefaultMaxErrors         = 10
	DefaultIdleTimeout       = 5 * time.Minute // RFC 5321 section 4.5.3.2.7
	DefaultLineTimeout       = time.Minute
	DefaultDataTimeout       = 10 * time.Minute
	DefaultWriteTimeout      = time.Minute
)

// A Server is an SMTP server (RFC 5321) handing each transaction to a
// Backend. The zero value of every field but Backend is a safe default.
type Server struct {
	// Backend makes a Session per connection. Required.
	Backend Backend
	// Hostname is the name in the greeting, EHLO and Received: headers;
	// empty means os.Hostname.
	Hostname string
	// TLSConfig enables STARTTLS (RFC 3207). For implicit TLS
	// (submissions, port 465; RFC 8314) serve a listener that yields
	// *tls.Conn, such as tls.NewListener's: the server finishes the
	// handshake and takes that connection, and only that one, as TLS.
	TLSConfig *tls.Config

	// AuthRequired refuses MAIL until the client has authenticated (submission).
	AuthRequired bool
	// TLSRequired refuses MAIL and AUTH from a non-loopback client until
	// it has used STARTTLS.
	TLSRequired bool
	// AllowInsecureAuth offers AUTH to a non-loopback client without TLS.
	// Leave it off: the password would cross the network in clear.
	AllowInsecureAuth bool
	// EnableVRFY answers VRFY from the backend (a VerifySession); off,
	// VRFY gets the RFC 5321 section 3.5.3 answer 252.
	EnableVRFY bool
	// DisableChunking stops offering CHUNKING/BDAT (RFC 3030).
	DisableChunking bool

	// MaxLineLength bounds a command line, CRLF included.
	MaxLineLength int
	// MaxDataLineLength bounds a line of a message.
	MaxDataLineLength int
	// MaxMessageBytes bounds a message; it is offered as SIZE (RFC 1870).
	MaxMessageBytes int64
	// MaxRecipients bounds RCPT commands per message.
	MaxRecipients int
	// MaxErrors closes a connection after this many failed commands.
	MaxErrors int
	// Durations: zero means the package default, negative means no limit.

	// IdleTimeout closes a connection that sends no command for this long.
	IdleTimeout time.Duration
	// LineTimeout bounds the time from the first byte of a command line
	// to its end, so a client trickling bytes cannot hold a connection.
	LineTimeout time.Duration
	// DataTimeout bounds the wait for each part of a message.
	DataTimeout time.Duration
	// WriteTimeout bounds each write of a reply and a TLS handshake.
	WriteTimeout time.Duration

	// Logger receives connection and error logs; nil means slog.Default.
	Logger *slog.Logger

	mu        sync.Mutex
	listeners map[*net.Listener]struct{} // by pointer: a listener need not be comparable
	conns     map[*Conn]struct{}
	closing   atomic.Bool
	wg        sync.WaitGroup
	nextID    atomic.Uint64
}

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("smtp: server closed")

// Serve accepts connections on l and serves each in its own goroutine
// until Shutdown or Close.
func (s *Server) Serve(l net.Listener) error {
	if s.Backend == nil {
		return errors.New("smtp: Server.Backend is nil")
	}
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		return ErrServerClosed
	}
	if s.listeners == nil {
		s.listeners = map[*net.Listener]struct{}{}
		s.conns = map[*Conn]struct{}{}
	}
	s.listeners[&l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, &l)
		s.mu.Unlock()
	}()
	var delay time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.closing.Load() || errors.Is(err, net.ErrClosed) {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		c := s.newConn(nc)
		s.mu.Lock()
		if s.closing.Load() {
			s.mu.Unlock()
			nc.Close()
			return ErrServerClosed
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			c.serve()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// Shutdown stops accepting, tells idle connections 421 and closes them,
// lets transactions in progress finish, and waits for every connection
// to end or ctx to expire, when it closes the rest.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	s.mu.Lock()
	for l := range s.listeners {
		(*l).Close()
	}
	for c := range s.conns {
		c.wakeIfIdle()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.Close()
		<-done
		return ctx.Err()
	}
}

// Close closes every listener and connection at once.
func (s *Server) Close() error {
	s.closing.Store(true)
	s.mu.Lock()
	for l := range s.listeners {
		(*l).Close()
	}
	for c := range s.conns {
		c.close()
	}
	s.mu.Unlock()
	return nil
}

func (s *Server) hostname() string {
	if s.Hostname != "" {
		return s.Hostname
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func orDefault[T int | int64](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// duration applies the house rule: zero is def, negative stays negative
// (no limit), as the wire kit takes it.
func duration(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// deadline returns the time d from now, or the zero time (none) if d is negative.
func deadline(d time.Duration) time.Time {
	if d < 0 {
		return time.Time{}
	}
	return time.Now().Add(d)
}

func (s *Server) maxLine() int      { return orDefault(s.MaxLineLength, DefaultMaxLineLength) }
func (s *Server) maxDataLine() int  { return orDefault(s.MaxDataLineLength, DefaultMaxDataLineLength) }
func (s *Server) maxMessage() int64 { return orDefault(s.MaxMessageBytes, DefaultMaxMessageBytes) }
func (s *Server) maxRcpt() int      { return orDefault(s.MaxRecipients, DefaultMaxRecipients) }
func (s *Server) maxErrors() int    { return orDefault(s.MaxErrors, DefaultMaxErrors) }

// writeDeadline is when a reply being written now must be out.
func (s *Server) writeDeadline() time.Time {
	return deadline(duration(s.WriteTimeout, DefaultWriteTimeout))
}
