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
)

// Defaults of the Server's zero-valued limits.
const (
	DefaultIdleTimeout     = 10 * time.Minute // RFC 1939 §3: at least 10 minutes
	DefaultMaxLineLength   = 1024
	DefaultMaxBadCommands  = 10
	DefaultMaxAuthFailures = 3
	DefaultTLSTimeout      = 30 * time.Second
)

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("pop3: server closed")

// Server is a POP3 server. Its exported fields are read when Serve is
// called; zero values are safe.
type Server struct {
	// Backend authenticates users and opens maildrops; required.
	Backend Backend
	// TLSConfig enables STLS when set.
	TLSConfig *tls.Config
	// Hostname is named in the greeting and the APOP timestamp; empty
	// means os.Hostname.
	Hostname string
	// Logger receives session errors; nil discards.
	Logger *slog.Logger
	// IdleTimeout closes a session that sends no command for this long.
	IdleTimeout time.Duration
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

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	closed    bool
	wg        sync.WaitGroup
	onceHost  sync.Once
	host      string
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

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

func orDefault[T int | time.Duration](v, d T) T {
	if v <= 0 {
		return d
	}
	return v
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
// until ln fails or the server is shut down; it then returns
// ErrServerClosed. A *tls.Conn from ln is implicit TLS (POP3S).
func (s *Server) Serve(ln net.Listener) error {
	if s.Backend == nil {
		return errors.New("pop3: Server.Backend is nil")
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	if s.listeners == nil {
		s.listeners = map[net.Listener]struct{}{}
		s.conns = map[*conn]struct{}{}
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
		ln.Close()
	}()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		c := newConn(s, nc)
		s.mu.Lock()
		if s.closed {
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

// Shutdown stops accepting, closes sessions waiting for a command (a
// session closed before QUIT deletes nothing), lets commands in
// progress finish until ctx is done, and then closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeListeners()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		for c := range s.conns {
			c.closeIfIdle()
		}
		s.mu.Unlock()
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			s.Close()
			<-done
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Close stops accepting and closes every session at once.
func (s *Server) Close() error {
	s.closeListeners()
	s.mu.Lock()
	for c := range s.conns {
		c.mu.Lock()
		c.nc.Close()
		c.mu.Unlock()
	}
	s.mu.Unlock()
	return nil
}

func (s *Server) closeListeners() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for ln := range s.listeners {
		ln.Close()
	}
}

func (s *Server) shuttingDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}
