package httpfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/webdav"

	"github.com/plumbnet/plumb/internal/lifecycle"
)

// Defaults of the Server's zero fields.
const (
	DefaultMaxHeaderBytes    = 16 << 10
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Minute // a whole request with its body
	DefaultIdleTimeout       = 2 * time.Minute
)

// ErrServerClosed is what Serve returns after Shutdown or Close; it
// matches net.ErrClosed (and http.ErrServerClosed).
var ErrServerClosed = fmt.Errorf("%w: %w", lifecycle.ErrServerClosed, http.ErrServerClosed)

// Server serves a Backend's trees over HTTP. Its zero fields are safe
// defaults; set them before the first Serve or ServeHTTP.
type Server struct {
	Backend Backend
	// Handlers are served before the trees: a key matches its exact
	// path, or, ending in "/", every path under it ("/RPC2": XML-RPC).
	Handlers map[string]http.Handler

	// MaxHeaderBytes bounds a request's header (0: DefaultMaxHeaderBytes).
	MaxHeaderBytes int
	// MaxBodyBytes bounds a request body, a PUT's file (0: no limit of
	// its own; the tree's size limit and quota still apply).
	MaxBodyBytes int64
	// Timeouts: 0 means the default, negative none. ReadHeaderTimeout
	// bounds the header (slowloris), ReadTimeout the whole request,
	// WriteTimeout the response (default none: downloads can be long),
	// IdleTimeout a kept-alive connection between requests.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// RequestRate is the requests per second one client address (IPv6:
	// its /64) may make, with bursts of RequestBurst; 0 means no limit.
	// Over it a client hears 429 with Retry-After.
	RequestRate  float64
	RequestBurst int
	// AccessLog receives one Combined Log Format line per request; nil
	// means none.
	AccessLog io.Writer
	// CGIDir, if set, is a directory of CGI scripts served at
	// /cgi-bin/NAME (net/http/cgi). Empty: no CGI.
	CGIDir string
	// DisableCompression turns off gzip of text responses.
	DisableCompression bool
	// StatCacheTTL is how long a small file kept in memory is served
	// without a new stat: a change made to it other than through this
	// server (over FTP, by another program) is served at most this long
	// after it was made; this server's own writes are seen at once.
	// 0 means DefaultStatCacheTTL, negative a stat for every request.
	StatCacheTTL time.Duration
	// Logger receives errors and refusals; nil means slog.Default().
	Logger *slog.Logger

	once    sync.Once
	handler http.Handler
	hs      *http.Server
	rate    *rateLimiter
	cgi     *cgiDir
	davMu   sync.Mutex
	davLock map[string]webdav.LockSystem // user -> the locks of that user's tree
	props   *deadProps
	cache   fileCache
	statTTL time.Duration
	// clock is monotonic nanoseconds (a test's own, if set before use).
	clock   func() int64
	digests digestCache
	// prefixes are the keys of Handlers that end in "/", longest first.
	prefixes []string
}

func (s *Server) init() {
	s.once.Do(func() {
		if s.Logger == nil {
			s.Logger = slog.Default()
		}
		s.statTTL = lifecycle.Timeout(s.StatCacheTTL, DefaultStatCacheTTL)
		if s.clock == nil {
			start := time.Now()
			s.clock = func() int64 { return int64(time.Since(start)) }
		}
		if s.RequestRate > 0 {
			s.rate = newRateLimiter(s.RequestRate, s.RequestBurst)
		}
		if s.CGIDir != "" {
			s.cgi = &cgiDir{dir: s.CGIDir}
		}
		for k := range s.Handlers {
			if strings.HasSuffix(k, "/") {
				s.prefixes = append(s.prefixes, k)
			}
		}
		slices.SortFunc(s.prefixes, func(a, b string) int { return len(b) - len(a) })
		s.davLock = map[string]webdav.LockSystem{}
		s.props = newDeadProps()
		s.handler = s.middleware(http.HandlerFunc(s.route))
		mhb := s.MaxHeaderBytes
		if mhb <= 0 {
			mhb = DefaultMaxHeaderBytes
		}
		s.hs = &http.Server{
			Handler:           s,
			MaxHeaderBytes:    mhb,
			ReadHeaderTimeout: lifecycle.Timeout(s.ReadHeaderTimeout, DefaultReadHeaderTimeout),
			ReadTimeout:       lifecycle.Timeout(s.ReadTimeout, DefaultReadTimeout),
			WriteTimeout:      lifecycle.Timeout(s.WriteTimeout, 0),
			IdleTimeout:       lifecycle.Timeout(s.IdleTimeout, DefaultIdleTimeout),
			ErrorLog:          slog.NewLogLogger(s.Logger.Handler(), slog.LevelDebug),
			ConnContext:       connContext,
		}
	})
}

// Serve accepts connections on ln until Shutdown or Close. A listener
// of *tls.Conn (tls.NewListener, with "h2" in its NextProtos) is served
// as HTTPS with HTTP/2.
func (s *Server) Serve(ln net.Listener) error {
	s.init()
	err := s.hs.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return ErrServerClosed
	}
	return err
}

// Shutdown stops accepting, lets requests in progress finish until ctx
// is done, then closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	err := s.hs.Shutdown(ctx)
	if err != nil {
		s.hs.Close()
	}
	return err
}

// Close closes the listeners and every connection at once.
func (s *Server) Close() error {
	s.init()
	return s.hs.Close()
}

// NextProtos is what a TLS listener of the server offers in ALPN:
// HTTP/2 first.
var NextProtos = []string{"h2", "http/1.1"}
