package telnet

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
)

// Defaults of the Server's zero-valued limits.
const (
	DefaultIdleTimeout      = 30 * time.Minute
	DefaultLoginTimeout     = time.Minute
	DefaultMaxLineLength    = 256
	DefaultMaxLoginAttempts = 3
	DefaultTLSTimeout       = 30 * time.Second
	DefaultWriteTimeout     = time.Minute
	// DefaultNegotiationWait bounds how long a session waits after login
	// for the answers to its option requests (terminal type, window
	// size) before it starts the program without them.
	DefaultNegotiationWait = 2 * time.Second
)

// killGrace is how long a Command has between SIGHUP and SIGKILL.
const killGrace = 2 * time.Second

func afterGrace() <-chan time.Time { return time.After(killGrace) }

// ErrServerClosed is returned by Serve after Shutdown or Close. It
// matches net.ErrClosed with errors.Is.
var ErrServerClosed = lifecycle.ErrServerClosed

// Server is a telnet server: it negotiates options, asks for a login,
// and runs the backend's program for the account on a pseudo-terminal.
// Its exported fields are read when Serve is called; zero values are
// safe. A zero Duration means the package's default, a negative one
// means no limit.
type Server struct {
	// Backend checks logins and gives each account its program; required.
	Backend Backend
	// Banner is sent before the first login prompt; CR LF is added.
	Banner string
	// Logger receives session errors; nil means slog.Default().
	Logger *slog.Logger
	// IdleTimeout ends a session whose client sends nothing for this
	// long (output alone does not count); 0 means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// LoginTimeout bounds the time from connecting to a successful
	// login; 0 means DefaultLoginTimeout.
	LoginTimeout time.Duration
	// WriteTimeout bounds each write to the client; 0 means DefaultWriteTimeout.
	WriteTimeout time.Duration
	// NegotiationWait bounds how long a session waits after login for
	// the client to answer the options asked for at the start (terminal
	// type, window size), so the program starts with them; 0 means
	// DefaultNegotiationWait.
	NegotiationWait time.Duration
	// MaxLineLength bounds the name and password lines of the login.
	MaxLineLength int
	// MaxSubnegotiation bounds a subnegotiation's parameters; a longer
	// one is dropped and logged. 0 means DefaultMaxSubnegotiation.
	MaxSubnegotiation int
	// MaxLoginAttempts closes a session after this many failed logins.
	MaxLoginAttempts int
	// InsecureLogin allows logins without TLS from clients off
	// loopback. Off, such a client is told to use telnets and closed
	// before any password is asked for.
	InsecureLogin bool
	// AcceptEnv lists the NEW-ENVIRON variables passed to programs; a
	// name ending in '*' is a prefix ("LC_*"). Nil means LANG, LC_*
	// and TZ; an empty non-nil list accepts none.
	AcceptEnv []string

	loop     lifecycle.Loop
	onceLoop sync.Once
}

func (s *Server) logger() *slog.Logger { return lifecycle.Logger(s.Logger) }

// ListenAndServe listens on addr ("127.0.0.1:10023") and serves it.
func (s *Server) ListenAndServe(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln and serves each in its own goroutine
// until Shutdown or Close; it then returns ErrServerClosed. A *tls.Conn
// from ln is implicit TLS (telnets), and nothing else is.
func (s *Server) Serve(ln net.Listener) error {
	if s.Backend == nil {
		ln.Close()
		return errors.New("telnet: Server.Backend is nil")
	}
	s.onceLoop.Do(func() { s.loop.Name, s.loop.Logger = "telnet", s.Logger })
	return s.loop.Serve(ln, func(nc net.Conn) lifecycle.Session { return newConn(s, nc) })
}

// Shutdown stops accepting and ends every session, logged in or not,
// with a goodbye line (an interactive program counts as waiting for its
// user); a login being checked finishes first. When ctx is done before
// the sessions end it closes them and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error { return s.loop.Shutdown(ctx) }

// Close stops accepting and closes every session at once.
func (s *Server) Close() error { return s.loop.Close() }

// acceptsEnv reports whether a client variable reaches programs.
func (s *Server) acceptsEnv(name string) bool {
	list := s.AcceptEnv
	if list == nil {
		list = []string{"LANG", "LC_*", "TZ"}
	}
	for _, p := range list {
		if p == name || len(p) > 0 && p[len(p)-1] == '*' && len(name) >= len(p)-1 && name[:len(p)-1] == p[:len(p)-1] {
			return true
		}
	}
	return false
}
