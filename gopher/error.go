package gopher

import "errors"

// Error is a type-3 item a server sent in place of what was asked for
// (RFC 1436 section 3.8): "not found", "access denied". The Client
// returns it; Msg is the server's text.
type Error struct {
	Msg string
}

func (e *Error) Error() string { return "gopher: server error: " + e.Msg }

var (
	// ErrBadArgument is a selector or search holding CR, LF, TAB (in a
	// selector) or NUL, which would change the request (injection).
	ErrBadArgument = errors.New("gopher: bad argument")
	// ErrProtocol is a response the client cannot read as what it asked for.
	ErrProtocol = errors.New("gopher: protocol error")
	// ErrTooLarge is a response over the client's limit.
	ErrTooLarge = errors.New("gopher: response too large")
)
