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
	cfg      *SMTPConfig
	store    *mailstore.Store
	queue    *mta.Queue
	hostname string
	domains  map[string]bool
	// postmaster is who gets mail to postmaster (RFC 5321 section
	// 4.5.1) when no alias says otherwise: alias targets, or "".
	postmaster string
	log        *slog.Logger
}

var (
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

	from   string
	opts   smtp.MailOptions
	local  []string // mail store users, each once
	remote []string // addresses for the queue
	never  []string // remote addresses whose RCPT said NOTIFY=NEVER
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
		return nil
	})
}

func (s *smtpSession) Mail(ctx context.Context, from string, opts *smtp.MailOptions) error {
	s.from, s.opts = from, *opts
	s.local, s.remote, s.never = nil, nil, nil
	return nil
}

func (s *smtpSession) Rcpt(ctx context.Context, to string, opts *smtp.RcptOptions) error {
	users, remote, err := s.b.resolve(to, 0)
	if err != nil {
		return err
	}
	if len(remote) > 0 && s.user == "" {
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

// Data stores the message: fsynced into every local mailbox and, for
// remote recipients, into the queue, before it returns nil (and the
// client hears 250).
func (s *smtpSession) Data(ctx context.Context, r io.Reader) error {
	if len(s.remote) == 0 {
		return s.b.deliverLocal(ctx, s.from, s.local, r)
	}
	spool, err := s.b.queue.Spool(r)
	if err != nil {
		return err
	}
	defer spool.Discard()
	if len(s.local) > 0 {
		f, err := spool.Open()
		if err != nil {
			return err
		}
		err = s.b.deliverLocal(ctx, s.from, s.local, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	return s.b.queue.Commit(spool, mta.Envelope{From: s.from, Rcpts: s.remote, Never: s.never, Options: s.opts})
}

// deliverLocal delivers one message to users' inboxes. A user over
// quota gets no copy, and the sender a bounce, since the others already
// have theirs and a failure reply would make the client send it again.
func (b *smtpBackend) deliverLocal(ctx context.Context, from string, users []string, r io.Reader) error {
	if len(users) == 0 {
		return drainAll(r)
	}
	uids, err := b.store.DeliverMany(ctx, users, r)
	if err == nil {
		return nil
	}
	if !errors.Is(err, mailstore.ErrQuotaExceeded) || len(uids) != len(users) {
		return err
	}
	var failed []mta.Failure
	for i, u := range users {
		if uids[i] == 0 {
			failed = append(failed, mta.Failure{Addr: u + "@" + b.hostname, Reply: "552 5.2.2 Mailbox full"})
		}
	}
	if len(failed) == len(users) {
		return quotaReply(err)
	}
	b.log.Warn("smtp: recipients over quota; bouncing", "users", len(failed))
	if err := b.queue.Bounce(ctx, from, failed, nil); err != nil {
		b.log.Error("smtp: bouncing for recipients over quota", "err", err)
	}
	return nil
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
	s.from, s.local, s.remote, s.never = "", nil, nil, nil
}

func (s *smtpSession) Logout() error { return nil }

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
