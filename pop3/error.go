package pop3

import (
	"errors"
	"strings"
)

// Error is a -ERR reply. A Backend returns one to choose the reply the
// client hears; the Client returns one when the server refuses a
// command.
//
// POP3 replies have no numeric code: Code is the RFC 2449 extended
// response code, a string such as "AUTH", "IN-USE" or "SYS/TEMP"
// (written in brackets after -ERR), or "" when the reply has none.
type Error struct {
	Code string // RFC 2449 response code without brackets, or ""
	Msg  string // the text of the reply after the code
	// Command is the command refused ("PASS", "RETR"); the Client sets it.
	Command string
}

func (e *Error) Error() string {
	s := "pop3: "
	if e.Command != "" {
		s += e.Command + ": "
	}
	return s + e.reply()
}

// Is reports whether target is an *Error with the same non-empty Code,
// so that errors.Is(err, ErrAuthFailed) holds for every [AUTH] refusal,
// the server's and the backend's alike.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code != "" && t.Code == e.Code
}

// Temporary reports whether retrying later may succeed ([SYS/TEMP], [IN-USE]).
func (e *Error) Temporary() bool { return e.Code == "SYS/TEMP" || e.Code == "IN-USE" }

// reply is the -ERR line for e, its text kept to one printable line.
func (e *Error) reply() string {
	var b strings.Builder
	b.WriteString("-ERR")
	if code := printable(e.Code, 64); code != "" && !strings.ContainsAny(code, " []") {
		b.WriteString(" [" + code + "]")
	}
	msg := printable(e.Msg, 400)
	if msg == "" {
		msg = "Command refused"
	}
	b.WriteString(" " + msg)
	return b.String()
}

// printable replaces control characters (CR and LF above all) with
// spaces and cuts s to max bytes.
func printable(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > max {
		s = s[:max]
	}
	return strings.TrimSpace(s)
}

// Replies a Backend returns to refuse a login; wrap them freely.
var (
	// ErrAuthFailed: wrong user or password ("-ERR [AUTH]"). It counts
	// against Server.MaxAuthFailures.
	ErrAuthFailed = &Error{Code: "AUTH", Msg: "Authentication failed"}
	// ErrLocked: another session holds the maildrop ("-ERR [IN-USE]").
	ErrLocked = &Error{Code: "IN-USE", Msg: "Mailbox is locked by another session"}
)

// Client errors other than a server's refusal.
var (
	// ErrBadArgument refuses an argument holding CR, LF or NUL, which
	// would let it inject a command.
	ErrBadArgument = errors.New("pop3: argument contains CR, LF or NUL")
	// ErrPlaintext refuses to send a password over a connection that is
	// neither TLS nor loopback.
	ErrPlaintext = errors.New("pop3: refusing to send a password without TLS to a non-loopback server (use STLS or pop3s)")
	// ErrProtocol is a reply that breaks the grammar or the client's
	// limits; the client closes the connection after one.
	ErrProtocol = errors.New("pop3: malformed server reply")
	// ErrTooLarge is a message or listing over Client.MaxMessageSize;
	// the client closes the connection after one.
	ErrTooLarge = errors.New("pop3: reply too large")
)
