package nntp

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
	"github.com/plumbnet/plumb/internal/wire"
)

// errTooLarge and errBare are article-reading failures after which the
// session goes on.
var (
	errTooLarge = errors.New("nntp: article too large")
	errBare     = errors.New("nntp: bare CR or LF in article")
)

// readArticle reads a dot-terminated article strictly (CRLF.CRLF only)
// and bounded by MaxArticleSize. A policy failure is errTooLarge or
// errBare, with the article read to its end; an I/O failure ends the
// session.
func (c *conn) readArticle() ([]byte, error) {
	dr := wire.NewDotReader(c.br)
	dr.MaxSize = lifecycle.OrDefault(c.s.MaxArticleSize, DefaultMaxArticleSize)
	dr.Conn = c.w
	dr.Timeout = lifecycle.WireTimeout(c.s.ArticleTimeout, DefaultArticleTimeout)
	var buf bytes.Buffer
	_, err := io.Copy(&buf, dr)
	if err == nil {
		return buf.Bytes(), nil
	}
	if dr.Err() == nil {
		return nil, err
	}
	// Drained to its end so the session stays in step, but only so
	// far: a client that keeps sending gets the connection closed.
	c.setDrain(2 * dr.MaxSize)
	ferr := dr.Finish()
	c.setDrain(-1)
	if errors.Is(ferr, errDrainLimit) {
		c.s.logger().Warn("nntp: article far over the size limit, closing", "remote", c.remote(), "limit", dr.MaxSize)
		c.reply("400 Article far over the size limit, closing connection")
		return nil, ferr
	}
	if ferr != nil {
		return nil, ferr
	}
	if errors.Is(dr.Err(), wire.ErrTooLarge) {
		c.s.logger().Info("nntp: article over the size limit", "remote", c.remote(), "limit", dr.MaxSize)
		return nil, errTooLarge
	}
	return nil, errBare
}

func (c *conn) cmdPost(cmd command) error {
	if len(cmd.args) != 0 {
		return c.syntax(cmd)
	}
	if e := c.fault("post"); e != nil {
		c.reply(e.line())
		return nil
	}
	ip := c.remote()
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	if !c.s.posts.allow(ip, lifecycle.OrDefault(c.s.PostsPerMinute, DefaultPostsPerMinute), time.Now()) {
		c.s.logger().Warn("nntp: POST rate exceeded", "remote", c.remote(), "user", c.user)
		c.reply("440 Posting rate exceeded, try again later")
		return nil
	}
	c.reply("340 Send article to be posted")
	if err := c.flush(); err != nil {
		return err
	}
	data, err := c.readArticle()
	switch {
	case errors.Is(err, errTooLarge):
		c.reply("441 Article too large")
		return nil
	case errors.Is(err, errBare):
		c.reply("441 Article lines must end in CRLF")
		return nil
	case err != nil:
		return err
	}
	a, perr := c.preparePost(data)
	if perr != nil {
		c.reply(perr.line())
		return nil
	}
	if err := c.s.Backend.Post(c.ctx, a, c.user, false); err != nil {
		if errors.Is(err, ErrNotWanted) {
			err = &Error{Code: 441, Msg: "Duplicate article"}
		}
		c.backendError(err, "441 Posting failed", "POST")
		return nil
	}
	c.reply("240 Article received OK")
	return nil
}

func postError(msg string) *Error { return &Error{Code: 441, Msg: msg} }

// preparePost checks a POSTed article and completes it: Message-ID,
// Date and Path added where missing, Xref removed.
func (c *conn) preparePost(data []byte) (*Article, *Error) {
	a, err := ParseArticle(data)
	if err != nil {
		return nil, postError("Malformed article header")
	}
	for _, h := range []string{"From", "Subject", "Newsgroups"} {
		if a.Get(h) == "" {
			return nil, postError("Missing required header " + h)
		}
	}
	if perr := c.checkGroups(a, 441); perr != nil {
		return nil, perr
	}
	if id := a.Get("Message-ID"); id != "" {
		if !ValidMessageID(id) {
			return nil, postError("Malformed Message-ID")
		}
		if have, err := c.s.Backend.Have(c.ctx, id); err == nil && have {
			return nil, postError("Duplicate article")
		}
	} else {
		a.Set("Message-ID", NewMessageID(c.s.hostname()))
	}
	if d := a.Get("Date"); d != "" {
		if _, err := mail.ParseDate(d); err != nil {
			return nil, postError("Malformed Date header")
		}
	} else {
		a.Set("Date", time.Now().UTC().Format(time.RFC1123Z))
	}
	if p := a.Get("Path"); p != "" {
		a.Set("Path", c.s.hostname()+"!"+p)
	} else {
		a.Prepend("Path", c.s.hostname()+"!not-for-mail")
	}
	a.Del("Xref", 0)
	return a, nil
}

