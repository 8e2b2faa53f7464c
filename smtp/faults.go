package smtp

import "context"

// Faults injects refusals into sessions, for testing clients against a
// server that fails on purpose. Fault is asked before a step is done
// and returns the reply that replaces it, or nil to go on. The steps
// are "ehlo" (EHLO and HELO), "auth", "mail", "rcpt" and "data" (the
// DATA command, before the message is read, so nothing is stored).
type Faults interface {
	Fault(ctx context.Context, step string) *Error
}

// faultSteps maps the verbs Faults is asked about to their steps.
var faultSteps = map[string]string{"EHLO": "ehlo", "HELO": "ehlo", "AUTH": "auth", "MAIL": "mail", "RCPT": "rcpt", "DATA": "data"}

// fault answers verb with an injected fault if Server.Faults has one,
// and reports whether it did.
func (c *Conn) fault(verb string) bool {
	step, ok := faultSteps[verb]
	if !ok || c.srv.Faults == nil {
		return false
	}
	e := c.srv.Faults.Fault(c.ctx, step)
	if e == nil {
		return false
	}
	c.replyErr(e, step)
	return true
}
