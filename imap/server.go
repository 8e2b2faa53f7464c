package imap

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
)

// Defaults of the Server's zero-valued limits.
const (
	DefaultIdleTimeout      = 30 * time.Minute // RFC 9051 section 5.4: at least 30 minutes
	DefaultLineTimeout      = time.Minute
	DefaultWriteTimeout     = time.Minute
	DefaultTLSTimeout       = 30 * time.Second
	DefaultMaxLineLength    = 64 << 10
	DefaultMaxLiteralSize   = 64 << 20 // APPEND
	DefaultMaxStringLiteral = 64 << 10 // a literal that is not a message
	DefaultMaxCommandMemory = 1 << 20  // all the string literals of one command
	DefaultMaxBadCommands   = 3        // unknown commands before login
	DefaultMaxAuthFailures  = 3
	DefaultIdlePoll         = 30 * time.Second
	DefaultIdleKeepalive    = 2 * time.Minute
	// idleLimit is how long IDLE may wait for DONE at least (RFC 2177:
	// clients re-issue it within 29 minutes).
	idleLimit = 30 * time.Minute
	// literalRate is the slowest a literal may arrive at, in bytes per
	// second, on top of LineTimeout.
	literalRate = 16 << 10
)

// ErrServerClosed is returned by Serve after Shutdown or Close. It
// matches net.ErrClosed with errors.Is.
var ErrServerClosed = lifecycle.ErrServerClosed

// Server is an IMAP4rev1 and IMAP4rev2 server. Its exported fields are
// read when Serve is called; zero values are safe. A zero Duration
// means the package's default, a negative one means no limit.
type Server struct {
	// Backend authenticates users and opens their mailboxes; required.
	Backend Backend
	// TLSConfig enables STARTTLS when set. Implicit TLS (imaps) is a
	// listener whose connections are *tls.Conn (tls.NewListener).
	TLSConfig *tls.Config
	// Logger receives session errors; nil means slog.Default().
	Logger *slog.Logger
	// Faults, if not nil, may refuse a step with a reply of its choosing
	// (fault injection; see [Faults]).
	Faults Faults
	// IdleTimeout closes a session that sends nothing for this long,
	// IDLE included; 0 means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// LineTimeout bounds the time from the first byte of a command
	// line to its end (slowloris); 0 means DefaultLineTimeout.
	LineTimeout time.Duration
	// WriteTimeout bounds each write to the client; 0 means DefaultWriteTimeout.
	WriteTimeout time.Duration
	// IdlePoll is how often a session in IDLE looks at its mailbox for
	// changes that came without a notification (files another program
	// changed); 0 means DefaultIdlePoll, negative never.
	IdlePoll time.Duration
	// IdleKeepalive is how often a session in IDLE says "* OK Still
	// here", so that neither the client nor a proxy nor the daemon's idle
	// timeout takes the quiet connection for dead; 0 means
	// DefaultIdleKeepalive.
	IdleKeepalive time.Duration
	// MaxLineLength bounds one line of a command, CRLF included.
	MaxLineLength int
	// MaxLiteralSize bounds a message APPEND stores (APPENDLIMIT).
	MaxLiteralSize int64
	// MaxStringLiteral bounds any other literal (a password, a search string).
	MaxStringLiteral int64
	// MaxCommandMemory bounds what one command's literals hold in
	// memory together.
	MaxCommandMemory int64
	// MaxBadCommands closes a session after this many unknown commands
	// before login.
	MaxBadCommands int
	// MaxAuthFailures closes a session after this many failed logins.
	MaxAuthFailures int
	// InsecureAuth allows LOGIN and AUTHENTICATE without TLS from
	// clients not on loopback. Off: they are refused and LOGINDISABLED
	// is advertised.
	InsecureAuth bool

	loop     lifecycle.Loop
	onceLoop sync.Once
}

func (s *Server) logger() *slog.Logger { return lifecycle.Logger(s.Logger) }

// ListenAndServe listens on addr ("127.0.0.1:10143") and serves it.
func (s *Server) ListenAndServe(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln and serves each in its own goroutine
// until Shutdown or Close; it then returns ErrServerClosed. A *tls.Conn
// from ln is implicit TLS (imaps), and nothing else is.
func (s *Server) Serve(ln net.Listener) error {
	if s.Backend == nil {
		ln.Close()
		return errors.New("imap: Server.Backend is nil")
	}
	s.onceLoop.Do(func() { s.loop.Name, s.loop.Logger = "imap", s.Logger })
	return s.loop.Serve(ln, func(nc net.Conn) lifecycle.Session { return newConn(s, nc) })
}

// Shutdown stops accepting, ends sessions waiting for a command (or in
// IDLE) with BYE, lets commands in progress finish, and waits for the
// sessions to end. When ctx is done first it closes what is left and
// returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error { return s.loop.Shutdown(ctx) }

// Close stops accepting and closes every session at once.
func (s *Server) Close() error { return s.loop.Close() }
