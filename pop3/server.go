package pop3

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
)

// Defaults of the Server's zero-valued limits.
const (
	DefaultIdleTimeout     = 10 * time.Minute // RFC 1939 §3: at least 10 minutes
	DefaultLineTimeout     = time.Minute
	DefaultMaxLineLength   = 1024
	DefaultMaxBadCommands  = 10
	DefaultMaxAuthFailures = 3
	DefaultTLSTimeout      = 30 * time.Second
	DefaultWriteTimeout    = time.Minute
)

// ErrServerClosed is returned by Serve after Shutdown or Close. It
// matches net.ErrClosed with errors.Is.
var ErrServerClosed = lifecycle.ErrServerClosed

// Server is a POP3 server. Its exported fields are read when Serve is
// called; zero values are safe. A zero Duration means the package's
// default, a negative one means no limit.
type Server struct {
	// Backend authenticates users and opens maildrops; required.
	Backend Backend
	// TLSConfig enables STLS when set. Implicit TLS (POP3S) is a
	// listener whose connections are *tls.Conn (tls.NewListener).
	TLSConfig *tls.Config
	// Hostname is named in the greeting and the APOP timestamp; empty
	// means os.Hostname.
	Hostname string
	// Logger receives session errors; nil means slog.Default().
	Logger *slog.Logger
	// Faults, if not nil, may refuse a step with a reply of its choosing
	// (fault injection; see [Faults]).
	Faults Faults
	// IdleTimeout closes a session that sends no command for this long;
	// 0 means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// LineTimeout bounds the time from the first byte of a command line
	// to its end, so that a client trickling a byte at a time cannot
	// hold a session (slowloris); 0 means DefaultLineTimeout.
	LineTimeout time.Duration
	// WriteTimeout bounds each write to the client, so that one that
	// asks for a message and stops reading cannot hold its session (and
	// the maildrop's lock) for ever; 0 means DefaultWriteTimeout.
	WriteTimeout time.Duration
	// MaxLineLength is the longest command line, CRLF included; a SASL
	// response line may be as long as a 4096-byte response in base64.
	MaxLineLength int
	// MaxBadCommands closes a session after this many unknown or
	// malformed commands.
	MaxBadCommands int
	// MaxAuthFailures closes a session after this many failed logins.
	MaxAuthFailures int
	// InsecureAuth allows passwords (USER/PASS, AUTH) without TLS from
	// non-loopback clients. Off: they are refused with [AUTH].
	InsecureAuth bool

	loop     lifecycle.Loop
	onceLoop sync.Once
	onceHost sync.Once
	host     string
}

func (s *Server) logger() *slog.Logger { return lifecycle.Logger(s.Logger) }

func (s *Server) hostname() string {
	s.onceHost.Do(func() {
		s.host = s.Hostname
		if s.host == "" {
			s.host, _ = os.Hostname()
		}
		if s.host == "" {
			s.host = "localhost"
		}
	})
	return s.host
}

// ListenAndServe listens on addr ("127.0.0.1:10110") and serves it.
func (s *Server) ListenAndServe(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln and serves each in its own goroutine
// until Shutdown or Close; it then returns ErrServerClosed. A *tls.Conn
// from ln is implicit TLS (POP3S), and nothing else is.
func (s *Server) Serve(ln net.Listener) error {
	if s.Backend == nil {
		ln.Close()
		return errors.New("pop3: Server.Backend is nil")
	}
	s.onceLoop.Do(func() { s.loop.Name, s.loop.Logger = "pop3", s.Logger })
	return s.loop.Serve(ln, func(nc net.Conn) lifecycle.Session { return newConn(s, nc) })
}

// Shutdown stops accepting, ends sessions waiting for a command (a
// session ended before QUIT deletes nothing), lets commands in progress
// finish, and waits for the sessions to end. When ctx is done first it
// closes what is left and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error { return s.loop.Shutdown(ctx) }

// Close stops accepting and closes every session at once.
func (s *Server) Close() error { return s.loop.Close() }
