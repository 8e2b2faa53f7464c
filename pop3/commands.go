package pop3

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/plumbnet/plumb/sasl"
)

const refusePlaintext = "-ERR [AUTH] Plaintext authentication disallowed without TLS; use STLS first"

func (c *conn) cmdUser(cmd command) error {
	if !c.plaintextOK() {
		c.reply(refusePlaintext)
		return nil
	}
	if len(cmd.args) != 1 {
		c.bad++
		c.reply("-ERR Syntax: USER name")
		return nil
	}
	c.user = cmd.args[0]
	c.reply("+OK Send PASS")
	return nil
}

func (c *conn) cmdPass(cmd command) error {
	if !c.plaintextOK() {
		c.reply(refusePlaintext)
		return nil
	}
	if c.user == "" {
		c.bad++
		c.reply("-ERR Send USER first")
		return nil
	}
	if cmd.rest == "" {
		c.bad++
		c.reply("-ERR Syntax: PASS password")
		return nil
	}
	user := c.user
	c.user = ""
	drop, err := c.s.Backend.Login(c.ctx, c.info(), user, cmd.rest)
	c.loggedIn(user, drop, err)
	return nil
}

func (c *conn) cmdAPOP(cmd command) error {
	ab, ok := c.s.Backend.(APOPBackend)
	if !ok || c.timestamp == "" {
		c.reply("-ERR APOP not available")
		return nil
	}
	if len(cmd.args) != 2 {
		c.bad++
		c.reply("-ERR Syntax: APOP name digest")
		return nil
	}
	drop, err := ab.LoginAPOP(c.ctx, c.info(), cmd.args[0], c.timestamp, strings.ToLower(cmd.args[1]))
	c.loggedIn(cmd.args[0], drop, err)
	return nil
}

func (c *conn) cmdAuth(cmd command) error {
	if len(cmd.args) == 0 {
		// Not in RFC 5034, but clients still ask this way (as with Dovecot).
		c.reply("+OK Mechanisms follow")
		if c.plaintextOK() {
			for _, m := range sasl.Mechanisms() {
				c.reply(m)
			}
		}
		c.reply(".")
		return nil
	}
	if !c.plaintextOK() {
		c.reply(refusePlaintext)
		return nil
	}
	if len(cmd.args) > 2 {
		c.bad++
		c.reply("-ERR Syntax: AUTH mechanism [initial-response]")
		return nil
	}
	var (
		drop Maildrop
		user string
	)
	srv, err := sasl.NewServer(cmd.args[0], func(ctx context.Context, identity, username, password string) error {
		user = username
		d, err := c.s.Backend.Login(ctx, c.info(), username, password)
		drop = d
		return err
	})
	if err != nil {
		c.reply("-ERR Unsupported SASL mechanism")
		return nil
	}
	var ir []byte
	if len(cmd.args) == 2 {
		if ir, err = sasl.DecodeInitialResponse(cmd.args[1]); err != nil {
			c.reply("-ERR Malformed initial response")
			return nil
		}
	}
	var ioErr error // a failed read or write ends the session
	err = sasl.Run(c.ctx, srv, ir, func(chal string) error {
		c.reply("+ " + chal)
		ioErr = c.bw.Flush()
		return ioErr
	}, func() (string, error) {
		line, err := c.readLine(saslLineMax)
		if err != nil && !errors.Is(err, errLineTooLong) {
			ioErr = err
		}
		return line, err
	})
	switch {
	case ioErr != nil:
		return ioErr
	case err == nil:
		c.loggedIn(user, drop, nil)
	case errors.Is(err, sasl.ErrCanceled):
		c.reply("-ERR Authentication canceled")
	case errors.Is(err, errLineTooLong), errors.Is(err, sasl.ErrMalformed), errors.Is(err, sasl.ErrTooLong),
		errors.Is(err, sasl.ErrIdentityRefused), errors.Is(err, sasl.ErrUnexpected):
		c.authFails++
		c.reply("-ERR [AUTH] Malformed SASL response")
		c.closeAfterAuthFailures()
	case c.ctx.Err() != nil:
		return err
	default:
		c.loggedIn(user, nil, err)
	}
	return nil
}

// loggedIn answers a login attempt and enters TRANSACTION on success.
func (c *conn) loggedIn(user string, drop Maildrop, err error) {
	log := c.s.logger()
	switch {
	case err == nil:
	case errors.Is(err, ErrAuthFailed):
		c.authFails++
		c.reply("-ERR [AUTH] Authentication failed")
		c.closeAfterAuthFailures()
		return
	case errors.Is(err, ErrLocked):
		c.reply("-ERR [IN-USE] Mailbox is locked by another session")
		return
	default:
		log.Error("pop3: login", "user", user, "remote", c.nc.RemoteAddr().String(), "err", err)
		c.reply("-ERR [SYS/TEMP] Temporary failure, try again later")
		return
	}
	msgs, err := drop.Messages(c.ctx)
	if err != nil {
		drop.Close()
		log.Error("pop3: listing maildrop", "user", user, "err", err)
		c.reply("-ERR [SYS/TEMP] Temporary failure, try again later")
		return
	}
	c.drop, c.msgs, c.deleted = drop, msgs, make([]bool, len(msgs))
	c.user, c.state = user, stateTransaction
	n, size := c.totals()
	c.reply(fmt.Sprintf("+OK Logged in, %d messages (%d octets)", n, size))
}

