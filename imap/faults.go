package imap

import (
	"context"
	"regexp"
)

// Faults injects refusals into sessions, for testing clients against a
// server that fails on purpose. Fault is asked before a step is done
// and returns the tagged NO or BAD that replaces it, or nil to go on.
// The steps are "login" (LOGIN, AUTHENTICATE) and "fetch" (FETCH and
// UID FETCH of message text: BODY[...], BINARY[...], RFC822, RFC822.TEXT,
// RFC822.HEADER; a FETCH of flags or envelopes alone is not asked about).
type Faults interface {
	Fault(ctx context.Context, step string) *Error
}

// bodyItem finds a fetch attribute that reads message text.
var bodyItem = regexp.MustCompile(`(?i)\b(BODY(\.PEEK)?\[|BINARY(\.PEEK)?\[|RFC822(\.TEXT|\.HEADER)?\b(\.SIZE)?)`)

// faultStep returns the step of a command, given its name and line, or
// "" when Faults is not asked about it.
func faultStep(name, line string) string {
	switch name {
	case "LOGIN", "AUTHENTICATE":
		return "login"
	case "FETCH":
		for _, m := range bodyItem.FindAllStringSubmatch(line, -1) {
			if m[5] == "" {
				return "fetch"
			}
		}
	}
	return ""
}

// fault answers a command with an injected fault if Server.Faults has
// one, and reports whether it did.
func (c *conn) fault(tag, name, line string) bool {
	if c.s.Faults == nil {
		return false
	}
	step := faultStep(name, line)
	if step == "" {
		return false
	}
	e := c.s.Faults.Fault(c.ctx, step)
	if e == nil {
		return false
	}
	c.tagged(tag, e.status())
	return true
}
