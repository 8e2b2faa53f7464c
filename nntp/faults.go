package nntp

import "context"

// Faults injects refusals into sessions, for testing clients against a
// server that fails on purpose. Fault is asked before a step is done
// and returns the reply that replaces it, or nil to go on. The one
// step is "post": POST and IHAVE are asked before the article is asked
// for, TAKETHIS once its article is read (it follows the command
// unasked), with the message-id as the reply's text.
type Faults interface {
	Fault(ctx context.Context, step string) *Error
}

// fault returns the injected fault for step, or nil to go on.
func (c *conn) fault(step string) *Error {
	if c.s.Faults == nil {
		return nil
	}
	return c.s.Faults.Fault(c.ctx, step)
}