// checkGroups refuses, with code, an article for no group carried
// here, for a read-only group, or with an Approved header for a
// moderated group from someone who is not its moderator.
func (c *conn) checkGroups(a *Article, code int) *Error {
	names := a.Newsgroups()
	if len(names) == 0 {
		return &Error{Code: code, Msg: "Empty Newsgroups header"}
	}
	known := 0
	approved := a.Has("Approved")
	for _, name := range names {
		if !ValidGroupName(name) {
			return &Error{Code: code, Msg: "Malformed newsgroup name"}
		}
		g, err := c.s.Backend.Group(c.ctx, name)
		if err != nil {
			continue
		}
		known++
		if code != 441 {
			continue // a peer's article was approved where it was posted
		}
		switch status(g) {
		case 'n':
			return &Error{Code: code, Msg: "Posting to read-only newsgroup " + name + " not allowed"}
		case 'm':
			if approved && (c.user == "" || !slices.Contains(g.Moderators, c.user)) {
				c.s.logger().Warn("nntp: Approved header without the moderator's credentials", "group", name, "user", c.user, "remote", c.remote())
				return &Error{Code: code, Msg: "Approved header not allowed: you are not a moderator of " + name}
			}
		}
	}
	if known == 0 {
		return &Error{Code: code, Msg: "No such newsgroup"}
	}
	return nil
}

// NewMessageID returns a new, unique Message-ID at host.
func NewMessageID(host string) string {
	var b [12]byte
	rand.Read(b[:])
	return fmt.Sprintf("<%s.%d@%s>", hex.EncodeToString(b[:]), time.Now().Unix(), host)
}

// preparePeer checks an article from a feed (IHAVE, TAKETHIS): what
// PrepareFed checks, and the groups; this server is added to the Path.
func (c *conn) preparePeer(data []byte, id string, code int) (*Article, *Error) {
	a, perr := PrepareFed(data, id, c.s.hostname(), c.s.MaxArticleAge, code)
	if perr != nil {
		return nil, perr
	}
	if perr := c.checkGroups(a, code); perr != nil {
		return nil, perr
	}
	return a, nil
}

// PrepareFed checks an article taken from a peer (fed to us, or
// pulled) and completes it: every header RFC 5536 requires, its
// Message-ID the one announced, a Date no older than maxAge (0: no
// bound; INN's artcutoff), no loop through host in its Path. host is
// added to the Path and Xref removed. A refusal has the given code.
func PrepareFed(data []byte, id, host string, maxAge time.Duration, code int) (*Article, *Error) {
	a, err := ParseArticle(data)
	if err != nil {
		return nil, &Error{Code: code, Msg: "Malformed article header"}
	}
	for _, h := range []string{"Path", "From", "Subject", "Newsgroups", "Date", "Message-ID"} {
		if a.Get(h) == "" {
			return nil, &Error{Code: code, Msg: "Missing required header " + h}
		}
	}
	if a.Get("Message-ID") != id {
		return nil, &Error{Code: code, Msg: "Message-ID differs from the one offered"}
	}
	if maxAge > 0 {
		// Older than the history remembers, a duplicate could not be
		// told from a new article.
		d, err := mail.ParseDate(a.Get("Date"))
		if err != nil {
			return nil, &Error{Code: code, Msg: "Malformed Date header"}
		}
		if time.Since(d) > maxAge {
			return nil, &Error{Code: code, Msg: "Article too old"}
		}
	}
	path := a.Get("Path")
	for _, hop := range strings.FieldsFunc(path, func(r rune) bool { return r == '!' }) {
		if hop == host {
			return nil, &Error{Code: code, Msg: "Loop: this server is already in the Path"}
		}
	}
	a.Set("Path", host+"!"+path)
	a.Del("Xref", 0)
	return a, nil
}

