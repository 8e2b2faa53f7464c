package smtp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// An EnhancedCode is an RFC 3463 status code such as 5.7.1.
type EnhancedCode [3]int

// NoEnhancedCode leaves the enhanced code out of a reply; the zero
// value lets the server choose one from the reply code.
var NoEnhancedCode = EnhancedCode{-1, -1, -1}

func (c EnhancedCode) String() string {
	if c == NoEnhancedCode || c == (EnhancedCode{}) {
		return ""
	}
	return fmt.Sprintf("%d.%d.%d", c[0], c[1], c[2])
}

// An Error is an SMTP reply that is not a success: a backend returns
// one to choose the reply, and the client returns one for a reply it
// did not want.
type Error struct {
	Code int
	Msg  string // the text, lines joined by "\n", without the enhanced code
	// EnhancedCode is the RFC 3463 code; its zero value lets the server
	// choose one from Code, NoEnhancedCode leaves it out.
	EnhancedCode EnhancedCode
}

func (e *Error) Error() string {
	s := strconv.Itoa(e.Code)
	if ec := e.EnhancedCode.String(); ec != "" {
		s += " " + ec
	}
	return "smtp: " + s + " " + e.Msg
}

// Temporary reports whether the reply is a 4xx one: try again later.
func (e *Error) Temporary() bool { return e.Code >= 400 && e.Code < 500 }

// IsTemporary reports whether err carries a 4xx SMTP reply, or is a
// failure that is not an SMTP reply at all (a network error), so that a
// queue knows whether to retry.
func IsTemporary(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Temporary()
	}
	return err != nil
}

// Replies a backend commonly returns.
var (
	ErrAuthRequired    = &Error{530, "Authentication required", EnhancedCode{5, 7, 0}}
	ErrAuthFailed      = &Error{535, "Authentication credentials invalid", EnhancedCode{5, 7, 8}}
	ErrRelayDenied     = &Error{554, "Relay access denied", EnhancedCode{5, 7, 1}}
	ErrNoSuchUser      = &Error{550, "No such user here", EnhancedCode{5, 1, 1}}
	ErrMessageTooLarge = &Error{552, "Message size exceeds fixed limit", EnhancedCode{5, 3, 4}}
	ErrTryLater        = &Error{451, "Local error in processing, try again later", EnhancedCode{4, 3, 0}}
)

// defaultEnhanced picks an enhanced code for a reply that has none,
// from the class of the reply code (RFC 3463 section 3).
func defaultEnhanced(code int) EnhancedCode {
	switch {
	case code >= 200 && code < 300:
		return EnhancedCode{2, 0, 0}
	case code >= 400 && code < 500:
		return EnhancedCode{4, 0, 0}
	case code >= 500:
		return EnhancedCode{5, 0, 0}
	}
	return NoEnhancedCode
}

// parseEnhanced splits "5.7.1 text" into the code and the text; ok is
// false when msg does not start with an enhanced code of class class.
func parseEnhanced(msg string, class int) (EnhancedCode, string, bool) {
	word, rest, _ := strings.Cut(msg, " ")
	parts := strings.Split(word, ".")
	if len(parts) != 3 {
		return EnhancedCode{}, msg, false
	}
	var ec EnhancedCode
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 999 || len(p) > 3 {
			return EnhancedCode{}, msg, false
		}
		ec[i] = n
	}
	if ec[0] != class {
		return EnhancedCode{}, msg, false
	}
	return ec, rest, true
}
