package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/mailstore"
	"github.com/plumbnet/plumb/internal/mta"
	"github.com/plumbnet/plumb/sasl"
	"github.com/plumbnet/plumb/smtp"
)

// smtpBackend adapts the accounts and the mail store to smtp.Backend:
// local recipients are resolved to mailboxes, others are queued.
type smtpBackend struct {
	d        *Daemon
	presence *presence
	cfg      *SMTPConfig
	store    *mailstore.Store
	queue    outboundQueue
	hostname string
	domains  map[string]bool
	// postmaster is who gets mail to postmaster (RFC 5321 section
	// 4.5.1) when no alias says otherwise: alias targets, or "".
	postmaster string
	log        *slog.Logger
}

// outboundQueue is what the SMTP backend needs of the mail queue, an
// *mta.Queue; tests wrap one to make a step fail.
type outboundQueue interface {
	Spool(r io.Reader) (*mta.Spool, error)
	Hold(s *mta.Spool, env mta.Envelope) error
	Release(s *mta.Spool) error
	Bounce(ctx context.Context, sender string, failed []mta.Failure, original io.Reader) error
}

var (
	_ outboundQueue      = (*mta.Queue)(nil)
	_ smtp.Backend       = (*smtpBackend)(nil)
	_ mta.LocalDelivery  = (*smtpBackend)(nil)
	_ smtp.AuthSession   = (*smtpSession)(nil)
	_ smtp.VerifySession = (*smtpSession)(nil)
)

func (b *smtpBackend) NewSession(ctx context.Context, c *smtp.Conn) (smtp.Session, error) {
	return &smtpSession{b: b, conn: c}, nil
}

// smtpSession is one connection's transaction state.
type smtpSession struct {
	b    *smtpBackend
	conn *smtp.Conn
	user string // authenticated account
	end  func() // ends the session in the presence record, once authenticated

	from   string
	opts   smtp.MailOptions
	local  []string // mail store users, each once
	remote []string // addresses for the queue
	never  []string // remote addresses whose RCPT said NOTIFY=NEVER
	news   []string // newsgroups mailed to (nntp_mail.go)
}

func (s *smtpSession) AuthMechanisms() []string { return sasl.Mechanisms() }

func (s *smtpSession) Auth(ctx context.Context, mech string) (sasl.Server, error) {
	return sasl.NewServer(mech, func(ctx context.Context, identity, user, pass string) error {
		u, err := s.b.d.Accounts().Authenticate(ctx, user, pass, s.conn.RemoteAddr())
		switch {
		case errors.Is(err, accounts.ErrAuthFailed):
			return smtp.ErrAuthFailed
		case err != nil:
			s.b.log.Error("smtp: authentication error", "err", err)
			return &smtp.Error{Code: 454, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Msg: "Temporary authentication failure"}
		}
		s.user = u.Name
		if s.end == nil {
			s.end = s.b.presence.LoginConn(u.Name, "smtp", s.conn.LocalAddr(), s.conn.RemoteAddr())
		}
		return nil
	})
}

func (s *smtpSession) Mail(ctx context.Context, from string, opts *smtp.MailOptions) error {
	s.from, s.opts = from, *opts
	s.local, s.remote, s.never, s.news = nil, nil, nil, nil
	return nil
}

