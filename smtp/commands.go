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

// A command is one verb's entry in the dispatch table: what the
// session must have done first is data here, not an if in each handler.
type command struct {
	verb   string
	handle func(c *Conn, arg string)
	syntax string // for HELP verb
	// hello: EHLO or HELO must come first (503).
	hello bool
	// gated: refused before STARTTLS when Server.TLSRequired (530), and
	// before AUTH when Server.AuthRequired (530).
	gated bool
	// offered, if set, says whether this server offers the verb now;
	// when not, it is answered 502 and left out of HELP.
	offered func(c *Conn) bool
}

// commandList is the table in the order HELP lists it (RFC 5321 section
// 4.1.1.8); commands indexes it by verb. It is filled in init, as HELP
// itself reads it.
var (
	commandList []command
	commands    = map[string]*command{}
)

func init() {
	commandList = []command{
		{verb: "EHLO", handle: func(c *Conn, arg string) { c.handleHelo("EHLO", arg) }, syntax: "EHLO domain"},
		{verb: "HELO", handle: func(c *Conn, arg string) { c.handleHelo("HELO", arg) }, syntax: "HELO domain"},
		{verb: "STARTTLS", handle: (*Conn).handleStartTLS, syntax: "STARTTLS (RFC 3207)",
			offered: func(c *Conn) bool { return c.srv.TLSConfig != nil }},
		{verb: "AUTH", handle: (*Conn).handleAuth, syntax: "AUTH mechanism [initial-response] (RFC 4954)",
			offered: func(c *Conn) bool { return len(c.authMechanisms()) > 0 }},
		{verb: "MAIL", handle: (*Conn).handleMail, hello: true, gated: true,
			syntax: "MAIL FROM:<reverse-path> [SIZE=n] [BODY=7BIT|8BITMIME] [SMTPUTF8] [RET=FULL|HDRS] [ENVID=xtext] [AUTH=mailbox]"},
		{verb: "RCPT", handle: (*Conn).handleRcpt, syntax: "RCPT TO:<forward-path> [NOTIFY=NEVER|SUCCESS,FAILURE,DELAY] [ORCPT=type;address]"},
		{verb: "DATA", handle: (*Conn).handleData, syntax: "DATA, then the message, ending with <CRLF>.<CRLF>"},
		{verb: "BDAT", handle: (*Conn).handleBdat, syntax: "BDAT size [LAST], then size octets of the message (RFC 3030)",
			offered: func(c *Conn) bool { return !c.srv.DisableChunking }},
		{verb: "RSET", handle: func(c *Conn, _ string) { c.resetTx(); c.reply(250, EnhancedCode{2, 0, 0}, "OK") }, syntax: "RSET"},
		{verb: "NOOP", handle: func(c *Conn, _ string) { c.reply(250, EnhancedCode{2, 0, 0}, "OK") }, syntax: "NOOP [string]"},
		{verb: "VRFY", handle: (*Conn).handleVrfy, syntax: "VRFY mailbox"},
		{verb: "EXPN", offered: func(*Conn) bool { return false }},
		{verb: "HELP", handle: (*Conn).handleHelp, syntax: "HELP [command]"},
		{verb: "QUIT", handle: func(c *Conn, _ string) {
			c.reply(221, EnhancedCode{2, 0, 0}, c.srv.hostname()+" closing connection")
			c.quitting = true
		}, syntax: "QUIT"},
	}
	for i := range commandList {
		commands[commandList[i].verb] = &commandList[i]
	}
}

func (c *Conn) handle(line string) {
	verb, arg, err := parseCommand(line)
	if err != nil {
		c.reply(500, EnhancedCode{5, 5, 2}, err.Error())
		return
	}
	cmd, ok := commands[verb]
	switch {
	case !ok && forbiddenVerbs[verb]:
		c.reply(521, EnhancedCode{5, 7, 0}, "This is an SMTP server, closing connection")
		c.quitting = true
	case !ok:
		c.reply(500, EnhancedCode{5, 5, 2}, "Command unrecognized")
	case cmd.offered != nil && !cmd.offered(c):
		c.reply(502, EnhancedCode{5, 5, 1}, verb+" not available")
	case cmd.hello && c.helo == "":
		c.reply(503, EnhancedCode{5, 5, 1}, "Send EHLO first")
	case cmd.gated && c.tlsMissing():
		c.reply(530, EnhancedCode{5, 7, 0}, "Must issue a STARTTLS command first")
	case cmd.gated && c.srv.AuthRequired && !c.authed:
		c.reply(ErrAuthRequired.Code, ErrAuthRequired.EnhancedCode, ErrAuthRequired.Msg)
	case c.fault(verb): // Server.Faults answered in the step's place
	default:
		cmd.handle(c, arg)
	}
}

// handleHelp lists the commands offered now, or gives one's syntax.
func (c *Conn) handleHelp(arg string) {
	if arg != "" {
		cmd, ok := commands[strings.ToUpper(arg)]
		if !ok || cmd.offered != nil && !cmd.offered(c) {
			c.reply(504, EnhancedCode{5, 5, 1}, "HELP: no such command")
			return
		}
		c.reply(214, EnhancedCode{2, 0, 0}, cmd.syntax)
		return
	}
	var verbs []string
	for _, cmd := range commandList {
		if cmd.offered == nil || cmd.offered(c) {
			verbs = append(verbs, cmd.verb)
		}
	}
	c.reply(214, EnhancedCode{2, 0, 0}, "Commands: "+strings.Join(verbs, " ")+"\nHELP command gives its syntax; see RFC 5321")
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
	if c.tx != nil {
		c.reply(503, EnhancedCode{5, 5, 1}, "Nested MAIL command")
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
	case c.tls != nil:
		c.reply(503, EnhancedCode{5, 5, 1}, "Already using TLS")
		return
	case arg != "":
		c.reply(501, EnhancedCode{5, 5, 4}, "STARTTLS takes no argument")
		return
	}
	c.reply(220, EnhancedCode{2, 0, 0}, "Ready to start TLS")
	c.nc.SetWriteDeadline(c.srv.writeDeadline())
	if err := c.bw.Flush(); err != nil {
		c.quitting = true
		return
	}
	tc := tls.Server(c.nc, c.srv.TLSConfig)
	tc.SetDeadline(c.srv.writeDeadline())
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
	c.lr.Reset(c.br)
	c.bw = bufio.NewWriterSize(tc, 4096)
	c.tls = &cs
	c.resetTx()
	c.helo, c.esmtp, c.authed = "", false, false
	c.session.Logout()
	session, err := c.srv.Backend.NewSession(c.ctx, c)
	if err != nil {
		c.session = nil
		c.replyErr(err, "new session")
		c.quitting = true
		return
	}
	c.session = session
}

func (c *Conn) String() string { return fmt.Sprintf("smtp conn %s", c.id) }
