package imap

import (
	"context"
	"crypto/tls"
	"errors"
	"strconv"
	"strings"

	"github.com/plumbnet/plumb/internal/lifecycle"
	"github.com/plumbnet/plumb/sasl"
)

// command is one verb of the table: its handler, the states it is
// allowed in, and when the session may report mailbox changes after it.
type command struct {
	fn     func(c *conn, r *request) error
	states state
	// noExpunge: the command's non-UID form must not be followed by
	// EXPUNGE responses (RFC 9051 section 7.5.1: FETCH, STORE, SEARCH).
	noExpunge bool
	// noSync: the command reports changes itself (or ends the selection).
	noSync bool
}

var commands map[string]command

// uidCommands are the commands UID may prefix.
var uidCommands = map[string]bool{"FETCH": true, "STORE": true, "SEARCH": true, "COPY": true, "MOVE": true, "EXPUNGE": true}

func init() {
	commands = map[string]command{
		"CAPABILITY":   {fn: cmdCapability, states: stateAny},
		"NOOP":         {fn: cmdNoop, states: stateAny, noSync: true},
		"LOGOUT":       {fn: cmdLogout, states: stateAny, noSync: true},
		"ID":           {fn: cmdID, states: stateAny},
		"STARTTLS":     {fn: cmdStartTLS, states: stateNotAuth},
		"LOGIN":        {fn: cmdLogin, states: stateNotAuth},
		"AUTHENTICATE": {fn: cmdAuthenticate, states: stateNotAuth},
		"ENABLE":       {fn: cmdEnable, states: stateLogged},
		"NAMESPACE":    {fn: cmdNamespace, states: stateLogged},
		"SELECT":       {fn: cmdSelect, states: stateLogged, noSync: true},
		"EXAMINE":      {fn: cmdSelect, states: stateLogged, noSync: true},
		"CREATE":       {fn: cmdCreate, states: stateLogged},
		"DELETE":       {fn: cmdDelete, states: stateLogged},
		"RENAME":       {fn: cmdRename, states: stateLogged},
		"SUBSCRIBE":    {fn: cmdSubscribe, states: stateLogged},
		"UNSUBSCRIBE":  {fn: cmdSubscribe, states: stateLogged},
		"LIST":         {fn: cmdList, states: stateLogged},
		"LSUB":         {fn: cmdList, states: stateLogged},
		"STATUS":       {fn: cmdStatus, states: stateLogged},
		"APPEND":       {fn: cmdAppend, states: stateLogged},
		"GETQUOTAROOT": {fn: cmdGetQuotaRoot, states: stateLogged},
		"GETQUOTA":     {fn: cmdGetQuota, states: stateLogged},
		"CHECK":        {fn: cmdNoop, states: stateSelected, noSync: true},
		"CLOSE":        {fn: cmdClose, states: stateSelected, noSync: true},
		"UNSELECT":     {fn: cmdClose, states: stateSelected, noSync: true},
		"EXPUNGE":      {fn: cmdExpunge, states: stateSelected},
		"SEARCH":       {fn: cmdSearch, states: stateSelected, noExpunge: true},
		"FETCH":        {fn: cmdFetch, states: stateSelected, noExpunge: true},
		"STORE":        {fn: cmdStore, states: stateSelected, noExpunge: true},
		"COPY":         {fn: cmdCopy, states: stateSelected},
		"MOVE":         {fn: cmdCopy, states: stateSelected},
		"IDLE":         {fn: cmdIdle, states: stateSelected | stateAuth, noSync: true},
	}
}

// plaintextOK reports whether a password may be received: under TLS,
// from loopback, or with InsecureAuth.
func (c *conn) plaintextOK() bool {
	return c.tls != nil || c.s.InsecureAuth || sasl.IsLoopback(c.w.Conn().RemoteAddr())
}