func (s *smtpSession) Rcpt(ctx context.Context, to string, opts *smtp.RcptOptions) error {
	if group, ok, err := s.b.newsGroup(to, s.user != ""); ok || err != nil { // mail to news: nntp_mail.go
		if err != nil {
			return err
		}
		s.news = append(s.news, group)
		return nil
	}
	users, remote, err := s.b.resolve(to, 0)
	if err != nil {
		return err
	}
	// Relaying is mail to a remote recipient. A local address the
	// operator forwards off-site (an alias, smtp.postmaster) is not:
	// its targets are fixed by the config, not by the client.
	if len(remote) > 0 && s.user == "" && !s.b.isLocal(to) {
		return smtp.ErrRelayDenied
	}
	for _, u := range users {
		if s.opts.Size > 0 {
			if err := quotaReply(s.b.store.CheckQuota(u, s.opts.Size)); err != nil {
				return err
			}
		}
	}
	for _, u := range users {
		if !slices.Contains(s.local, u) {
			s.local = append(s.local, u)
		}
	}
	never := opts != nil && slices.ContainsFunc(opts.Notify, func(n string) bool { return strings.EqualFold(n, "NEVER") })
	for _, r := range remote {
		if !slices.Contains(s.remote, r) {
			s.remote = append(s.remote, r)
		}
		if never && !slices.Contains(s.never, r) {
			s.never = append(s.never, r) // RFC 3461 5.2: no failure DSN for it
		}
	}
	return nil
}

// quotaReply turns a quota refusal into its SMTP reply.
func quotaReply(err error) error {
	var qe *mailstore.QuotaError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &qe) && qe.Permanent():
		return &smtp.Error{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 2, 2}, Msg: "Mailbox full: message larger than the quota"}
	case errors.As(err, &qe):
		return &smtp.Error{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Msg: "Mailbox full, try again later"}
	}
	return err
}

