package smtp

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// forbiddenVerbs are HTTP methods: a browser or proxy talking to the
// SMTP port (a cross-protocol attack) is cut off at once, as Postfix does.
var forbiddenVerbs = map[string]bool{"GET": true, "POST": true, "HEAD": true, "PUT": true, "CONNECT": true}

func (c *Conn) handle(line string) {
	verb, arg, err := parseCommand(line)
	if err != nil {
		c.reply(500, EnhancedCode{5, 5, 2}, err.Error())
		return
	}
	switch verb {
	case "EHLO", "HELO":
		c.handleHelo(verb, arg)
	case "MAIL":
		c.handleMail(arg)
	case "RCPT":
		c.handleRcpt(arg)
	case "DATA":
		c.handleData(arg)
	case "BDAT":
		c.handleBdat(arg)
	case "RSET":
		c.resetTx()
		c.reply(250, EnhancedCode{2, 0, 0}, "OK")
	case "NOOP":
		c.reply(250, EnhancedCode{2, 0, 0}, "OK")
	case "QUIT":
		c.reply(221, EnhancedCode{2, 0, 0}, c.srv.hostname()+" closing connection")
		c.quitting = true
	case "VRFY":
		c.handleVrfy(arg)
	case "EXPN":
		c.reply(502, EnhancedCode{5, 5, 1}, "EXPN not available")
	case "HELP":
		c.reply(214, EnhancedCode{2, 0, 0}, "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH\nSee RFC 5321")
	case "STARTTLS":
		c.handleStartTLS(arg)
	case "AUTH":
		c.handleAuth(arg)
	default:
		if forbiddenVerbs[verb] {
			c.reply(521, EnhancedCode{5, 7, 0}, "This is an SMTP server, closing connection")
			c.quitting = true
			return
		}
		c.reply(500, EnhancedCode{5, 5, 2}, "Command unrecognized")
	}
}

func (c *Conn) handleHelo(verb, arg string) {
	if arg == "" || strings.ContainsAny(arg, " \t") || !utf8.ValidString(arg) || len(arg) > 255 {
		c.reply(501, EnhancedCode{5, 5, 4}, "Syntax: "+verb+" hostname")
		return
	}
	c.resetTx()
	c.helo = arg
	c.esmtp = verb == "EHLO"
	if !c.esmtp {
		c.reply(250, NoEnhancedCode, c.srv.hostname()+" greets "+arg)
		return
	}
	lines := []string{
		c.srv.hostname() + " greets " + arg,
		"PIPELINING",
		"SIZE " + strconv.FormatInt(c.srv.maxMessage(), 10),
		"8BITMIME",
		"SMTPUTF8",
		"ENHANCEDSTATUSCODES",
		"DSN",
	}
	if !c.srv.DisableChunking {
		lines = append(lines, "CHUNKING")
	}
	if c.srv.TLSConfig != nil && c.tls == nil {
		lines = append(lines, "STARTTLS")
	}
	if mechs := c.authMechanisms(); len(mechs) > 0 && c.authAllowed() && !c.authed {
		lines = append(lines, "AUTH "+strings.Join(mechs, " "))
	}
	lines = append(lines, "HELP")
	c.reply(250, NoEnhancedCode, strings.Join(lines, "\n"))
}

// tlsMissing reports whether the server requires TLS of this client first.
func (c *Conn) tlsMissing() bool {
	return c.srv.TLSRequired && c.tls == nil && !c.Loopback()
}