func (c *conn) capabilities() string {
	caps := []string{"IMAP4rev1", "IMAP4rev2", "LITERAL+", "SASL-IR", "ID", "ENABLE", "IDLE"}
	if c.state == stateNotAuth {
		if c.tls == nil && c.s.TLSConfig != nil {
			caps = append(caps, "STARTTLS")
		}
		if c.plaintextOK() {
			for _, m := range sasl.Mechanisms() {
				caps = append(caps, "AUTH="+m)
			}
		} else {
			caps = append(caps, "LOGINDISABLED")
		}
		return strings.Join(caps, " ")
	}
	caps = append(caps, "NAMESPACE", "UNSELECT", "UIDPLUS", "MOVE", "CHILDREN", "SPECIAL-USE",
		"LIST-EXTENDED", "LIST-STATUS", "ESEARCH", "SEARCHRES", "STATUS=SIZE", "UTF8=ACCEPT", "CONDSTORE", "QRESYNC",
		"APPENDLIMIT="+strconv.FormatInt(lifecycle.OrDefault(c.s.MaxLiteralSize, DefaultMaxLiteralSize), 10))
	if _, ok := c.sess.(QuotaSession); ok {
		caps = append(caps, "QUOTA", "QUOTA=RES-STORAGE")
	}
	return strings.Join(caps, " ")
}

func cmdCapability(c *conn, r *request) error {
	if !r.p.end() {
		return r.p.Err()
	}
	c.untagged("CAPABILITY " + c.capabilities())
	return nil
}

func cmdNoop(c *conn, r *request) error {
	if !r.p.end() {
		return r.p.Err()
	}
	if c.sel != nil {
		if err := c.sync(true, true); err != nil {
			return err
		}
		c.highestCode()
	}
	return nil
}

// highestCode puts the mailbox's HIGHESTMODSEQ on the tagged OK with
// CONDSTORE on, as Dovecot does after NOOP, EXPUNGE and MOVE, so that a
// client need not ask STATUS to know where its cache stands.
func (c *conn) highestCode() {
	if !c.condstore || c.sel == nil || c.code != "" {
		return
	}
	if st, err := c.sel.mbox.Status(c.ctx); err == nil && st.HighestModSeq > 0 {
		c.code = "HIGHESTMODSEQ " + strconv.FormatUint(st.HighestModSeq, 10)
	}
}

func cmdLogout(c *conn, r *request) error {
	if !r.p.end() {
		return r.p.Err()
	}
	c.untagged("BYE Logging out")
	c.state = stateLogout
	return nil
}

func cmdID(c *conn, r *request) error {
	p := r.p
	if !p.sp() {
		return p.Err()
	}
	if !p.maybe("NIL") {
		n := 0
		if !p.list(true, func() bool {
			var s string
			if n++; n > 60 {
				return p.failf("too many ID fields")
			}
			if p.maybe("NIL") {
				return true
			}
			return p.astring(&s)
		}) {
			return p.Err()
		}
	}
	if !p.end() {
		return p.Err()
	}
	c.untagged(`ID ("name" "plumb")`)
	return nil
}

func cmdStartTLS(c *conn, r *request) error {
	if !r.p.end() {
		return r.p.Err()
	}
	if c.s.TLSConfig == nil || c.tls != nil {
		return &Error{Type: "BAD", Text: "STARTTLS not available"}
	}
	c.tagged(r.tag, "OK Begin TLS negotiation now")
	if err := c.bw.Flush(); err != nil {
		return connError{err}
	}
	tc := tls.Server(c.w.Conn(), c.s.TLSConfig)
	c.w.SetConn(tc)
	// The client may stall its handshake: a Shutdown ends it as it
	// ends a wait for a command.
	c.setWaiting(true)
	err := c.handshake(tc)
	c.setWaiting(false)
	if err != nil {
		return connError{err}
	}
	// Whatever came in clear behind STARTTLS is dropped with the old buffer.
	c.resetReader()
	return errHandled
}

// errHandled: the handler wrote the tagged reply itself.
var errHandled = errors.New("imap: replied")

func cmdLogin(c *conn, r *request) error {
	p := r.p
	var user, pass string
	if !p.sp() || !p.astring(&user) || !p.sp() || !p.astring(&pass) || !p.end() {
		return p.Err()
	}
	if !c.plaintextOK() {
		return &Error{Code: "PRIVACYREQUIRED", Text: "LOGIN is disabled without TLS; use STARTTLS"}
	}
	sess, err := c.s.Backend.Login(c.ctx, c.info(), user, pass)
	return c.loggedIn(user, sess, err)
}

