package pop3

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"

	"github.com/plumbnet/plumb/internal/lifecycle"
	"github.com/plumbnet/plumb/internal/wire"
	"github.com/plumbnet/plumb/sasl"
)

// saslLineMax is the longest SASL response line: a MaxResponseLen
// response in base64 and CRLF.
var saslLineMax = (sasl.MaxResponseLen+2)/3*4 + 2

const refusePlaintext = "-ERR [AUTH] Plaintext authentication disallowed without TLS; use STLS first"

// plaintextOK reports whether a password may be received here: only
// under TLS, which a *tls.Conn from the listener or STLS gives, or
// from loopback.
func (c *conn) plaintextOK() bool {
	return c.tls != nil || c.s.InsecureAuth || sasl.IsLoopback(c.w.Conn().RemoteAddr())
}

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
		return c.readSASL(&ioErr)
	})
	switch {
	case errors.Is(ioErr, errShutdown):
		c.reply("-ERR [SYS/TEMP] Server shutting down")
		c.quit = true
	case ioErr != nil:
		return ioErr
	case err == nil:
		c.loggedIn(user, drop, nil)
	case errors.Is(err, sasl.ErrCanceled):
		c.reply("-ERR Authentication canceled")
	case errors.Is(err, wire.ErrLineTooLong), errors.Is(err, sasl.ErrMalformed), errors.Is(err, sasl.ErrTooLong),
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

// readSASL reads one SASL response line, which may be longer than a
// command line; an I/O failure, or errShutdown when Shutdown cut the
// wait, is kept in ioErr.
func (c *conn) readSASL(ioErr *error) (string, error) {
	maxLine := c.lr.MaxLine
	c.lr.MaxLine = saslLineMax
	defer func() { c.lr.MaxLine = maxLine }()
	line, err := c.waitLine()
	if errors.Is(err, errShutdown) {
		*ioErr = err
	} else if errors.Is(err, wire.ErrLineTooLong) {
		if derr := c.lr.DiscardLine(); derr != nil {
			*ioErr = derr
		}
	} else if err != nil {
		*ioErr = err
	}
	return line, err
}

// loggedIn answers a login attempt and enters TRANSACTION on success.
func (c *conn) loggedIn(user string, drop Maildrop, err error) {
	if err != nil {
		if errors.Is(err, ErrAuthFailed) {
			c.authFails++
		}
		c.backendError(err, "-ERR [SYS/TEMP] Temporary failure, try again later", "login", "login", user)
		if errors.Is(err, ErrAuthFailed) {
			c.closeAfterAuthFailures()
		}
		return
	}
	msgs, err := drop.Messages(c.ctx)
	if err != nil {
		drop.Close()
		c.backendError(err, "-ERR [SYS/TEMP] Temporary failure, try again later", "listing maildrop", "login", user)
		return
	}
	c.drop, c.msgs, c.deleted = drop, msgs, make([]bool, len(msgs))
	c.user, c.state = user, stateTransaction
	n, size := c.totals()
	c.reply(fmt.Sprintf("+OK Logged in, %d messages (%d octets)", n, size))
}

func (c *conn) closeAfterAuthFailures() {
	if c.authFails >= lifecycle.OrDefault(c.s.MaxAuthFailures, DefaultMaxAuthFailures) {
		c.reply("-ERR [AUTH] Too many authentication failures, closing connection")
		c.quit = true
	}
}

func (c *conn) cmdSTLS(cmd command) error {
	if c.s.TLSConfig == nil || c.tls != nil {
		c.reply("-ERR STLS not available")
		return nil
	}
	c.reply("+OK Begin TLS negotiation")
	if err := c.bw.Flush(); err != nil {
		return err
	}
	if c.br.Buffered() > 0 {
		// Commands pipelined after STLS were sent in the clear: refuse
		// to carry them into the TLS session (plaintext injection).
		return errors.New("pop3: data after STLS before the TLS handshake")
	}
	tc := tls.Server(c.w.Conn(), c.s.TLSConfig)
	c.w.SetConn(tc)
	if err := c.handshake(tc); err != nil {
		return fmt.Errorf("pop3: STLS handshake: %w", err)
	}
	c.br.Reset(tc)
	c.bw.Reset(c.w)
	c.user = ""
	return nil
}
