package simple

import (
	"errors"
	"fmt"
)

// ErrBadArgument refuses an address or network holding CR, LF or NUL.
var ErrBadArgument = errors.New("simple: argument contains CR, LF or NUL")

// ReplyError is a reply that does not follow the service's RFC.
type ReplyError struct {
	Service Service
	Reason  string
}

func (e *ReplyError) Error() string {
	return fmt.Sprintf("simple: bad %s reply: %s", e.Service, e.Reason)
}

// MismatchError is an echo that differs from what was sent.
type MismatchError struct {
	Offset    int  // first byte that differs
	Sent, Got byte // the bytes at Offset; Got is 0 when the echo was short
	Short     bool // the echo ended before Offset (a short datagram)
}

func (e *MismatchError) Error() string {
	if e.Short {
		return fmt.Sprintf("simple: echo is %d bytes, short of what was sent", e.Offset)
	}
	return fmt.Sprintf("simple: echo differs at byte %d: sent %#02x, got %#02x", e.Offset, e.Sent, e.Got)
}
