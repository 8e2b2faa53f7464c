package nntp

import (
	"errors"
	"fmt"
	"strings"
)

// Error is an NNTP reply other than success. A Backend returns one to
// choose the reply the client hears; the Client returns one when the
// server refuses a command. Match it with errors.As.
type Error struct {
	Code int    // the three-digit reply code, 400 to 599
	Msg  string // the text after the code
}

func (e *Error) Error() string { return fmt.Sprintf("nntp: %d %s", e.Code, e.Msg) }

// Is reports whether target is an *Error with the same Code, so that
// errors.Is(err, ErrNoSuchArticle) holds for every 430 reply.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Temporary reports whether the reply is a 4xx that invites a retry
// later (400, 403, 431, 436).
func (e *Error) Temporary() bool {
	switch e.Code {
	case 400, 403, 431, 436:
		return true
	}
	return false
}

// line is the reply line for e, its text kept to one printable line.
func (e *Error) line() string {
	code := e.Code
	if code < 400 || code > 599 {
		code = 403
	}
	msg := printable(e.Msg, 400)
	if msg == "" {
		msg = "Command refused"
	}
	return fmt.Sprintf("%d %s", code, msg)
}

// printable replaces control characters with spaces and cuts s to max bytes.
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

// Replies a Backend returns; wrap them freely with %w.
var (
	ErrNoSuchGroup   = &Error{Code: 411, Msg: "No such newsgroup"}
	ErrNoSuchArticle = &Error{Code: 430, Msg: "No article with that message-id"}
	ErrNoSuchNumber  = &Error{Code: 423, Msg: "No article with that number"}
	ErrAuthFailed    = &Error{Code: 481, Msg: "Authentication failed"}
	// ErrPostingFailed refuses a POST (441); ErrRejected an IHAVE (437),
	// ErrNotWanted an IHAVE or CHECK (435/438), ErrTryLater a transfer
	// that may work later (436/431).
	ErrPostingFailed = &Error{Code: 441, Msg: "Posting failed"}
	ErrRejected      = &Error{Code: 437, Msg: "Article rejected"}
	ErrNotWanted     = &Error{Code: 435, Msg: "Article not wanted"}
	ErrTryLater      = &Error{Code: 436, Msg: "Transfer not possible; try again later"}
)

// Client errors other than a server's refusal.
var (
	// ErrBadArgument refuses an argument holding CR, LF, NUL or (where
	// the grammar forbids it) a space, which would inject a command.
	ErrBadArgument = errors.New("nntp: bad argument (CR, LF, NUL or space)")
	// ErrPlaintext refuses to send a password over a connection that is
	// neither TLS nor loopback.
	ErrPlaintext = errors.New("nntp: refusing to send a password without TLS to a non-loopback server (use STARTTLS or nntps)")
	// ErrProtocol is a reply that breaks the grammar or the client's
	// limits; the client closes the connection after one.
	ErrProtocol = errors.New("nntp: malformed server reply")
)
