package pop3

import "context"

// Faults injects refusals into sessions, for testing clients against a
// server that fails on purpose. Fault is asked before a step is done
// and returns the -ERR reply that replaces it, or nil to go on. The
// steps are "login" (PASS, APOP, AUTH) and "fetch" (RETR, TOP).
type Faults interface {
	Fault(ctx context.Context, step string) *Error
}

// faultSteps maps the verbs Faults is asked about to their steps.
var faultSteps = map[string]string{"PASS": "login", "APOP": "login", "AUTH": "login", "RETR": "fetch", "TOP": "fetch"}

// fault answers a command with an injected fault if Server.Faults has
// one, and reports whether it did.
func (c *conn) fault(verb string) bool {
	step, ok := faultSteps[verb]
	if !ok || c.s.Faults == nil {
		return false
	}
	e := c.s.Faults.Fault(c.ctx, step)
	if e == nil {
		return false
	}
	c.reply(e.reply())
	return true
}
