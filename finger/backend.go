package finger

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"time"
)

// ErrNoSuchUser is what a Backend returns for a user it will not
// describe: one that does not exist and one that opted out alike, so
// that the client hears the same answer for both.
var ErrNoSuchUser = errors.New("finger: no such user")

// ConnInfo describes the client's connection.
type ConnInfo struct {
	RemoteAddr net.Addr
	LocalAddr  net.Addr
	TLS        *tls.ConnectionState // nil when not TLS
}

// Backend answers queries for one user. The server formats the answer;
// a Backend leaves out (nil, zero) every field it does not expose.
type Backend interface {
	// User describes the user name (as the client typed it), the long
	// form when verbose. It returns ErrNoSuchUser for a user the
	// client must not learn about.
	User(ctx context.Context, c ConnInfo, name string, verbose bool) (*Entry, error)
}

// A Lister is a Backend that can also list who is logged in now, for
// the empty query; the server asks it only when Server.ListUsers is set.
type Lister interface {
	LoggedIn(ctx context.Context, c ConnInfo) ([]Login, error)
}

// Entry is what the server tells about one user. Nil and zero fields
// are not shown.
type Entry struct {
	Login string // the account name
	Name  string // the full name, "" when not known or not exposed
	// LastLogin is the last successful login over any protocol; a zero
	// Since means never, or not exposed (LastLoginShown tells which).
	LastLogin      Login
	LastLoginShown bool
	// Sessions are the user's sessions open now (shown in the long form).
	Sessions []Login
	// Mail is the unread mail count; nil means not exposed.
	Mail *MailStatus
	// Plan and Project are the user's .plan and .project; nil means not
	// exposed, "" means the file is missing or empty.
	Plan, Project *string
}

// MailStatus is a user's mailbox as finger tells it.
type MailStatus struct {
	Unread int // messages not yet seen
}

// Login is one login of a user: a session open now, or the last one.
type Login struct {
	User     string    // account name
	Name     string    // full name, "" when not known or not exposed
	Protocol string    // "pop3", "ftp", "smtp", ...
	Since    time.Time // when the login happened
}
