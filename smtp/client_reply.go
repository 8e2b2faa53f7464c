package smtp

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/plumbnet/plumb/internal/wire"
)

// readReply reads one reply and returns it as an *Error unless its code
// has the first digit of want (want's class: 2 for 250, 3 for 354); want
// 0 takes any reply.
func (c *Client) readReply(want int) (int, string, error) {
	code, msg, err := c.readResponse()
	if err != nil {
		return 0, "", err
	}
	if want != 0 && code/100 != want/100 {
		return code, msg, c.replyError(code, msg)
	}
	return code, msg, nil
}

// readResponse reads a reply, one line or several (RFC 5321 section
// 4.2.1): every line but the last has "-" after the code, and all carry
// the same code. The text's lines are joined with "\n".
func (c *Client) readResponse() (int, string, error) {
	var msg strings.Builder
	code := 0
	for {
		line, err := c.lr.ReadLine()
		switch {
		case errors.Is(err, wire.ErrLineTooLong):
			return 0, "", fmt.Errorf("%w: reply line over %d bytes", ErrProtocol, maxReplyLine)
		case err == io.EOF && code != 0:
			return 0, "", io.ErrUnexpectedEOF
		case err != nil:
			return 0, "", err
		}
		n, more, text, ok := parseReplyLine(line)
		if !ok || code != 0 && n != code {
			return 0, "", fmt.Errorf("%w: %.80q", ErrProtocol, line)
		}
		if code != 0 {
			msg.WriteByte('\n')
		}
		code = n
		if msg.Len()+len(text) > maxReplyBytes {
			return 0, "", fmt.Errorf("%w: reply over %d bytes", ErrProtocol, maxReplyBytes)
		}
		msg.WriteString(text)
		if !more {
			return code, msg.String(), nil
		}
	}
}

// parseReplyLine splits "250-text", "250 text" or "250" into the code,
// whether more lines follow, and the text.
func parseReplyLine(line string) (code int, more bool, text string, ok bool) {
	if len(line) < 3 || len(line) > 3 && line[3] != ' ' && line[3] != '-' {
		return 0, false, "", false
	}
	for i := 0; i < 3; i++ {
		if line[i] < '0' || line[i] > '9' {
			return 0, false, "", false
		}
		code = code*10 + int(line[i]-'0')
	}
	if code < 200 || code > 599 {
		return 0, false, "", false
	}
	if len(line) == 3 {
		return code, false, "", true
	}
	return code, line[3] == '-', line[4:], true
}

// replyError turns a reply into an *Error, splitting off the enhanced
// status code of its first line when there is one.
func (c *Client) replyError(code int, msg string) *Error {
	e := &Error{Code: code, Msg: msg}
	if ec, rest, ok := parseEnhanced(msg, code/100); ok {
		e.EnhancedCode, e.Msg = ec, rest
		// Later lines repeat the code; keep only their text.
		lines := strings.Split(rest, "\n")
		for i := 1; i < len(lines); i++ {
			if _, r, ok := parseEnhanced(lines[i], code/100); ok {
				lines[i] = r
			}
		}
		e.Msg = strings.Join(lines, "\n")
	} else {
		e.EnhancedCode = NoEnhancedCode
	}
	return e
}
