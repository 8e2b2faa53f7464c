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

// ErrLineBreak is returned, before anything is sent, by every client
// method given an argument that contains CR or LF: such an argument would
// smuggle a second command onto the control connection.
var ErrLineBreak = errors.New("ftp: argument contains CR or LF")

// errReplyTooLong is returned when a server's reply exceeds the client's limits.
var errReplyTooLong = errors.New("ftp: reply exceeds the client's size limit")
