package ftp

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// TLSPolicy says when a login must come over an encrypted control connection.
type TLSPolicy int

const (
	// TLSRequiredExceptLoopback (the zero value) refuses USER on a plain
	// control connection unless the client is on a loopback address.
	TLSRequiredExceptLoopback TLSPolicy = iota
	// TLSRequired refuses USER on every plain control connection.
	TLSRequired
	// TLSOptional accepts logins in the clear.
	TLSOptional
)

// Defaults used when the Server's fields are zero.
const (
	DefaultMaxLineLength     = 1024
	DefaultIdleTimeout       = 5 * time.Minute
	DefaultDataTimeout       = 5 * time.Minute
	DefaultPassiveTimeout    = 30 * time.Second
	DefaultMaxLoginFailures  = 3
	DefaultLoginFailureDelay = 250 * time.Millisecond
	DefaultMaxLoginDelay     = 5 * time.Second
)

// Server is an FTP server (RFC 959 with the extensions listed in the
// package documentation). Its zero value, given a Backend, serves plain
// FTP with safe limits; set TLSConfig for AUTH TLS and implicit FTPS.
// Fields must not be changed once Serve has been called.
type Server struct {
	// Backend authenticates users and provides their file trees.
	Backend Backend
	// TLSConfig enables AUTH TLS (and is required for ImplicitTLS).
	TLSConfig *tls.Config
	// ImplicitTLS makes every connection start with a TLS handshake
	// (FTPS on port 990); the listener gives plain TCP connections.
	ImplicitTLS bool
	// LoginTLS says when logins need TLS (anonymous logins never do).
	LoginTLS TLSPolicy
	// AllowDataSessionChange accepts a PROT P data connection that does
	// not resume the control connection's TLS session. By default one
	// that does not is refused, so that no one but the client that
	// logged in can connect to its passive port and take the data.
	AllowDataSessionChange bool

	// PassivePortMin and PassivePortMax bound the ports of passive data
	// listeners, picked at random; zero lets the kernel choose.
	PassivePortMin, PassivePortMax int
	// PassiveAddress is the IPv4 address PASV replies advertise, for a
	// server behind NAT; invalid (zero) means the control connection's
	// local address.
	PassiveAddress netip.Addr
	// PassiveTimeout closes a passive listener no data connection came
	// to, and bounds connecting an active one. Zero means 30 seconds.
	PassiveTimeout time.Duration
	// DataTimeout aborts a transfer that moves no byte for this long.
	DataTimeout time.Duration
	// IdleTimeout closes a control connection that sends no command for
	// this long outside of a transfer. Zero means 5 minutes.
	IdleTimeout time.Duration
	// MaxLineLength bounds a command line; longer lines are answered
	// "500 line too long" and the session goes on. Zero means 1024.
	MaxLineLength int
	// MaxLoginFailures closes a session after this many failed logins.
	MaxLoginFailures int
	// LoginFailureDelay is added before each login attempt, per recent
	// failure from the same IP, up to MaxLoginDelay.
	LoginFailureDelay, MaxLoginDelay time.Duration
	// Welcome is the text of the 220 greeting.
	Welcome string
	// Logger receives one line per session and per problem; nil discards.
	Logger *slog.Logger

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	sessions  map[*session]struct{}
	shutdown  atomic.Bool
	wg        sync.WaitGroup
	fails     loginFailures
	tlsOnce   sync.Once
	tlsBase   *tls.Config
}

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("ftp: server closed")

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func intOr(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// Serve accepts connections on ln and serves each in its own goroutine
// until ln fails or the server is shut down.
func (s *Server) Serve(ln net.Listener) error {
	if s.Backend == nil {
		return errors.New("ftp: Server.Backend is nil")
	}
	if s.ImplicitTLS && s.TLSConfig == nil {
		return errors.New("ftp: ImplicitTLS needs a TLSConfig")
	}
	if !s.track(ln, true) {
		ln.Close()
		return ErrServerClosed
	}
	defer s.track(ln, false)
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.shutdown.Load() {
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
		sess := newSession(s, c)
		if !s.trackSession(sess, true) {
			c.Close()
			return ErrServerClosed
		}
		go func() {
			defer s.trackSession(sess, false)
			sess.serve()
		}()
	}
}

func (s *Server) track(ln net.Listener, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.shutdown.Load() {
			return false
		}
		if s.listeners == nil {
			s.listeners = map[net.Listener]struct{}{}
		}
		s.listeners[ln] = struct{}{}
	} else {
		delete(s.listeners, ln)
	}
	return true
}

func (s *Server) trackSession(sess *session, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.shutdown.Load() {
			return false
		}
		if s.sessions == nil {
			s.sessions = map[*session]struct{}{}
		}
		s.sessions[sess] = struct{}{}
		s.wg.Add(1)
	} else {
		delete(s.sessions, sess)
		s.wg.Done()
	}
	return true
}

// Shutdown stops accepting, closes idle sessions (those not in a
// transfer) with a 421 reply, and waits for the others to finish their
// transfer and close, until ctx is done; then it closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdown.Store(true)
	s.mu.Lock()
	for ln := range s.listeners {
		ln.Close()
	}
	for sess := range s.sessions {
		sess.stopWhenIdle()
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
	s.shutdown.Store(true)
	s.mu.Lock()
	for ln := range s.listeners {
		ln.Close()
	}
	for sess := range s.sessions {
		sess.kill()
	}
	s.mu.Unlock()
	return nil
}

// baseTLS returns the TLS config every session clones: TLSConfig with
// session tickets that carry the id of the control connection that got
// them, so a data connection can be checked to resume that session.
func (s *Server) baseTLS() *tls.Config {
	s.tlsOnce.Do(func() {
		if s.TLSConfig != nil {
			s.tlsBase = s.TLSConfig.Clone()
			s.tlsBase.SessionTicketsDisabled = false
		}
	})
	return s.tlsBase
}

// loginFailures counts recent failed logins per client IP, to slow
// down password guessing across connections.
type loginFailures struct {
	mu sync.Mutex
	m  map[netip.Addr]*failCount
}

type failCount struct {
	n    int
	last time.Time
}

// failWindow is how long a failure counts against its IP.
const failWindow = 15 * time.Minute

func (f *loginFailures) count(ip netip.Addr) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.m[ip]
	if c == nil || time.Since(c.last) > failWindow {
		return 0
	}
	return c.n
}

func (f *loginFailures) fail(ip netip.Addr) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[netip.Addr]*failCount{}
	}
	now := time.Now()
	if len(f.m) > 10000 {
		for k, c := range f.m {
			if now.Sub(c.last) > failWindow {
				delete(f.m, k)
			}
		}
	}
	c := f.m[ip]
	if c == nil || now.Sub(c.last) > failWindow {
		c = &failCount{}
		f.m[ip] = c
	}
	c.n++
	c.last = now
}

func (f *loginFailures) reset(ip netip.Addr) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, ip)
}

// addrOf returns the unmapped IP of a TCP address.
func addrOf(a net.Addr) netip.Addr {
	if t, ok := a.(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(t.IP)
		return ip.Unmap()
	}
	if a == nil {
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// activeSessions returns the number of open sessions.
func (s *Server) activeSessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}
