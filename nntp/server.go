package nntp

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
)

// Defaults of the Server's zero-valued limits.
const (
	DefaultIdleTimeout     = 10 * time.Minute
	DefaultLineTimeout     = time.Minute
	DefaultWriteTimeout    = time.Minute
	DefaultArticleTimeout  = 10 * time.Minute
	DefaultTLSTimeout      = 30 * time.Second
	DefaultMaxLineLength   = 512 // RFC 3977 section 3.1, CRLF included
	DefaultMaxArticleSize  = 1 << 20
	DefaultMaxBadCommands  = 20
	DefaultMaxAuthFailures = 3
	DefaultPostsPerMinute  = 60
	// DefaultMaxCompressSessions bounds the sessions under COMPRESS
	// DEFLATE at once: each keeps an inflater (~40 KiB, most of it the
	// 32 KiB window the peer may refer to).
	DefaultMaxCompressSessions = 1024
	// DefaultMaxCompressWriters bounds the deflaters held at once:
	// compress/flate's writer is ~800 KiB at any level, and a session
	// holds one only while it writes a batch of replies.
	DefaultMaxCompressWriters = 64
)

// ErrServerClosed is returned by Serve after Shutdown or Close. It
// matches net.ErrClosed with errors.Is.
var ErrServerClosed = lifecycle.ErrServerClosed

// Server is an NNTP server. Its exported fields are read when Serve is
// called; zero values are safe. A zero Duration means the package's
// default, a negative one means no limit.
type Server struct {
	// Backend is the news store; required.
	Backend Backend
	// TLSConfig enables STARTTLS when set. Implicit TLS (NNTPS) is a
	// listener whose connections are *tls.Conn.
	TLSConfig *tls.Config
	// Hostname is this server's Path identity and the right-hand side
	// of the Message-IDs it makes; empty means os.Hostname.
	Hostname string
	// Logger receives session errors; nil means slog.Default().
	Logger *slog.Logger
	// Faults, if not nil, may refuse a step with a reply of its choosing
	// (fault injection; see [Faults]).
	Faults Faults

	IdleTimeout    time.Duration // waiting for a command; 0: DefaultIdleTimeout
	LineTimeout    time.Duration // one command line, first byte to CRLF; 0: DefaultLineTimeout
	WriteTimeout   time.Duration // each write to the client; 0: DefaultWriteTimeout
	ArticleTimeout time.Duration // each wait inside an article being sent; 0: DefaultArticleTimeout

	// MaxLineLength is the longest command line, CRLF included; RFC
	// 3977 allows 512. A SASL response line may be longer.
	MaxLineLength int
	// MaxArticleSize bounds a POSTed or transferred article; a larger
	// one is refused (441, 437, 439) and the session goes on.
	MaxArticleSize int64
	// MaxArticleAge refuses fed articles (IHAVE, TAKETHIS) whose Date
	// is older, as INN's artcutoff does; set it to how long the
	// history remembers. 0: no bound.
	MaxArticleAge time.Duration
	// MaxCompressSessions bounds the sessions under COMPRESS at once;
	// beyond it COMPRESS is 403. 0: DefaultMaxCompressSessions.
	MaxCompressSessions int
	// MaxCompressWriters bounds the sessions writing compressed
	// replies at once; another waits for one to finish (at most
	// WriteTimeout, then its session ends). 0: DefaultMaxCompressWriters.
	MaxCompressWriters int
	// MaxBadCommands closes a session after this many unknown or
	// malformed commands.
	MaxBadCommands int
	// MaxAuthFailures closes a session after this many failed logins.
	MaxAuthFailures int
	// PostsPerMinute bounds the POSTs accepted from one IP address in a
	// minute (a flood is refused with 440 before the article is sent;
	// RFC 3977 section 6.3.1.3 has no code for it and 440, "posting
	// not permitted", is the nearest); negative means no bound.
	PostsPerMinute int

	// AnonymousPost lets clients POST without authenticating. Off (the
	// default), POST needs AUTHINFO first (480).
	AnonymousPost bool
	// ReadAuth makes reading need authentication too (480).
	ReadAuth bool
	// InsecureAuth allows passwords without TLS from non-loopback
	// clients. Off: they are refused with 483.
	InsecureAuth bool
	// FeedFrom are the networks whose clients may feed articles with
	// IHAVE and TAKETHIS without authenticating.
	FeedFrom []netip.Prefix
	// FeedAccounts are the accounts (peers) that may feed once
	// authenticated from anywhere; any other account may only POST.
	FeedAccounts []string

	loop     lifecycle.Loop
	onceLoop sync.Once
	onceHost sync.Once
	host     string
	posts    postLimiter
	zmu      sync.Mutex
	zcount   int // sessions under COMPRESS
	zonce    sync.Once
	zwriters chan struct{} // a token per deflater held
}

// compressWriters is the semaphore of MaxCompressWriters.
func (s *Server) compressWriters() chan struct{} {
	s.zonce.Do(func() {
		s.zwriters = make(chan struct{}, lifecycle.OrDefault(s.MaxCompressWriters, DefaultMaxCompressWriters))
	})
	return s.zwriters
}

// compressSlot takes one of the MaxCompressSessions slots, if free.
func (s *Server) compressSlot() bool {
	s.zmu.Lock()
	defer s.zmu.Unlock()
	if s.zcount >= lifecycle.OrDefault(s.MaxCompressSessions, DefaultMaxCompressSessions) {
		return false
	}
	s.zcount++
	return true
}

func (s *Server) compressDone() {
	s.zmu.Lock()
	defer s.zmu.Unlock()
	s.zcount--
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

// ListenAndServe listens on addr ("127.0.0.1:10119") and serves it.
func (s *Server) ListenAndServe(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln until Shutdown or Close and then
// returns ErrServerClosed. A *tls.Conn from ln is implicit TLS.
func (s *Server) Serve(ln net.Listener) error {
	if s.Backend == nil {
		ln.Close()
		return errors.New("nntp: Server.Backend is nil")
	}
	s.onceLoop.Do(func() { s.loop.Name, s.loop.Logger = "nntp", s.Logger })
	return s.loop.Serve(ln, func(nc net.Conn) lifecycle.Session { return newConn(s, nc) })
}

// Shutdown stops accepting, ends sessions waiting for a command (with
// 400), lets commands in progress finish, and waits for the sessions.
func (s *Server) Shutdown(ctx context.Context) error { return s.loop.Shutdown(ctx) }

// Close stops accepting and closes every session at once.
func (s *Server) Close() error { return s.loop.Close() }

// feedAllowed reports whether addr may feed without authenticating.
func (s *Server) feedAllowed(addr net.Addr) bool {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return false
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return false
	}
	ip = ip.Unmap()
	for _, p := range s.FeedFrom {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// postLimiter counts POSTs per IP address in the current minute.
type postLimiter struct {
	mu     sync.Mutex
	minute int64
	counts map[string]int
}

// allow reports whether one more POST from ip fits in limit per minute.
func (p *postLimiter) allow(ip string, limit int, now time.Time) bool {
	if limit < 0 {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if m := now.Unix() / 60; m != p.minute || p.counts == nil {
		p.minute, p.counts = m, map[string]int{}
	}
	if p.counts[ip] >= limit {
		return false
	}
	p.counts[ip]++
	return true
}
