package smtp

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

// Defaults for the Server's zero-valued limits.
const (
	DefaultMaxLineLength     = 2048 // RFC 5321 says 512; AUTH and ESMTP parameters need more (RFC 4954 section 4)
	DefaultMaxDataLineLength = 64 << 10
	DefaultMaxMessageBytes   = 32 << 20
	DefaultMaxRecipients     = 100
	DefaultMaxErrors         = 10
	DefaultIdleTimeout       = 5 * time.Minute // RFC 5321 section 4.5.3.2.7
	DefaultLineTimeout       = time.Minute
	DefaultDataTimeout       = 10 * time.Minute
	DefaultWriteTimeout      = time.Minute
)

// A Server is an SMTP server (RFC 5321) handing each transaction to a
// Backend. The zero value of every field but Backend is a safe default.
type Server struct {
	// Backend makes a Session per connection. Required.
	Backend Backend
	// Hostname is the name in the greeting, EHLO and Received: headers;
	// empty means os.Hostname.
	Hostname string
	// TLSConfig enables STARTTLS (RFC 3207). For implicit TLS
	// (submissions, port 465; RFC 8314) serve a listener that yields
	// *tls.Conn, such as tls.NewListener's: the server finishes the
	// handshake and takes that connection, and only that one, as TLS.
	TLSConfig *tls.Config

	// AuthRequired refuses MAIL until the client has authenticated (submission).
	AuthRequired bool
	// TLSRequired refuses MAIL and AUTH from a non-loopback client until
	// it has used STARTTLS.
	TLSRequired bool
	// AllowInsecureAuth offers AUTH to a non-loopback client without TLS.
	// Leave it off: the password would cross the network in clear.
	AllowInsecureAuth bool
	// EnableVRFY answers VRFY from the backend (a VerifySession); off,
	// VRFY gets the RFC 5321 section 3.5.3 answer 252.
	EnableVRFY bool
	// DisableChunking stops offering CHUNKING/BDAT (RFC 3030).
	DisableChunking bool

	// MaxLineLength bounds a command line, CRLF included.
	MaxLineLength int
	// MaxDataLineLength bounds a line of a message.
	MaxDataLineLength int
	// MaxMessageBytes bounds a message; it is offered as SIZE (RFC 1870).
	MaxMessageBytes int64
	// MaxRecipients bounds RCPT commands per message.
	MaxRecipients int
	// MaxErrors closes a connection after this many failed commands.
	MaxErrors int
	// Durations: zero means the package default, negative means no limit.

	// IdleTimeout closes a connection that sends no command for this long.
	IdleTimeout time.Duration
	// LineTimeout bounds the time from the first byte of a command line
	// to its end, so a client trickling bytes cannot hold a connection.
	LineTimeout time.Duration
	// DataTimeout bounds the wait for each part of a message.
	DataTimeout time.Duration
	// WriteTimeout bounds each write of a reply and a TLS handshake.
	WriteTimeout time.Duration

	// Logger receives connection and error logs; nil means slog.Default.
	Logger *slog.Logger
	// Faults, if not nil, may refuse a step with a reply of its choosing
	// (fault injection; see [Faults]).
	Faults Faults

	loop     lifecycle.Loop
	onceLoop sync.Once
}

// ErrServerClosed is returned by Serve after Shutdown or Close; it
// matches net.ErrClosed.
var ErrServerClosed = lifecycle.ErrServerClosed

// Serve accepts connections on l and serves each in its own goroutine
// until Shutdown or Close; it then returns ErrServerClosed. A *tls.Conn
// from l is implicit TLS (submissions), and nothing else is.
func (s *Server) Serve(l net.Listener) error {
	if s.Backend == nil {
		l.Close()
		return errors.New("smtp: Server.Backend is nil")
	}
	s.onceLoop.Do(func() { s.loop.Name, s.loop.Logger = "smtp", s.Logger })
	return s.loop.Serve(l, func(nc net.Conn) lifecycle.Session { return loopSession{s.newConn(nc)} })
}

// Shutdown stops accepting, tells connections waiting for a command 421
// and closes them (a transaction not finished is dropped, as RSET would;
// commands already pipelined are answered first), lets a command in
// progress, such as a message being received, finish, and waits for
// every connection to end. A connection still in its implicit-TLS
// handshake is closed. When ctx is done first it closes the rest and
// returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error { return s.loop.Shutdown(ctx) }

// Close closes every listener and connection at once.
func (s *Server) Close() error { return s.loop.Close() }

func (s *Server) hostname() string {
	if s.Hostname != "" {
		return s.Hostname
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}

func (s *Server) logger() *slog.Logger { return lifecycle.Logger(s.Logger) }

func (s *Server) maxLine() int { return lifecycle.OrDefault(s.MaxLineLength, DefaultMaxLineLength) }
func (s *Server) maxDataLine() int {
	return lifecycle.OrDefault(s.MaxDataLineLength, DefaultMaxDataLineLength)
}
func (s *Server) maxMessage() int64 {
	return lifecycle.OrDefault(s.MaxMessageBytes, DefaultMaxMessageBytes)
}
func (s *Server) maxRcpt() int   { return lifecycle.OrDefault(s.MaxRecipients, DefaultMaxRecipients) }
func (s *Server) maxErrors() int { return lifecycle.OrDefault(s.MaxErrors, DefaultMaxErrors) }

// writeDeadline is when a reply being written now must be out.
func (s *Server) writeDeadline() time.Time {
	return lifecycle.Deadline(lifecycle.Timeout(s.WriteTimeout, DefaultWriteTimeout))
}