func (c *conn) closeAfterAuthFailures() {
	if c.authFails >= orDefault(c.s.MaxAuthFailures, DefaultMaxAuthFailures) {
		c.reply("-ERR [AUTH] Too many authentication failures, closing connection")
		c.quit = true
	}
}

// totals returns the count and size of the messages not marked deleted.
func (c *conn) totals() (n int, size int64) {
	for i, m := range c.msgs {
		if !c.deleted[i] {
			n++
			size += m.Size
		}
	}
	return n, size
}

// message resolves a message-number argument, answering -ERR itself
// when it names no message or a deleted one.
func (c *conn) message(arg string) (int, bool) {
	n, ok := parseMsgNum(arg)
	if !ok || n < 1 || n > len(c.msgs) {
		c.reply("-ERR No such message")
		return 0, false
	}
	if c.deleted[n-1] {
		c.reply(fmt.Sprintf("-ERR Message %d already deleted", n))
		return 0, false
	}
	return n - 1, true
}

func (c *conn) cmdStat(cmd command) error {
	n, size := c.totals()
	c.reply(fmt.Sprintf("+OK %d %d", n, size))
	return nil
}

func (c *conn) cmdList(cmd command) error {
	return c.listing(cmd, "LIST", func(i int) string { return fmt.Sprint(c.msgs[i].Size) })
}

func (c *conn) cmdUIDL(cmd command) error {
	return c.listing(cmd, "UIDL", func(i int) string { return c.msgs[i].UID })
}

// listing answers LIST and UIDL: one message with an argument, else a
// multi-line list of every message not marked deleted.
func (c *conn) listing(cmd command, name string, field func(i int) string) error {
	switch len(cmd.args) {
	case 0:
		c.reply("+OK")
		for i := range c.msgs {
			if !c.deleted[i] {
				c.bw.WriteString(fmt.Sprint(i+1, " ", field(i), "\r\n"))
			}
		}
		c.reply(".")
	case 1:
		if i, ok := c.message(cmd.args[0]); ok {
			c.reply(fmt.Sprintf("+OK %d %s", i+1, field(i)))
		}
	default:
		c.bad++
		c.reply("-ERR Syntax: " + name + " [msg]")
	}
	return nil
}

func (c *conn) cmdRetr(cmd command) error {
	if len(cmd.args) != 1 {
		c.bad++
		c.reply("-ERR Syntax: RETR msg")
		return nil
	}
	i, ok := c.message(cmd.args[0])
	if !ok {
		return nil
	}
	return c.send(i, -1, fmt.Sprintf("+OK %d octets", c.msgs[i].Size))
}

func (c *conn) cmdTop(cmd command) error {
	if len(cmd.args) != 2 {
		c.bad++
		c.reply("-ERR Syntax: TOP msg lines")
		return nil
	}
	lines, ok := parseMsgNum(cmd.args[1])
	if !ok {
		c.bad++
		c.reply("-ERR Syntax: TOP msg lines")
		return nil
	}
	i, ok := c.message(cmd.args[0])
	if !ok {
		return nil
	}
	return c.send(i, lines, "+OK Top of message follows")
}

// send writes message i after the status line ok. A failure after the
// status line cannot be answered, so it ends the session.
func (c *conn) send(i, bodyLines int, ok string) error {
	rc, err := c.drop.Open(c.ctx, c.msgs[i].UID)
	if err != nil {
		c.s.logger().Error("pop3: opening message", "user", c.user, "uid", c.msgs[i].UID, "err", err)
		c.reply("-ERR [SYS/TEMP] Message cannot be read now")
		return nil
	}
	defer rc.Close()
	c.reply(ok)
	if err := writeMessage(c.bw, rc, bodyLines); err != nil {
		c.s.logger().Error("pop3: sending message", "user", c.user, "uid", c.msgs[i].UID, "err", err)
		return err
	}
	return nil
}

func (c *conn) cmdDele(cmd command) error {
	if len(cmd.args) != 1 {
		c.bad++
		c.reply("-ERR Syntax: DELE msg")
		return nil
	}
	if i, ok := c.message(cmd.args[0]); ok {
		c.deleted[i] = true
		c.reply(fmt.Sprintf("+OK Message %d deleted", i+1))
	}
	return nil
}

func (c *conn) cmdNoop(cmd command) error {
	c.reply("+OK")
	return nil
}

func (c *conn) cmdRset(cmd command) error {
	clear(c.deleted)
	n, size := c.totals()
	c.reply(fmt.Sprintf("+OK Maildrop has %d messages (%d octets)", n, size))
	return nil
}
