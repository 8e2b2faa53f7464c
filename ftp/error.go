package ftp

import (
	"errors"
	"fmt"
	"strings"
)

// Error is a reply from an FTP server that reports a failure, or an
// unexpected reply: its three-digit code and the reply's text (lines of
// a multi-line reply are joined with "\n"). Use errors.As to get it.
type Error struct {
	Code int
	Msg  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("ftp: %03d %s", e.Code, strings.ReplaceAll(e.Msg, "\n", " / "))
}

// Temporary reports whether the reply is a transient negative one (4xx):
// trying the same command later may succeed.
func (e *Error) Temporary() bool { return e.Code >= 400 && e.Code < 500 }

// ErrBadArgument is wrapped by the error every client method returns,
// before anything is sent, when given an argument that contains CR, LF
// or NUL: CR or LF would smuggle a second command onto the control
// connection, and no name holds a NUL.
var ErrBadArgument = errors.New("ftp: argument contains CR, LF or NUL")

// ErrPlaintext is returned by Client.Login rather than send a password
// over a control connection that is neither TLS nor to a loopback
// address; AuthTLS first, or set Client.InsecureAuth.
var ErrPlaintext = errors.New("ftp: refusing to send a password over an unencrypted connection; use AuthTLS")

// errReplyTooLong is returned when a server's reply exceeds the client's limits.
var errReplyTooLong = errors.New("ftp: reply exceeds the client's size limit")
