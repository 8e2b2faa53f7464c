package nntp

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

// saslLineMax is the longest SASL response line.
var saslLineMax = (sasl.MaxResponseLen+2)/3*4 + 2

func (c *conn) mechanisms() []string { return sasl.Mechanisms() }

func (c *conn) cmdAuthinfo(cmd command) error {
	if len(cmd.args) < 1 {
		return c.syntax(cmd)
	}
	if c.user != "" {
		c.reply("502 Already authenticated")
		return nil
	}
	sub := strings.ToUpper(cmd.args[0])
	if !c.plaintextOK() {
		c.reply("483 Encryption required: use STARTTLS first")
		return nil
	}
	switch sub {
	case "USER":
		if len(cmd.args) != 2 {
			return c.syntax(cmd)
		}
		c.pending = cmd.args[1]
		c.reply("381 Password required")
	case "PASS":
		if len(cmd.args) < 2 {
			return c.syntax(cmd)
		}
		if c.pending == "" {
			c.reply("482 Authentication commands issued out of sequence")
			return nil
		}
		user := c.pending
		c.pending = ""
		// A password may hold spaces; the parser split on them.
		pass := strings.Join(cmd.args[1:], " ")
		c.loggedIn(user, c.s.Backend.Authenticate(c.ctx, c.info(), user, pass))
	case "SASL":
		return c.authSASL(cmd)
	default:
		return c.syntax(cmd)
	}
	return nil
}

func (c *conn) authSASL(cmd command) error {
	if len(cmd.args) < 2 || len(cmd.args) > 3 {
		return c.syntax(cmd)
	}
	var user string
	srv, err := sasl.NewServer(cmd.args[1], func(ctx context.Context, identity, username, password string) error {
		user = username
		return c.s.Backend.Authenticate(ctx, c.info(), username, password)
	})
	if err != nil {
		c.reply("503 Mechanism not recognized")
		return nil
	}
	var ir []byte
	if len(cmd.args) == 3 {
		if ir, err = sasl.DecodeInitialResponse(cmd.args[2]); err != nil {
			c.reply("504 Invalid base64 initial response")
			return nil
		}
	}
	var ioErr error
	err = sasl.Run(c.ctx, srv, ir, func(chal string) error {
		c.reply("383 " + chal)
		ioErr = c.flush()
		return ioErr
	}, func() (string, error) {
		maxLine := c.lr.MaxLine
		c.lr.MaxLine = saslLineMax
		defer func() { c.lr.MaxLine = maxLine }()
		line, err := c.waitLine()
		if errors.Is(err, wire.ErrLineTooLong) {
			if derr := c.lr.DiscardLine(); derr != nil {
				ioErr = derr
			}
		} else if err != nil {
			ioErr = err
		}
		return line, err
	})
	switch {
	case errors.Is(ioErr, errShutdown):
		c.reply("400 Server shutting down")
		c.quit = true
	case ioErr != nil:
		return ioErr
	case err == nil:
		c.loggedIn(user, nil)
	case errors.Is(err, sasl.ErrCanceled):
		c.reply("481 Authentication canceled")
	case errors.Is(err, wire.ErrLineTooLong), errors.Is(err, sasl.ErrMalformed), errors.Is(err, sasl.ErrTooLong),
		errors.Is(err, sasl.ErrIdentityRefused), errors.Is(err, sasl.ErrUnexpected):
		c.authFails++
		c.reply("504 Malformed SASL response")
		c.closeAfterAuthFailures()
	case c.ctx.Err() != nil:
		return err
	default:
		c.loggedIn(user, err)
	}
	return nil
}

// loggedIn answers a login attempt.
func (c *conn) loggedIn(user string, err error) {
	if err != nil {
		if errors.Is(err, ErrAuthFailed) {
			c.authFails++
		}
		c.backendError(err, "403 Temporary authentication failure", "login")
		c.closeAfterAuthFailures()
		return
	}
	c.user = user
	c.reply("281 Authentication accepted")
}

func (c *conn) closeAfterAuthFailures() {
	if c.authFails >= lifecycle.OrDefault(c.s.MaxAuthFailures, DefaultMaxAuthFailures) {
		c.reply("400 Too many authentication failures, closing connection")
		c.quit = true
	}
}

func (c *conn) cmdStartTLS(cmd command) error {
	switch {
	case len(cmd.args) != 0:
		return c.syntax(cmd)
	case c.s.TLSConfig == nil || c.tls != nil || c.user != "" || c.compress:
		c.reply("502 STARTTLS not available")
		return nil
	}
	c.reply("382 Continue with TLS negotiation")
	if err := c.flush(); err != nil {
		return err
	}
	if c.br.Buffered() > 0 {
		return errors.New("nntp: data after STARTTLS before the TLS handshake")
	}
	tc := tls.Server(c.nc(), c.s.TLSConfig)
	c.w.SetConn(tc) // c.rw reads and writes through it from now on
	if err := c.handshake(tc); err != nil {
		return fmt.Errorf("nntp: STARTTLS handshake: %w", err)
	}
	c.pending, c.group, c.cur = "", "", 0
	return nil
}
