package daemon

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/plumbnet/plumb/internal/mta"
	"github.com/plumbnet/plumb/nntp"
	"github.com/plumbnet/plumb/smtp"
)

// mailNews is the SMTP side of news to mail (a moderator's
// submissions): rcpt, an account name or an address, gets msg in its
// local mailbox or, off this host, through the outbound queue.
func (b *smtpBackend) mailNews(ctx context.Context, from, rcpt string, msg []byte) error {
	if !strings.Contains(rcpt, "@") {
		rcpt += "@" + b.hostname
	}
	remote, err := b.DeliverLocal(ctx, from, rcpt, bytes.NewReader(msg))
	if err != nil || len(remote) == 0 {
		return err
	}
	spool, err := b.queue.Spool(bytes.NewReader(msg))
	if err != nil {
		return err
	}
	defer spool.Discard()
	if err := b.queue.Hold(spool, mta.Envelope{From: from, Rcpts: remote}); err != nil {
		return err
	}
	return b.queue.Release(spool)
}

// newsPosting is the news side of mail to news, set by buildNNTP.
var newsPosting sync.Map // *Daemon -> *nntpBackend

// newsGroup reports whether to is a newsgroup's address,
// <group>@<nntp.mail_domain>; a group that does not exist is a 550,
// and so is any group unless the session authenticated or
// nntp.anonymous_post is on: port 25 is no way around AUTHINFO.
func (b *smtpBackend) newsGroup(to string, authed bool) (string, bool, error) {
	v, ok := newsPosting.Load(b.d)
	if !ok {
		return "", false, nil
	}
	nb := v.(*nntpBackend)
	local, domain, found := strings.Cut(to, "@")
	if !found || nb.mailDomain == "" || !strings.EqualFold(domain, nb.mailDomain) {
		return "", false, nil
	}
	if !authed && !nb.anonymousPost {
		return "", true, &smtp.Error{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Msg: "Posting to news needs authentication"}
	}
	if _, err := nb.store.Group(local); err != nil {
		return "", true, &smtp.Error{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Msg: "No such newsgroup"}
	}
	return local, true, nil
}

// postNews posts a message mailed to newsgroups and returns it again
// for the mail recipients of the same transaction. An Approved header
// is dropped (mail proves no moderator), so a moderated group's
// moderator gets the article; a Message-ID already posted is taken as
// done (the sender's retry).
func (b *smtpBackend) postNews(ctx context.Context, from string, groups []string, r io.Reader) (io.Reader, error) {
	v, _ := newsPosting.Load(b.d)
	nb := v.(*nntpBackend)
	data, err := io.ReadAll(io.LimitReader(r, nb.maxArticle+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > nb.maxArticle {
		return nil, &smtp.Error{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4}, Msg: "Message larger than the news article limit"}
	}
	a, err := nntp.ParseArticle(data)
	if err != nil {
		return nil, &smtp.Error{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Msg: "Malformed message header for news"}
	}
	// A Message-ID from the message itself (not its trace headers), so
	// that the sender's retry of the same message is the duplicate it is.
	h := sha256.New()
	for _, f := range []string{"From", "To", "Cc", "Subject", "Date", "In-Reply-To"} {
		fmt.Fprintf(h, "%s\x00", a.Get(f))
	}
	h.Write(a.Body)
	derivedID := "<" + hex.EncodeToString(h.Sum(nil)[:12]) + ".mail@" + nb.host + ">"
	a.Set("Newsgroups", strings.Join(groups, ","))
	a.Del("Approved", 0)
	a.Del("Xref", 0)
	if a.Get("From") == "" {
		a.Set("From", from)
	}
	if a.Get("Subject") == "" {
		a.Set("Subject", "(no subject)")
	}
	if _, err := mail.ParseDate(a.Get("Date")); err != nil {
		a.Set("Date", time.Now().UTC().Format(time.RFC1123Z))
	}
	if id := a.Get("Message-ID"); !nntp.ValidMessageID(id) {
		a.Set("Message-ID", derivedID)
	}
	a.Prepend("Path", nb.host+"!from-mail")
	err = nb.Post(ctx, a, "", false)
	var ne *nntp.Error
	switch {
	case err == nil, errors.Is(err, nntp.ErrNotWanted):
		return bytes.NewReader(data), nil
	case errors.As(err, &ne) && ne.Code >= 400 && ne.Code < 500 && !ne.Temporary():
		return nil, &smtp.Error{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Msg: "Not posted: " + ne.Msg}
	}
	b.log.Error("smtp: mail to news", "groups", groups, "err", err)
	return nil, &smtp.Error{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Msg: "News spool unavailable, try again later"}
}

// mailFollowup mails a posted follow-up to the poster of the article
// it answers when that article asked for it ("Followup-To: poster",
// RFC 5536 section 3.2.6).
func (b *nntpBackend) mailFollowup(ctx context.Context, a *nntp.Article) {
	refs := strings.Fields(a.Get("References"))
	if len(refs) == 0 {
		return
	}
	rc, err := b.store.Open(refs[len(refs)-1])
	if err != nil {
		return
	}
	head, _ := io.ReadAll(io.LimitReader(rc, nntp.DefaultMaxHeaderBytes))
	rc.Close()
	if i := bytes.Index(head, []byte("\r\n\r\n")); i >= 0 {
		head = head[:i+4]
	}
	parent, err := nntp.ParseArticle(head)
	if err != nil || !strings.EqualFold(parent.Get("Followup-To"), "poster") {
		return
	}
	to := parent.Get("Reply-To")
	if to == "" {
		to = parent.Get("From")
	}
	addr, err := mail.ParseAddress(to)
	m, ok := newsMail.Load(b.d)
	if err != nil || !ok {
		return
	}
	if localAccount(b.local, addr.Address) == "" {
		// Anyone may write any Reply-To: mailing it off this host with
		// a null sender would make the server a relay.
		b.log.Info("nntp: follow-up not mailed to an address off this host", "to", addr.Address)
		return
	}
	var msg bytes.Buffer
	fmt.Fprintf(&msg, "To: %s\r\n", addr.Address)
	a.WriteTo(&msg)
	if err := m.(newsMailer)(ctx, "", addr.Address, msg.Bytes()); err != nil {
		b.log.Warn("nntp: mailing a follow-up to the poster", "to", addr.Address, "err", err)
	}
}
