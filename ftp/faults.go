package ftp

import (
	"context"
	"strings"
)

// Faults injects refusals into sessions, for testing clients against a
// server that fails on purpose. Fault is asked before a step is done
// and returns the reply that replaces it, or nil to go on. The steps
// are each control command, by its verb in lower case ("user", "pass",
// "stor", "retr", "list", ...), asked before the command runs, and
// "data", asked when a data connection is made, before the 150 reply:
// the fault's reply then ends the transfer and the data connection is
// closed unused.
type Faults interface {
	Fault(ctx context.Context, step string) *Error
}

// fault answers a control command with an injected fault if
// Server.Faults has one for its verb, and reports whether it did.
func (s *session) fault(verb string) bool {
	if e := s.faultFor(strings.ToLower(verb)); e != nil {
		s.reply(e.Code, e.Msg)
		return true
	}
	return false
}

// faultFor returns the injected fault for step, or nil to go on.
func (s *session) faultFor(step string) *Error {
	if s.srv.Faults == nil {
		return nil
	}
	return s.srv.Faults.Fault(s.ctx, step)
}