// Data stores the message before it returns nil (and the client hears
// 250): in every local mailbox and, for remote recipients, in the
// queue, both or neither, so that a client retrying after a 4xx reply
// never gives anyone a second copy.
//
// With remote recipients, the message is spooled into the queue and its
// envelope written held ([mta.Queue.Hold]: the steps that need space),
// then delivered to the local mailboxes (all or nothing, by
// [mailstore.Store.DeliverMany]), then the queue entry is released (a
// rename and a directory fsync). A failure before or during the local
// delivery discards the held entry; a failed release removes the local
// copies again; either way the client hears 451 and its retry makes
// the only copies.
//
// After a crash: an acknowledged message was released and delivered
// locally, so it is all there. An unacknowledged one whose entry was
// still held is dropped when the queue opens: cut short before its
// local delivery it is lost whole and the client's retry delivers it
// once. The one window left is a crash after the local copies are in
// place and before the release is on disk: the local recipients then
// keep theirs and get the retry too, the remote ones get it once. A
// crash after the release and before the 250 reaches the client
// duplicates the whole message on the retry, the duplicate every SMTP
// server risks (RFC 1047).
func (s *smtpSession) Data(ctx context.Context, r io.Reader) error {
	if len(s.news) > 0 { // mail to news: nntp_mail.go
		var err error
		if r, err = s.b.postNews(ctx, s.from, s.news, r); err != nil || len(s.local)+len(s.remote) == 0 {
			return err
		}
	}
	if len(s.remote) == 0 {
		return s.b.deliverLocal(ctx, s.from, s.local, r)
	}
	q := s.b.queue
	spool, err := q.Spool(r)
	if err != nil {
		return err
	}
	defer spool.Discard() // unless released
	if err := q.Hold(spool, mta.Envelope{From: s.from, Rcpts: s.remote, Never: s.never, Options: s.opts}); err != nil {
		return err
	}
	var stored localCopies
	if len(s.local) > 0 {
		f, err := spool.Open()
		if err != nil {
			return err
		}
		stored, err = s.b.storeLocal(ctx, s.local, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	if err := q.Release(spool); err != nil {
		s.b.unstoreLocal(stored)
		return err
	}
	s.b.d.hub().delivered("smtp", stored.users, stored.uids)
	s.b.bounceFailed(ctx, s.from, stored.failed)
	return nil
}

// localCopies is what storeLocal placed: users[i] has the message as
// uids[i], or, over quota, none (uids[i] == 0, and an entry in failed).
type localCopies struct {
	users  []string
	uids   []uint32
	failed []mta.Failure
}

// deliverLocal delivers one message to users' inboxes. A user over
// quota gets no copy, and the sender a bounce, since the others already
// have theirs and a failure reply would make the client send it again.
func (b *smtpBackend) deliverLocal(ctx context.Context, from string, users []string, r io.Reader) error {
	if len(users) == 0 {
		return drainAll(r)
	}
	stored, err := b.storeLocal(ctx, users, r)
	if err != nil {
		return err
	}
	b.d.hub().delivered("smtp", stored.users, stored.uids)
	b.bounceFailed(ctx, from, stored.failed)
	return nil
}

// storeLocal delivers one message to users' inboxes, all or nothing
// but for users over quota, who are left out and listed in failed; if
// every user is over quota, it fails with the quota's reply.
func (b *smtpBackend) storeLocal(ctx context.Context, users []string, r io.Reader) (localCopies, error) {
	uids, err := b.store.DeliverMany(ctx, users, r)
	stored := localCopies{users: users, uids: uids}
	if err == nil {
		return stored, nil
	}
	if !errors.Is(err, mailstore.ErrQuotaExceeded) || len(uids) != len(users) {
		return localCopies{}, err
	}
	for i, u := range users {
		if uids[i] == 0 {
			user, _ := mailstore.SplitTarget(u, "")
			stored.failed = append(stored.failed, mta.Failure{Addr: user + "@" + b.hostname, Reply: "552 5.2.2 Mailbox full"})
		}
	}
	if len(stored.failed) == len(users) {
		return localCopies{}, quotaReply(err)
	}
	return stored, nil
}

// unstoreLocal removes the copies storeLocal placed, when what had to
// go with them (the queue entry) failed and the client will send the
// message again.
func (b *smtpBackend) unstoreLocal(stored localCopies) {
	ctx := context.Background() // the copies go even if the session is cut
	for i, u := range stored.users {
		if stored.uids[i] == 0 {
			continue
		}
		user, folder := mailstore.SplitTarget(u, mailstore.Inbox)
		mb, err := b.store.Mailbox(ctx, user, folder)
		if err == nil {
			err = mb.Delete(ctx, stored.uids[i])
			mb.Close()
		}
		if err != nil {
			b.log.Error("smtp: removing a local copy after the queue failed; the client's retry will duplicate it", "user", u, "uid", stored.uids[i], "err", err)
		}
	}
}

// bounceFailed tells from of the local recipients over quota.
func (b *smtpBackend) bounceFailed(ctx context.Context, from string, failed []mta.Failure) {
	if len(failed) == 0 {
		return
	}
	b.log.Warn("smtp: recipients over quota; bouncing", "users", len(failed))
	if err := b.queue.Bounce(ctx, from, failed, nil); err != nil {
		b.log.Error("smtp: bouncing for recipients over quota", "err", err)
	}
}

// DeliverLocal delivers a message the queue makes (a bounce) to the
// local mailboxes rcpt resolves to, and returns the addresses it
// resolves to elsewhere, for the queue.
func (b *smtpBackend) DeliverLocal(ctx context.Context, from, rcpt string, msg io.Reader) ([]string, error) {
	users, remote, err := b.resolve(rcpt, 0)
	if err != nil {
		if !smtp.IsTemporary(err) {
			return nil, fmt.Errorf("%w: %s: %w", mta.ErrNoMailbox, rcpt, err)
		}
		return nil, err
	}
	if len(users) > 0 {
		if err := b.deliverLocal(ctx, from, users, msg); err != nil {
			return nil, err
		}
	}
	return remote, nil
}

func drainAll(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

func (s *smtpSession) Verify(ctx context.Context, addr string) (string, error) {
	users, remote, err := s.b.resolve(addr, 0)
	if err != nil {
		return "", err
	}
	if len(remote) > 0 || len(users) == 0 {
		return "", &smtp.Error{Code: 252, EnhancedCode: smtp.EnhancedCode{2, 1, 5}, Msg: "Cannot VRFY a remote address"}
	}
	return addr, nil
}

func (s *smtpSession) Reset() {
	s.from, s.local, s.remote, s.never, s.news = "", nil, nil, nil, nil
}

func (s *smtpSession) Logout() error {
	if s.end != nil {
		s.end()
	}
	return nil
}

// isLocal reports whether addr (or bare "postmaster") is at a domain
// delivered here.
func (b *smtpBackend) isLocal(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return strings.EqualFold(addr, "postmaster")
	}
	domain := strings.ToLower(strings.TrimSuffix(addr[at+1:], "."))
	return b.domains[domain] || isOwnLiteral(domain)
}

// maxAliasDepth stops alias loops.
const maxAliasDepth = 8

// resolve maps a recipient address to mail store users and remote
// addresses: catch-all first, then local domains with aliases (whole
// address, then local part) and plus-addressing, then accounts.
func (b *smtpBackend) resolve(addr string, depth int) (users, remote []string, err error) {
	if depth > maxAliasDepth {
		return nil, nil, &smtp.Error{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 4, 6}, Msg: "Alias loop"}
	}
	if b.cfg.CatchAll != "" {
		return b.userHome(b.cfg.CatchAll)
	}
	local, domain, ok := strings.Cut(addr, "@")
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		local, domain, ok = addr[:at], addr[at+1:], true
	}
	if !ok && strings.EqualFold(addr, "postmaster") {
		local, domain = "postmaster", b.hostname
	}
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	if !b.domains[domain] && !isOwnLiteral(domain) {
		return nil, []string{addr}, nil
	}
	lower := strings.ToLower(local)
	if t, ok := b.alias(lower+"@"+domain, lower); ok {
		return b.resolveTargets(t, depth)
	}
	if lower == "postmaster" && b.postmaster != "" {
		return b.resolveTargets(b.postmaster, depth)
	}
	if sep := b.cfg.PlusSeparator; sep != "" {
		if base, _, found := strings.Cut(lower, sep); found && base != "" {
			if t, ok := b.alias(base+"@"+domain, base); ok {
				return b.resolveTargets(t, depth)
			}
			if _, tag, _ := strings.Cut(local, sep); b.cfg.PlusFolders && tag != "" {
				// user+Folder: into that folder when it exists (the store
				// falls back to the inbox otherwise).
				users, remote, err := b.userHome(base)
				for i := range users {
					users[i] += "/" + tag
				}
				return users, remote, err
			}
			lower = base
		}
	}
	return b.userHome(lower)
}

