package gopher

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
)

// Defaults of the Server's zero-valued fields.
const (
	DefaultIdleTimeout       = time.Minute      // for the request to start
	DefaultLineTimeout       = 30 * time.Second // for the request line to end, once started
	DefaultWriteTimeout      = time.Minute      // for each write of the response
	DefaultTLSTimeout        = 30 * time.Second
	DefaultMaxSelectorLength = 1024 // bytes of the request line, CRLF excluded
	DefaultMaxMenuItems      = 10000
	DefaultMaxSearchResults  = 200
	DefaultMaxSearchVisits   = 20000 // directory entries one search looks at
	DefaultMaxMapReads       = 64    // gophermap files one request reads
	DefaultMaxMapEntries     = 20000 // gophermap lines one request expands, includes together
	DefaultRequestTimeout    = 30 * time.Second
)

// ALPN is the TLS application protocol name of gopher over TLS.
const ALPN = "gopher"

// ErrServerClosed is returned by Serve after Shutdown or Close. It
// matches net.ErrClosed with errors.Is.
var ErrServerClosed = lifecycle.ErrServerClosed

// Server is a gopher server. Its exported fields are read when Serve
// is called; zero values are safe. A zero Duration means the package's
// default, a negative one means no limit.
type Server struct {
	// Backend gives the trees to serve; required.
	Backend Backend
	// TLSConfig, when set, lets a plain listener's client start TLS:
	// a connection whose first byte is a TLS handshake record (0x16) is
	// served over TLS, any other is plain text. ALPN "gopher" is agreed
	// with a client that offers it. Implicit TLS is a listener whose
	// connections are *tls.Conn (see [Server.ListenerTLSConfig]).
	TLSConfig *tls.Config
	// Hostname is the host named in menus; empty means the local
	// address the client connected to.
	Hostname string
	// Port is the port named in menus; 0 means the local port the
	// client connected to.
	Port int
	// Logger receives session errors; nil means slog.Default().
	Logger *slog.Logger
	// IdleTimeout closes a connection that sends no request for this long.
	IdleTimeout time.Duration
	// LineTimeout bounds the time from the request's first byte to its
	// end (slowloris).
	LineTimeout time.Duration
	// WriteTimeout bounds each write of a response.
	WriteTimeout time.Duration
	// TLSTimeout bounds a TLS handshake.
	TLSTimeout time.Duration
	// MaxSelectorLength bounds the request line; a longer one gets a
	// type-3 error.
	MaxSelectorLength int
	// MaxMenuItems bounds one menu; MaxMapSize one gophermap file.
	MaxMenuItems int
	MaxMapSize   int
	// MaxSearchResults and MaxSearchVisits bound one type-7 search.
	MaxSearchResults int
	MaxSearchVisits  int
	// MaxMapReads bounds the gophermap files one request reads (its
	// own, "=" includes and inline "*.gophermap" files; each at most
	// once), MaxMapEntries the lines of them it expands in all.
	MaxMapReads   int
	MaxMapEntries int
	// RequestTimeout bounds the time to find what a request names and
	// to build its menu or search; a file's sending is bounded by
	// WriteTimeout instead.
	RequestTimeout time.Duration
	// NoSearch leaves the type-7 file name search out of generated
	// menus and refuses searches.
	NoSearch bool

	loop     lifecycle.Loop
	onceLoop sync.Once
	onceTLS  sync.Once
	tlsCfg   *tls.Config
}

func (s *Server) logger() *slog.Logger { return lifecycle.Logger(s.Logger) }

func (s *Server) maxMenuItems() int { return lifecycle.OrDefault(s.MaxMenuItems, DefaultMaxMenuItems) }
func (s *Server) maxMapSize() int   { return lifecycle.OrDefault(s.MaxMapSize, DefaultMaxMapSize) }
func (s *Server) maxSearchResults() int {
	return lifecycle.OrDefault(s.MaxSearchResults, DefaultMaxSearchResults)
}
func (s *Server) maxSearchVisits() int {
	return lifecycle.OrDefault(s.MaxSearchVisits, DefaultMaxSearchVisits)
}
func (s *Server) maxMapReads() int { return lifecycle.OrDefault(s.MaxMapReads, DefaultMaxMapReads) }
func (s *Server) maxMapEntries() int {
	return lifecycle.OrDefault(s.MaxMapEntries, DefaultMaxMapEntries)
}

// ListenerTLSConfig returns TLSConfig with ALPN "gopher" agreed with
// clients that offer it (and no ALPN with those that offer others, so
// that they are not refused), for an implicit-TLS listener; nil when
// TLSConfig is nil.
func (s *Server) ListenerTLSConfig() *tls.Config {
	s.onceTLS.Do(func() {
		if s.TLSConfig == nil {
			return
		}
		base := s.TLSConfig.Clone()
		inner := base.GetConfigForClient
		withALPN := base.Clone()
		withALPN.NextProtos = []string{ALPN}
		withALPN.GetConfigForClient = nil
		base.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			if slices.Contains(h.SupportedProtos, ALPN) {
				return withALPN, nil
			}
			if inner != nil {
				return inner(h)
			}
			return nil, nil
		}
		s.tlsCfg = base
	})
	return s.tlsCfg
}

// ListenAndServe listens on addr ("127.0.0.1:10070") and serves it.
func (s *Server) ListenAndServe(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln and serves each in its own goroutine
// until Shutdown or Close; it then returns ErrServerClosed. A *tls.Conn
// from ln is implicit TLS.
func (s *Server) Serve(ln net.Listener) error {
	if s.Backend == nil {
		ln.Close()
		return errors.New("gopher: Server.Backend is nil")
	}
	s.onceLoop.Do(func() { s.loop.Name, s.loop.Logger = "gopher", s.Logger })
	return s.loop.Serve(ln, func(nc net.Conn) lifecycle.Session { return newConn(s, nc) })
}

// Shutdown stops accepting, ends connections still waiting for their
// request, lets responses in progress finish, and waits for them. When
// ctx is done first it closes what is left and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error { return s.loop.Shutdown(ctx) }

// Close stops accepting and closes every connection at once.
func (s *Server) Close() error { return s.loop.Close() }
