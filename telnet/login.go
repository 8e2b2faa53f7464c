package telnet

import (
	"errors"
	"io"

	"github.com/plumbnet/plumb/internal/lifecycle"
)

// errHangup is a client ending the login with ^D.
var errHangup = errors.New("telnet: client hung up at the login prompt")

// errLineTooLong is a login line past MaxLineLength: the client is told
// and the line counts as a failed attempt.
var errLineTooLong = errors.New("telnet: login line too long")

// lineEditor collects one line of the login dialogue: the name (echoed
// when the server echoes) or the password (never echoed). It does what
// a terminal's cooked mode would, since no program runs yet: erase
// (DEL, BS), kill (^U), ^D on an empty line to leave.
type lineEditor struct {
	c       *conn
	echo    bool // echo typed characters (the name, not the password)
	max     int
	line    []byte
	long    bool // the line went past max; it is refused at its end
	done    bool
	hangup  bool
	pending []byte // data after the line's end, for the next line
}

func (e *lineEditor) feed(p []byte) {
	for i, b := range p {
		if e.done {
			e.pending = append(e.pending, p[i:]...)
			return
		}
		e.key(b)
	}
}

func (e *lineEditor) key(b byte) {
	echo := e.echo && e.c.neg.Local(Echo)
	switch {
	case b == '\r' || b == '\n':
		e.done = true
		if e.c.neg.Local(Echo) {
			e.c.say("\r\n")
		}
	case b == 0x7f || b == 0x08:
		if len(e.line) > 0 {
			e.line = e.line[:len(e.line)-1]
			if echo {
				e.c.say("\b \b")
			}
		}
	case b == 0x15:
		if echo {
			for range e.line {
				e.c.say("\b \b")
			}
		}
		e.line = e.line[:0]
	case b == 0x04:
		if len(e.line) == 0 {
			e.done, e.hangup = true, true
		}
	case b < 0x20:
		// other control characters have no meaning at the prompt
	case len(e.line) >= e.max:
		e.long = true
	default:
		e.line = append(e.line, b)
		if echo {
			e.c.w.Write([]byte{b})
		}
	}
}

// readLine prompts and reads one line. An overlong line is read to its
// end and refused with errLineTooLong, leaving what followed it in the
// returned carry.
func (c *conn) readLine(prompt string, echo bool, carry []byte) (string, []byte, error) {
	e := &lineEditor{c: c, echo: echo, max: lifecycle.OrDefault(c.s.MaxLineLength, DefaultMaxLineLength)}
	c.say(prompt)
	c.data = e.feed
	defer func() { c.data = nil }()
	e.feed(carry)
	for !e.done {
		if err := c.pump(); err != nil {
			return "", nil, err
		}
	}
	switch {
	case e.hangup:
		return "", nil, errHangup
	case e.long:
		c.say("Line too long.\r\n")
		return "", e.pending, errLineTooLong
	}
	return string(e.line), e.pending, nil
}

// login runs the login dialogue until a login succeeds, the attempts
// run out or the client leaves, and returns the account's program.
func (c *conn) login() (Program, error) {
	log := c.s.logger()
	var carry []byte
	for attempt := 1; ; attempt++ {
		user, rest, err := c.readLine("login: ", true, carry)
		carry = rest
		if err == nil && user == "" {
			attempt--
			continue
		}
		var pass string
		if err == nil {
			pass, rest, err = c.readLine("Password: ", false, rest)
			carry = rest
		}
		if errors.Is(err, errLineTooLong) {
			log.Info("telnet: login line too long", "remote", c.remote())
			if c.tooManyAttempts(attempt) {
				return nil, io.EOF
			}
			continue
		}
		if err != nil {
			return nil, err
		}

		c.setWaiting(false)
		prog, err := c.s.Backend.Login(c.ctx, c.term.Info, user, pass)
		c.setWaiting(true)
		if err == nil {
			if a, ok := prog.(Account); ok {
				user = a.Name
			}
			c.term.User = user
			c.typeahead = rest
			log.Info("telnet: login", "remote", c.remote(), "user", user, "tls", c.term.Info.TLS != nil)
			if c.s.loop.Closing() {
				return nil, errShutdown
			}
			return prog, nil
		}
		switch {
		case errors.Is(err, ErrAuthFailed):
			log.Info("telnet: login failed", "remote", c.remote(), "user", user)
			c.say("Login incorrect\r\n")
		case errors.Is(err, ErrNotAllowed):
			log.Info("telnet: login refused for the account", "remote", c.remote(), "user", user)
			c.say("This account has no program here.\r\n")
		case c.ctx.Err() != nil:
			return nil, errShutdown
		default:
			log.Error("telnet: login check failed", "remote", c.remote(), "user", user, "err", err)
			c.say("Login failed; try again later.\r\n")
			return nil, err
		}
		if c.tooManyAttempts(attempt) {
			return nil, io.EOF
		}
	}
}

// tooManyAttempts reports whether attempt was the last failure allowed,
// telling the client so.
func (c *conn) tooManyAttempts(attempt int) bool {
	if attempt < lifecycle.OrDefault(c.s.MaxLoginAttempts, DefaultMaxLoginAttempts) {
		return false
	}
	c.say("Too many failed logins.\r\n")
	return true
}