func (b *smtpBackend) alias(full, local string) (string, bool) {
	// The whole address wins over the local part alone, whatever the
	// map's order.
	for _, key := range []string{full, local} {
		for k, v := range b.cfg.Aliases {
			if strings.EqualFold(k, key) {
				return v, true
			}
		}
	}
	return "", false
}

func (b *smtpBackend) resolveTargets(targets string, depth int) (users, remote []string, err error) {
	for _, t := range strings.Split(targets, ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		var u, r []string
		if strings.Contains(t, "@") {
			u, r, err = b.resolve(t, depth+1)
		} else {
			u, r, err = b.userHome(t)
		}
		if err != nil {
			return nil, nil, err
		}
		users, remote = append(users, u...), append(remote, r...)
	}
	if len(users) == 0 && len(remote) == 0 {
		return nil, nil, smtp.ErrNoSuchUser
	}
	return users, remote, nil
}

// userHome returns the mail store name of account name.
func (b *smtpBackend) userHome(name string) ([]string, []string, error) {
	u, ok := b.d.Accounts().Lookup(name)
	if !ok {
		return nil, nil, smtp.ErrNoSuchUser
	}
	return []string{u.Home}, nil, nil
}

// isOwnLiteral reports whether an address literal names a loopback address.
func isOwnLiteral(domain string) bool {
	switch strings.ToLower(domain) {
	case "[127.0.0.1]", "[ipv6:::1]":
		return true
	}
	return false
}
