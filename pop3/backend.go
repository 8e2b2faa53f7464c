package pop3

import (
	"context"
	"crypto/tls"
	"io"
	"net"
)

// ConnInfo describes the client connection to a Backend: the shape
// every protocol package of plumb gives its backend.
type ConnInfo struct {
	RemoteAddr net.Addr
	LocalAddr  net.Addr
	// TLS is the connection's state under TLS (implicit, or after
	// STLS), nil on a plaintext connection.
	TLS *tls.ConnectionState
}

// Backend authenticates users and opens their maildrops. Every call
// gets a context that ends with the session or when the server closes.
// A method that refuses returns an *Error (ErrAuthFailed, ErrLocked or
// one of its own) to choose the reply; any other error is logged and the
// client hears "-ERR [SYS/TEMP]".
type Backend interface {
	// Login checks username and password and returns the user's
	// maildrop, locked for this session until Maildrop.Close.
	Login(ctx context.Context, c ConnInfo, username, password string) (Maildrop, error)
}

// APOPBackend is a Backend that can check APOP digests (RFC 1939 §7):
// digest is the lowercase hex MD5 of timestamp followed by the user's
// shared secret. The server offers APOP only with one.
type APOPBackend interface {
	Backend
	LoginAPOP(ctx context.Context, c ConnInfo, username, timestamp, digest string) (Maildrop, error)
}

// Message is one message of a maildrop.
type Message struct {
	// UID is the unique-id listing UIDL gives: 1 to 70 characters in
	// 0x21..0x7E, never reused for another message of the maildrop.
	UID string
	// Size is the message's size in octets as the server sends it,
	// every line end (LF, CRLF or a lone CR) as CRLF and a CRLF added
	// after a last line without one, as LIST and STAT report it.
	Size int64
}

// Maildrop is one user's mailbox for one session.
type Maildrop interface {
	// Messages lists the maildrop as the session begins; message
	// number n is Messages()[n-1] for the whole session.
	Messages(ctx context.Context) ([]Message, error)
	// Open returns the message's content; line ends may be CRLF or LF.
	Open(ctx context.Context, uid string) (io.ReadCloser, error)
	// Delete removes messages for good; the server calls it once, in
	// the UPDATE state after QUIT, with every message marked deleted.
	Delete(ctx context.Context, uids []string) error
	// Close releases the maildrop's lock.
	Close() error
}