func (c *conn) loggedIn(user string, sess Session, err error) error {
	if err != nil {
		if errors.Is(err, ErrAuthFailed) {
			c.authFails++
			c.s.logger().Info("imap: login failed", "user", user, "remote", c.remote())
			if c.authFails >= lifecycle.OrDefault(c.s.MaxAuthFailures, DefaultMaxAuthFailures) {
				c.untagged("BYE Too many failed logins")
				c.state = stateLogout
			}
		}
		return err
	}
	c.user, c.sess, c.state = user, sess, stateAuth
	c.code = "CAPABILITY " + c.capabilities()
	return nil
}

func cmdAuthenticate(c *conn, r *request) error {
	p := r.p
	var mech, ir string
	if !p.sp() || !p.atom(&mech) {
		return p.Err()
	}
	hasIR := p.maybeSP() && p.atom(&ir)
	if !p.end() {
		return p.Err()
	}
	if !c.plaintextOK() {
		return &Error{Code: "PRIVACYREQUIRED", Text: "Authentication is disabled without TLS; use STARTTLS"}
	}
	var (
		sess Session
		user string
	)
	srv, err := sasl.NewServer(strings.ToUpper(mech), func(ctx context.Context, identity, username, password string) error {
		user = username
		s, err := c.s.Backend.Login(ctx, c.info(), username, password)
		sess = s
		return err
	})
	if err != nil {
		return &Error{Text: "Unsupported SASL mechanism"}
	}
	var irb []byte
	if hasIR {
		if irb, err = sasl.DecodeInitialResponse(ir); err != nil {
			return &Error{Type: "BAD", Text: "Malformed initial response"}
		}
	}
	err = sasl.Run(c.ctx, srv, irb, func(chal string) error {
		c.bw.WriteString("+ " + chal + "\r\n")
		return c.bw.Flush()
	}, func() (string, error) {
		line, err := c.waitLine()
		if err != nil {
			return "", connError{err}
		}
		return line, nil
	})
	var ce connError
	switch {
	case errors.As(err, &ce):
		return err
	case errors.Is(err, sasl.ErrCanceled):
		return &Error{Type: "BAD", Text: "Authentication canceled"}
	case errors.Is(err, sasl.ErrMalformed), errors.Is(err, sasl.ErrTooLong):
		return &Error{Type: "BAD", Text: "Malformed SASL response"}
	case errors.Is(err, sasl.ErrIdentityRefused):
		return &Error{Code: "AUTHORIZATIONFAILED", Text: "Authorization identity refused"}
	}
	return c.loggedIn(user, sess, err)
}

func cmdEnable(c *conn, r *request) error {
	p := r.p
	var enabled []string
	for p.maybeSP() {
		var a string
		if !p.atom(&a) {
			return p.Err()
		}
		switch strings.ToUpper(a) {
		case "IMAP4REV2":
			if !c.rev2 {
				c.rev2, c.utf8, c.enc.utf8 = true, true, true
				enabled = append(enabled, "IMAP4rev2")
			}
		case "QRESYNC":
			if !c.qresync {
				c.qresync, c.condstore = true, true
				enabled = append(enabled, "QRESYNC")
			}
		case "CONDSTORE":
			if !c.condstore {
				c.condstore = true
				enabled = append(enabled, "CONDSTORE")
			}
		case "UTF8=ACCEPT":
			if !c.utf8 {
				c.utf8, c.enc.utf8 = true, true
				enabled = append(enabled, "UTF8=ACCEPT")
			}
		}
	}
	if !p.end() {
		return p.Err()
	}
	c.untagged(strings.TrimSpace("ENABLED " + strings.Join(enabled, " ")))
	return nil
}

func cmdNamespace(c *conn, r *request) error {
	if !r.p.end() {
		return r.p.Err()
	}
	c.untagged(`NAMESPACE (("" "/")) NIL NIL`)
	return nil
}