func (c *Conn) handleMail(arg string) {
	switch {
	case c.helo == "":
		c.reply(503, EnhancedCode{5, 5, 1}, "Send EHLO first")
		return
	case c.tx != nil:
		c.reply(503, EnhancedCode{5, 5, 1}, "Nested MAIL command")
		return
	case c.tlsMissing():
		c.reply(530, EnhancedCode{5, 7, 0}, "Must issue a STARTTLS command first")
		return
	case c.srv.AuthRequired && !c.authed:
		c.reply(ErrAuthRequired.Code, ErrAuthRequired.EnhancedCode, ErrAuthRequired.Message)
		return
	}
	from, params, err := parsePathArg(arg, "FROM:", true, true)
	if err != nil {
		c.reply(501, EnhancedCode{5, 1, 7}, err.Error())
		return
	}
	if len(params) > 0 && !c.esmtp {
		c.reply(555, EnhancedCode{5, 5, 4}, "Parameters need EHLO")
		return
	}
	var opts MailOptions
	for _, p := range params {
		switch p.Key {
		case "SIZE":
			n, err := strconv.ParseInt(p.Value, 10, 64)
			if err != nil || n < 0 {
				c.reply(501, EnhancedCode{5, 5, 4}, "Bad SIZE value")
				return
			}
			if n > c.srv.maxMessage() {
				c.reply(552, EnhancedCode{5, 3, 4}, "Message size exceeds fixed limit")
				return
			}
			opts.Size = n
		case "BODY":
			switch b := BodyType(strings.ToUpper(p.Value)); b {
			case Body7Bit, Body8BitMIME:
				opts.Body = b
			default:
				c.reply(555, EnhancedCode{5, 5, 4}, "Unsupported BODY value")
				return
			}
		case "SMTPUTF8":
			if p.HasValue {
				c.reply(501, EnhancedCode{5, 5, 4}, "SMTPUTF8 takes no value")
				return
			}
			opts.UTF8 = true
		case "RET":
			v := strings.ToUpper(p.Value)
			if v != "FULL" && v != "HDRS" {
				c.reply(501, EnhancedCode{5, 5, 4}, "RET must be FULL or HDRS")
				return
			}
			opts.Return = v
		case "ENVID":
			if checkXtext(p.Value) != nil || len(p.Value) > 100 {
				c.reply(501, EnhancedCode{5, 5, 4}, "Bad ENVID value")
				return
			}
			opts.EnvelopeID = p.Value
		case "AUTH":
			if p.Value != "<>" && checkXtext(p.Value) != nil {
				c.reply(501, EnhancedCode{5, 5, 4}, "Bad AUTH value")
				return
			}
			opts.Auth = p.Value
		default:
			c.reply(555, EnhancedCode{5, 5, 4}, "Unsupported parameter "+p.Key)
			return
		}
	}
	if !opts.UTF8 && !isASCII(from) {
		c.reply(553, EnhancedCode{5, 6, 7}, "Non-ASCII address needs SMTPUTF8")
		return
	}
	ctx, cancel := c.backendCtx()
	defer cancel()
	if err := c.session.Mail(ctx, from, &opts); err != nil {
		c.replyErr(err, "mail")
		return
	}
	c.tx = &transaction{from: from, opts: opts}
	c.reply(250, EnhancedCode{2, 1, 0}, "Sender OK")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func (c *Conn) handleRcpt(arg string) {
	switch {
	case c.tx == nil:
		c.reply(503, EnhancedCode{5, 5, 1}, "Need MAIL before RCPT")
		return
	case c.tx.bdat != nil:
		c.reply(503, EnhancedCode{5, 5, 1}, "RCPT not allowed during BDAT")
		return
	case len(c.tx.rcpts) >= c.srv.maxRcpt():
		c.reply(452, EnhancedCode{4, 5, 3}, "Too many recipients")
		return
	}
	to, params, err := parsePathArg(arg, "TO:", false, true)
	if err != nil {
		c.reply(501, EnhancedCode{5, 1, 3}, err.Error())
		return
	}
	var opts RcptOptions
	for _, p := range params {
		switch p.Key {
		case "NOTIFY":
			for _, v := range strings.Split(strings.ToUpper(p.Value), ",") {
				switch v {
				case "NEVER", "SUCCESS", "FAILURE", "DELAY":
					opts.Notify = append(opts.Notify, v)
				default:
					c.reply(501, EnhancedCode{5, 5, 4}, "Bad NOTIFY value")
					return
				}
			}
		case "ORCPT":
			if !strings.Contains(p.Value, ";") {
				c.reply(501, EnhancedCode{5, 5, 4}, "Bad ORCPT value")
				return
			}
			opts.OriginalRcpt = p.Value
		default:
			c.reply(555, EnhancedCode{5, 5, 4}, "Unsupported parameter "+p.Key)
			return
		}
	}
	if !c.tx.opts.UTF8 && !isASCII(to) {
		c.reply(553, EnhancedCode{5, 6, 7}, "Non-ASCII address needs SMTPUTF8")
		return
	}
	ctx, cancel := c.backendCtx()
	defer cancel()
	if err := c.session.Rcpt(ctx, to, &opts); err != nil {
		c.replyErr(err, "rcpt")
		return
	}
	c.tx.rcpts = append(c.tx.rcpts, to)
	c.reply(250, EnhancedCode{2, 1, 5}, "Recipient OK")
}

// readyForData checks that a message may follow, replying if not.
func (c *Conn) readyForData() bool {
	switch {
	case c.tx == nil:
		c.reply(503, EnhancedCode{5, 5, 1}, "Need MAIL and RCPT first")
		return false
	case len(c.tx.rcpts) == 0:
		c.reply(554, EnhancedCode{5, 5, 1}, "No valid recipients")
		return false
	}
	return true
}

func (c *Conn) handleVrfy(arg string) {
	vs, ok := c.session.(VerifySession)
	if !c.srv.EnableVRFY || !ok {
		c.reply(252, EnhancedCode{2, 5, 2}, "Cannot VRFY user, but will accept message and attempt delivery")
		return
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(arg, "<"), ">")
	if addr == "" {
		c.reply(501, EnhancedCode{5, 5, 4}, "Syntax: VRFY address")
		return
	}
	ctx, cancel := c.backendCtx()
	defer cancel()
	mbox, err := vs.Verify(ctx, addr)
	if err != nil {
		c.replyErr(err, "vrfy")
		return
	}
	c.reply(250, EnhancedCode{2, 1, 5}, "<"+mbox+">")
}

func (c *Conn) handleStartTLS(arg string) {
	switch {
	case c.srv.TLSConfig == nil:
		c.reply(502, EnhancedCode{5, 5, 1}, "STARTTLS not available")
		return
	case c.tls != nil:
		c.reply(503, EnhancedCode{5, 5, 1}, "Already using TLS")
		return
	case arg != "":
		c.reply(501, EnhancedCode{5, 5, 4}, "STARTTLS takes no argument")
		return
	}
	c.reply(220, EnhancedCode{2, 0, 0}, "Ready to start TLS")
	c.nc.SetWriteDeadline(time.Now().Add(c.srv.writeWait()))
	if err := c.bw.Flush(); err != nil {
		c.quitting = true
		return
	}
	tc := tls.Server(c.nc, c.srv.TLSConfig)
	tc.SetDeadline(time.Now().Add(c.srv.writeWait()))
	if err := tc.HandshakeContext(c.ctx); err != nil {
		c.log.Debug("smtp: TLS handshake failed", "err", err)
		c.quitting = true
		return
	}
	tc.SetDeadline(time.Time{})
	cs := tc.ConnectionState()
	// Anything the client pipelined after STARTTLS was sent in clear and
	// is dropped with the old reader (CVE-2011-0411); the session and
	// what EHLO said start over (RFC 3207 section 4.2).
	c.mu.Lock()
	c.nc = tc
	c.mu.Unlock()
	c.br = bufio.NewReaderSize(tc, 4096)
	c.bw = bufio.NewWriterSize(tc, 4096)
	c.tls = &cs
	c.resetTx()
	c.helo, c.esmtp, c.authed = "", false, false
	c.session.Logout()
	session, err := c.srv.Backend.NewSession(c)
	if err != nil {
		c.session = nil
		c.replyErr(err, "new session")
		c.quitting = true
		return
	}
	c.session = session
}

func (c *Conn) String() string { return fmt.Sprintf("smtp conn %s", c.id) }
