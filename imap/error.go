package imap

import (
	"errors"
	"strings"
)

// Error is a tagged NO or BAD. A Backend returns one to choose the
// reply the client hears; the Client returns one when the server
// refuses a command.
type Error struct {
	// Type is "NO" or "BAD"; empty means "NO".
	Type string
	// Code is the response code without brackets ("TRYCREATE",
	// "AUTHENTICATIONFAILED", "OVERQUOTA"), or "".
	Code string
	// Text is the human-readable rest of the line.
	Text string
}

func (e *Error) Error() string {
	s := "imap: " + e.typ()
	if e.Code != "" {
		s += " [" + e.Code + "]"
	}
	return s + " " + e.Text
}

func (e *Error) typ() string {
	if e.Type == "" {
		return "NO"
	}
	return e.Type
}

// Is reports whether target is an *Error with the same non-empty Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code != "" && t.Code == e.Code
}

// status returns e as the rest of a tagged line: "NO [CODE] text".
func (e *Error) status() string {
	var b strings.Builder
	b.WriteString(e.typ())
	if code := printable(e.Code, 64); code != "" && !strings.ContainsAny(code, "[]") {
		b.WriteString(" [" + code + "]")
	}
	text := printable(e.Text, 400)
	if text == "" {
		text = "Command refused"
	}
	b.WriteString(" " + text)
	return b.String()
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

// Replies a Backend returns; wrap them freely.
var (
	ErrAuthFailed    = &Error{Code: "AUTHENTICATIONFAILED", Text: "Authentication failed"}
	ErrNoSuchMailbox = &Error{Code: "NONEXISTENT", Text: "No such mailbox"}
	ErrTryCreate     = &Error{Code: "TRYCREATE", Text: "No such mailbox"}
	ErrMailboxExists = &Error{Code: "ALREADYEXISTS", Text: "Mailbox already exists"}
	ErrOverQuota     = &Error{Code: "OVERQUOTA", Text: "Quota exceeded"}
	ErrCannot        = &Error{Code: "CANNOT", Text: "Operation not permitted"}
	ErrInUse         = &Error{Code: "INUSE", Text: "Mailbox in use"}
)

// Client errors other than a server's refusal.
var (
	// ErrBadArgument refuses an argument holding CR, LF or NUL.
	ErrBadArgument = errors.New("imap: argument contains CR, LF or NUL")
	// ErrPlaintext refuses to send a password without TLS off loopback.
	ErrPlaintext = errors.New("imap: refusing to send a password without TLS to a non-loopback server (use STARTTLS or imaps)")
	// ErrProtocol is a response that breaks the grammar or the client's limits.
	ErrProtocol = errors.New("imap: malformed server response")
)
