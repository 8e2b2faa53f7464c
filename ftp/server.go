package ftp

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
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
	DefaultMaxLineLength    = 1024
	DefaultIdleTimeout      = 5 * time.Minute
	DefaultDataTimeout      = 5 * time.Minute
	DefaultPassiveTimeout   = 30 * time.Second
	DefaultLineTimeout      = time.Minute
	DefaultMaxLoginFailures = 3
)

// Server is an FTP server (RFC 959 with the extensions listed in the
// package documentation). Its zero value, given a Backend, serves plain
// FTP with safe limits; set TLSConfig for AUTH TLS, and serve implicit
// FTPS with [Server.ServeTLS].
//
// A connection is TLS when, and only when, the listener hands the server
// a *tls.Conn (ServeTLS's listener does, and so does one from
// tls.NewListener): the server completes its handshake, within
// PassiveTimeout, before the greeting. Any other connection is plain,
// whatever it claims.
//
// Fields must not be changed once Serve has been called.
type Server struct {
	// Backend authenticates users and provides their file trees. Login
	// attempts are not slowed here: slowing repeated failures from one
	// client is the Backend's job (see [Backend]).
	Backend Backend
	// TLSConfig enables AUTH TLS and PROT P; ServeTLS needs it.
	TLSConfig *tls.Config
	// LoginTLS says when logins need TLS (anonymous logins never do).
	LoginTLS TLSPolicy
	// AllowDataSessionChange accepts a PROT P data connection that does
	// not resume the control connection's TLS session. By default one
	// that does not is refused, so that no one but the client that
	// logged in can connect to its passive port and take the data.
	AllowDataSessionChange bool
	// SessionReuseSetting names, in the 425 reply refusing such a data
	// connection, the setting that lifts the rule, so that the client's
	// user can tell the server's administrator; "" names
	// AllowDataSessionChange.
	SessionReuseSetting string
	// AdmitDataConn, if set, is given every data connection as soon as
	// it is made (accepted in passive mode, dialled in active mode), with
	// the session's control connection as the listener returned it (the
	// connection beneath it, when that was a *tls.Conn). It
	// returns the connection to use instead (one wrapped for accounting
	// and idle timeouts, say; it is closed when the transfer ends), or an
	// error to refuse it: the client is then told 425. A wrapper that
	// implements io.ReaderFrom by delegating to the TCP connection keeps
	// the zero-copy path for downloads.
	AdmitDataConn func(control, data net.Conn) (net.Conn, error)

	// PassivePortMin and PassivePortMax bound the ports of passive data
	// listeners, picked at random; zero lets the kernel choose.
	PassivePortMin, PassivePortMax int
	// PassiveAddress is the IPv4 address PASV replies advertise, for a
	// server behind NAT or a load balancer; invalid (zero) means the
	// local address of the control connection's socket. Behind a PROXY
	// protocol listener that is the server's own address, never the
	// header's destination (the balancer's), which the passive listener
	// could not bind. EPSV replies carry only a port: clients connect to
	// the host they reached the control connection on.
	PassiveAddress netip.Addr
	// Timeouts: zero means the default given, a negative value none.
	//
	// PassiveTimeout closes a passive listener no data connection came
	// to, and bounds connecting an active one and every TLS handshake
	// (30 seconds).
	PassiveTimeout time.Duration
	// DataTimeout aborts a transfer that moves no byte for this long
	// (5 minutes).
	DataTimeout time.Duration
	// IdleTimeout closes a control connection that sends no command for
	// this long outside of a transfer (5 minutes).
	IdleTimeout time.Duration
	// LineTimeout bounds the time from a command line's first byte to its
	// end, so that a client trickling a byte at a time cannot hold a
	// connection (one minute, wire.DefaultLineTimeout).
	LineTimeout time.Duration
	// MaxLineLength bounds a command line; longer lines are answered
	// "500 line too long" and the session goes on. Zero means 1024.
	MaxLineLength int
	// MaxLoginFailures closes a session after this many failed logins.
	MaxLoginFailures int
	// Welcome is the text of the 220 greeting.
	Welcome string
	// Logger receives one line per session and per problem; nil means
	// slog.Default().
	Logger *slog.Logger
	// Faults, if not nil, may refuse a step with a reply of its choosing
	// (fault injection; see [Faults]).
	Faults Faults

	loop     lifecycle.Loop
	loopOnce sync.Once
	tlsOnce  sync.Once
	tlsBase  *tls.Config
}

