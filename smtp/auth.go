package smtp

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/plumbnet/plumb/internal/wire"
	"github.com/plumbnet/plumb/sasl"
)

func (c *Conn) authMechanisms() []string {
	if as, ok := c.session.(AuthSession); ok {
		return as.AuthMechanisms()
	}
	return nil
}

// authAllowed reports whether AUTH may be used now: over TLS, from
// loopback, or when the server allows passwords in clear.
func (c *Conn) authAllowed() bool {
	return c.tls != nil || c.Loopback() || c.srv.AllowInsecureAuth
}

// handleAuth runs an RFC 4954 exchange: AUTH mechanism [initial-response].
func (c *Conn) handleAuth(arg string) {
	as, ok := c.session.(AuthSession)
	switch {
	case !ok: // the table offers AUTH only to an AuthSession
		c.reply(502, EnhancedCode{5, 5, 1}, "AUTH not available")
		return
	case c.helo == "" || !c.esmtp:
		c.reply(503, EnhancedCode{5, 5, 1}, "Send EHLO first")
		return
	case c.authed:
		c.reply(503, EnhancedCode{5, 5, 1}, "Already authenticated")
		return
	case c.tx != nil:
		c.reply(503, EnhancedCode{5, 5, 1}, "AUTH not allowed during a mail transaction")
		return
	case c.tlsMissing() || !c.authAllowed():
		c.reply(538, EnhancedCode{5, 7, 11}, "Encryption required for requested authentication mechanism")
		return
	}
	mech, irText, hasIR := strings.Cut(arg, " ")
	mech = strings.ToUpper(mech)
	if !slices.Contains(as.AuthMechanisms(), mech) {
		c.reply(504, EnhancedCode{5, 5, 4}, "Unrecognized authentication type")
		return
	}
	var ir []byte
	if hasIR {
		var err error
		if ir, err = sasl.DecodeInitialResponse(irText); err != nil {
			c.reply(501, EnhancedCode{5, 5, 2}, "Bad base64 in initial response")
			return
		}
	}
	ctx, cancel := c.backendCtx()
	defer cancel()
	srv, err := as.Auth(ctx, mech)
	if err != nil {
		c.replyErr(err, "auth")
		return
	}
	var ioErr error
	send := func(challenge string) error {
		c.reply(334, NoEnhancedCode, challenge)
		return nil
	}
	recv := func() (string, error) {
		line, err := c.readCommand()
		if err != nil && !errors.Is(err, wire.ErrLineTooLong) {
			ioErr = err
		}
		return line, err
	}
	err = sasl.Run(ctx, srv, ir, send, recv)
	var se *Error
	switch {
	case err == nil:
		c.authed = true
		c.reply(235, EnhancedCode{2, 7, 0}, "Authentication successful")
	case ioErr != nil:
		c.replyReadErr(ioErr)
		c.quitting = true
	case errors.Is(err, context.Canceled):
		c.quitting = true
	case errors.Is(err, wire.ErrLineTooLong):
		c.reply(500, EnhancedCode{5, 5, 6}, "Line too long")
	case errors.Is(err, sasl.ErrCanceled):
		c.reply(501, EnhancedCode{5, 0, 0}, "Authentication cancelled")
	case errors.Is(err, sasl.ErrMalformed), errors.Is(err, sasl.ErrTooLong), errors.Is(err, sasl.ErrIdentityRefused):
		c.reply(501, EnhancedCode{5, 5, 2}, "Malformed authentication response")
	case errors.As(err, &se):
		c.replyErr(err, "auth")
	default:
		c.log.Info("smtp: authentication failed", "mech", mech)
		c.reply(ErrAuthFailed.Code, ErrAuthFailed.EnhancedCode, ErrAuthFailed.Msg)
	}
}