func (c *conn) cmdIHave(cmd command) error {
	if len(cmd.args) != 1 || !ValidMessageID(cmd.args[0]) {
		return c.syntax(cmd)
	}
	id := cmd.args[0]
	if e := c.fault("post"); e != nil {
		c.reply(e.line())
		return nil
	}
	have, err := c.s.Backend.Have(c.ctx, id)
	if err != nil {
		c.backendError(err, "436 Transfer not possible; try again later", "IHAVE")
		return nil
	}
	if have {
		c.reply("435 Article not wanted")
		return nil
	}
	c.reply("335 Send it; end with <CR-LF>.<CR-LF>")
	if err := c.flush(); err != nil {
		return err
	}
	data, err := c.readArticle()
	switch {
	case errors.Is(err, errTooLarge):
		c.reply("437 Article too large")
		return nil
	case errors.Is(err, errBare):
		c.reply("437 Article lines must end in CRLF")
		return nil
	case err != nil:
		return err
	}
	a, perr := c.preparePeer(data, id, 437)
	if perr != nil {
		c.reply(perr.line())
		return nil
	}
	if err := c.s.Backend.Post(c.ctx, a, c.user, true); err != nil {
		if errors.Is(err, ErrNotWanted) {
			err = &Error{Code: 437, Msg: "Duplicate article"}
		}
		c.backendError(err, "436 Transfer failed; try again later", "IHAVE")
		return nil
	}
	c.reply("235 Article transferred OK")
	return nil
}

func (c *conn) cmdCheck(cmd command) error {
	if len(cmd.args) != 1 || !ValidMessageID(cmd.args[0]) {
		return c.syntax(cmd)
	}
	id := cmd.args[0]
	have, err := c.s.Backend.Have(c.ctx, id)
	switch {
	case err != nil:
		c.s.logger().Error("nntp: CHECK", "err", err)
		c.reply("431 " + id)
	case have:
		c.reply("438 " + id)
	default:
		c.reply("238 " + id)
	}
	return nil
}

func (c *conn) cmdTakeThis(cmd command) error {
	// The article follows whatever the answer: read it first.
	data, err := c.readArticle()
	if len(cmd.args) != 1 {
		if err != nil && !errors.Is(err, errTooLarge) && !errors.Is(err, errBare) {
			return err
		}
		return c.syntax(cmd)
	}
	id := cmd.args[0]
	switch {
	case errors.Is(err, errTooLarge), errors.Is(err, errBare):
		c.reply("439 " + id)
		return nil
	case err != nil:
		return err
	}
	if !ValidMessageID(id) {
		c.reply("439 " + id)
		return nil
	}
	if e := c.fault("post"); e != nil {
		c.reply((&Error{Code: e.Code, Msg: id}).line())
		return nil
	}
	have, err := c.s.Backend.Have(c.ctx, id)
	switch {
	case errors.Is(err, ErrTryLater), err == nil && have:
		// Stored, or arriving now from another feed: not wanted here.
		c.reply("439 " + id)
		return nil
	case err != nil:
		// 439 is final: the feeder would drop an article nobody took.
		// End the session instead, and it offers the article again.
		c.s.logger().Error("nntp: TAKETHIS history lookup", "id", id, "err", err)
		c.reply("400 History unavailable, try again later")
		return err
	}
	a, perr := c.preparePeer(data, id, 439)
	if perr != nil {
		c.s.logger().Debug("nntp: TAKETHIS rejected", "id", id, "why", perr.Msg)
		c.reply("439 " + id)
		return nil
	}
	if err := c.s.Backend.Post(c.ctx, a, c.user, true); err != nil {
		var pe *Error
		if errors.As(err, &pe) && pe.Temporary() || !errors.As(err, &pe) {
			// TAKETHIS has no "try again later" (RFC 4644 section
			// 2.5.2): end the session, and the feeder offers again
			// what it was not told was taken.
			c.s.logger().Error("nntp: TAKETHIS", "id", id, "err", err)
			c.reply("400 Storage unavailable, try again later")
			return err
		}
		c.reply("439 " + id)
		return nil
	}
	c.reply("239 " + id)
	return nil
}
