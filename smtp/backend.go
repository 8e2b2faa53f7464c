package smtp

import (
	"context"
	"crypto/tls"
	"io"
	"net"

	"github.com/plumbnet/plumb/sasl"
)

// A Backend makes a Session for each connection. It is called once when
// the connection opens and again after STARTTLS, so nothing learnt
// before the TLS handshake survives it. ctx ends when the connection
// does. Refusing with an *Error sends that reply and closes the
// connection.
type Backend interface {
	NewSession(ctx context.Context, c *Conn) (Session, error)
}

// ConnInfo describes a client connection: the shape every protocol
// package of plumb gives its backend.
type ConnInfo struct {
	RemoteAddr net.Addr
	LocalAddr  net.Addr
	TLS        *tls.ConnectionState // nil on a plaintext connection
}

// A Session is one connection's view of the backend, one method per
// transaction step. A method that refuses returns an *Error carrying the
// reply, with a 4xx or 5xx code; any other error, or an *Error with
// another code, is logged and the peer sees a generic 451.
type Session interface {
	// Mail starts a transaction with the reverse-path from ("" for the
	// null sender <>).
	Mail(ctx context.Context, from string, opts *MailOptions) error
	// Rcpt adds a forward-path.
	Rcpt(ctx context.Context, to string, opts *RcptOptions) error
	// Data reads the message (with the server's Received: header in
	// front). Returning nil promises the message is stored: the server
	// then answers 250.
	Data(ctx context.Context, r io.Reader) error
	// Reset ends the transaction (RSET, EHLO, a finished message).
	Reset()
	// Logout ends the session; the connection is closing.
	Logout() error
}

// AuthSession is a Session that offers SMTP AUTH (RFC 4954).
type AuthSession interface {
	Session
	// AuthMechanisms lists the SASL mechanisms offered, e.g. PLAIN, LOGIN.
	AuthMechanisms() []string
	// Auth starts an exchange of mechanism mech. When the exchange ends
	// with done and no error, the session is authenticated.
	Auth(ctx context.Context, mech string) (sasl.Server, error)
}

// VerifySession is a Session that answers VRFY when the server allows it.
type VerifySession interface {
	Session
	// Verify returns the mailbox addr names, or an *Error.
	Verify(ctx context.Context, addr string) (string, error)
}

// BodyType is MAIL FROM's BODY= parameter (RFC 6152).
type BodyType string

// Body types.
const (
	Body7Bit       BodyType = "7BIT"
	Body8BitMIME   BodyType = "8BITMIME"
	BodyBinaryMIME BodyType = "BINARYMIME"
)

// MailOptions are MAIL FROM's parameters.
type MailOptions struct {
	Size       int64    // SIZE=, 0 if not given (RFC 1870)
	Body       BodyType // BODY=, "" if not given
	UTF8       bool     // SMTPUTF8 (RFC 6531)
	Return     string   // RET=FULL or HDRS (RFC 3461)
	EnvelopeID string   // ENVID= as given, xtext
	Auth       string   // AUTH= (RFC 4954), "<>" or an xtext mailbox
}

// RcptOptions are RCPT TO's parameters.
type RcptOptions struct {
	Notify       []string // NOTIFY= values: NEVER, SUCCESS, FAILURE, DELAY (RFC 3461)
	OriginalRcpt string   // ORCPT= as given
}