// ErrServerClosed is returned by Serve after Shutdown or Close; it
// matches net.ErrClosed.
var ErrServerClosed = lifecycle.ErrServerClosed

func (s *Server) logger() *slog.Logger { return lifecycle.Logger(s.Logger) }

// Timeouts by the house rule (lifecycle.Timeout): 0 is none.
func (s *Server) idleTimeout() time.Duration {
	return lifecycle.Timeout(s.IdleTimeout, DefaultIdleTimeout)
}
func (s *Server) dataTimeout() time.Duration {
	return lifecycle.Timeout(s.DataTimeout, DefaultDataTimeout)
}
func (s *Server) passiveTimeout() time.Duration {
	return lifecycle.Timeout(s.PassiveTimeout, DefaultPassiveTimeout)
}

// Serve accepts connections on ln and serves each in its own goroutine
// until Shutdown or Close; then it returns ErrServerClosed. Accept
// errors are retried with a backoff (see internal/lifecycle).
func (s *Server) Serve(ln net.Listener) error {
	if s.Backend == nil {
		ln.Close()
		return errors.New("ftp: Server.Backend is nil")
	}
	s.loopOnce.Do(func() { s.loop.Name, s.loop.Logger = "ftp", s.Logger })
	return s.loop.Serve(ln, func(c net.Conn) lifecycle.Session { return newSession(s, c) })
}

// Shutdown stops accepting, closes idle sessions (those not in a
// transfer) with a 421 reply, and waits for the others to finish their
// transfer and close, until ctx is done; then it closes what is left
// and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error { return s.loop.Shutdown(ctx) }

// Close closes every listener and connection at once.
func (s *Server) Close() error { return s.loop.Close() }

// ServeTLS serves implicit FTPS (the port 990 convention) on ln: every
// connection is TLS from its first byte. It is
// Serve(tls.NewListener(ln, s.ListenerTLSConfig())).
func (s *Server) ServeTLS(ln net.Listener) error {
	if s.TLSConfig == nil {
		ln.Close()
		return errors.New("ftp: ServeTLS needs a TLSConfig")
	}
	return s.Serve(tls.NewListener(ln, s.ListenerTLSConfig()))
}

// ListenerTLSConfig returns the config for a listener that makes
// connections TLS for this server (implicit FTPS): TLSConfig with
// session tickets on, each carrying a mark of the connection it was
// issued on, which is what lets a PROT P data connection be checked to
// resume its own control connection's session. A *tls.Conn made with
// another config works too, but then its data connections pass that
// check only with AllowDataSessionChange. Nil without a TLSConfig.
func (s *Server) ListenerTLSConfig() *tls.Config { return s.baseTLS() }

// baseTLS returns the TLS config of control connections (AUTH TLS and
// ServeTLS): TLSConfig with session tickets on, each marked with the
// channel binding of the connection it was issued on (see sessionMark).
// Data connections clone it.
func (s *Server) baseTLS() *tls.Config {
	s.tlsOnce.Do(func() {
		if s.TLSConfig == nil {
			return
		}
		b := s.TLSConfig.Clone()
		b.SessionTicketsDisabled = false
		b.WrapSession = func(cs tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
			if m := sessionMark(cs); m != nil {
				ss.Extra = append(ss.Extra, m)
			}
			return b.EncryptTicket(cs, ss)
		}
		b.UnwrapSession = nil
		s.tlsBase = b
	})
	return s.tlsBase
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
func (s *Server) activeSessions() int { return s.loop.Sessions() }
