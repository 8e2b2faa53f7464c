package finger

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
	DefaultIdleTimeout        = 30 * time.Second // for the query to start
	DefaultLineTimeout        = 10 * time.Second // for the query line to end
	DefaultWriteTimeout       = 30 * time.Second
	DefaultMaxLineLength      = 512
	DefaultForwardTimeout     = 10 * time.Second
	DefaultMaxForwardResponse = 64 << 10
	DefaultPort               = 79
)

// ErrServerClosed is returned by Serve after Shutdown or Close. It
// matches net.ErrClosed with errors.Is.
var ErrServerClosed = lifecycle.ErrServerClosed

// Server is a finger server. Its exported fields are read when Serve is
// called; zero values are safe: no listing of users, no forwarding. A
// zero Duration means the package's default, a negative one no limit.
type Server struct {
	// Backend describes users; required. A Backend that is also a
	// [Lister] answers the empty query when ListUsers is set.
	Backend Backend
	// ListUsers answers the empty query with the users logged in now.
	// Off: the empty query is refused.
	ListUsers bool
	// Forward lets "user@host" queries be forwarded, one hop only (a
	// query with two or more hosts is refused), within ForwardTimeout,
	// to ForwardPort of the host, the answer bounded by
	// MaxForwardResponse. Off: they are refused (RFC 1288 section 3.2.1).
	Forward bool
	// ForwardTimeout bounds the whole forwarded query, dial included.
	ForwardTimeout time.Duration
	// ForwardPort is the port forwarded queries go to; 0 means 79.
	ForwardPort int
	// MaxForwardResponse bounds what is relayed of a forwarded answer.
	MaxForwardResponse int
	// Location is the time zone of the times shown; nil means time.Local.
	Location *time.Location
	// Logger receives session errors; nil means slog.Default().
	Logger *slog.Logger
	// IdleTimeout bounds the wait for the query line to start.
	IdleTimeout time.Duration
	// LineTimeout bounds the time from the first byte of the query line
	// to its end (slowloris).
	LineTimeout time.Duration
	// WriteTimeout bounds each write of the answer.
	WriteTimeout time.Duration
	// MaxLineLength is the longest query line, line end included.
	MaxLineLength int

	loop     lifecycle.Loop
	onceLoop sync.Once
}

func (s *Server) logger() *slog.Logger { return lifecycle.Logger(s.Logger) }

// ListenAndServe listens on addr ("127.0.0.1:10079") and serves it.
func (s *Server) ListenAndServe(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln and answers one query on each until
// Shutdown or Close; it then returns ErrServerClosed.
func (s *Server) Serve(ln net.Listener) error {
	if s.Backend == nil {
		ln.Close()
		return errors.New("finger: Server.Backend is nil")
	}
	s.onceLoop.Do(func() { s.loop.Name, s.loop.Logger = "finger", s.Logger })
	return s.loop.Serve(ln, func(nc net.Conn) lifecycle.Session { return newConn(s, nc) })
}

// Shutdown stops accepting, ends sessions still waiting for their
// query, lets answers in progress finish, and waits for the sessions to
// end. When ctx is done first it closes what is left and returns ctx's
// error.
func (s *Server) Shutdown(ctx context.Context) error { return s.loop.Shutdown(ctx) }

// Close stops accepting and closes every session at once.
func (s *Server) Close() error { return s.loop.Close() }
