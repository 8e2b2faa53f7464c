package daemon

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/newsstore"
	"github.com/plumbnet/plumb/nntp"
)

// NNTPConfig is the [nntp] section: the plain listener (with STARTTLS)
// and [nntp.nntps], implicit TLS.
type NNTPConfig struct {
	Listener
	NNTPS          Listener `toml:"nntps" comment:"NNTP over implicit TLS (port 563 + 10000)"`
	Hostname       string   `toml:"hostname" comment:"This server's name in Path and Xref headers and new Message-IDs; empty: this host's name"`
	MaxArticle     int64    `toml:"max_article_bytes" comment:"Largest article accepted by POST, IHAVE or TAKETHIS"`
	PostsPerMinute int      `toml:"posts_per_minute" comment:"POSTs accepted from one IP address a minute; -1: no limit"`
	AnonymousPost  bool     `toml:"anonymous_post" comment:"Let clients POST without AUTHINFO"`
	ReadAuth       bool     `toml:"read_auth" comment:"Make reading need AUTHINFO too"`
	InsecureAuth   bool     `toml:"insecure_auth" comment:"Accept passwords without TLS from clients not on loopback (not recommended)"`
	FeedFrom       []string `toml:"feed_from" comment:"Networks (CIDR) whose clients may feed articles by IHAVE/TAKETHIS without AUTHINFO"`
	FeedAccounts   []string `toml:"feed_accounts" comment:"Accounts of peers that may feed articles by IHAVE/TAKETHIS after AUTHINFO (other accounts may only POST)"`
	HistoryKeep    Duration `toml:"history_keep" comment:"How long an expired article's Message-ID is still refused as a duplicate"`
	ExpireEvery    Duration `toml:"expire_every" comment:"How often each group's retention (plumb news group add --max-age/--max-count) is applied"`
	Push           []string `toml:"push" comment:"Peers (host:port; ihave:host:port for IHAVE only) new articles are fed to, by streaming or IHAVE, from a persistent queue with retries"`
	Pull           []string `toml:"pull" comment:"Peers (host:port) polled with NEWNEWS for articles to take"`
	PullEvery      Duration `toml:"pull_every" comment:"How often pull peers are polled"`
	MailDomain     string   `toml:"mail_domain" comment:"Mail to <group>@<mail_domain> over plumb's SMTP is posted to the group; empty: off"`
}

const nntpSection section[NNTPConfig] = "nntp"

//go:embed defaults/nntp.toml
var nntpDefaults string

func init() {
	register(nntpSection, protocol{rank: 119, defaults: nntpDefaults, build: buildNNTP,
		comment: "NNTP (RFC 3977) with STARTTLS, AUTHINFO and streaming feeds; [nntp.nntps] is implicit TLS"})
}

func (c *NNTPConfig) check(*Config) error {
	if _, err := c.feedFrom(); err != nil {
		return err
	}
	if c.MaxArticle < 0 {
		return fmt.Errorf("nntp.max_article_bytes = %d: want 0 or more", c.MaxArticle)
	}
	for _, p := range append(append([]string{}, c.Push...), c.Pull...) {
		if err := checkAddr("nntp.push/pull", strings.TrimPrefix(p, "ihave:")); err != nil {
			return err
		}
	}
	if c.HistoryKeep.Duration < 0 || c.ExpireEvery.Duration < 0 {
		return errors.New("nntp.history_keep and nntp.expire_every: want 0 or more")
	}
	return nil
}

func (c *NNTPConfig) feedFrom() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.FeedFrom {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("nntp.feed_from %q: want a network such as 192.0.2.0/24", s)
		}
		out = append(out, p)
	}
	return out, nil
}

// NewsDir is where the news spool lives in a data directory.
func NewsDir(data string) string { return filepath.Join(data, "news") }

var nntpBusy = []byte("400 Too many connections, try again later\r\n")

func buildNNTP(d *Daemon) ([]Service, error) {
	cfg := nntpSection.of(d.Config())
	if !cfg.Enabled && !cfg.NNTPS.Enabled {
		return nil, nil
	}
	hostname := cfg.Hostname
	if hostname == "" {
		if h, err := os.Hostname(); err == nil && h != "" {
			hostname = h
		} else {
			hostname = "localhost"
		}
	}
	store, err := newsstore.Open(NewsDir(d.DataDir()))
	if err != nil {
		return nil, err
	}
	store.Host = hostname
	store.HistoryKeep = cfg.HistoryKeep.Duration
	feeds, _ := cfg.feedFrom() // checked by LoadConfig
	log := d.Logger().With("service", "nntp")
	be := &nntpBackend{d: d, store: store, accounts: d.Accounts(), presence: d.Presence(), log: log, host: hostname, mailDomain: cfg.MailDomain,
		anonymousPost: cfg.AnonymousPost, maxArticle: cfg.MaxArticle, local: localDomains(d.Config(), hostname)}
	if be.maxArticle <= 0 {
		be.maxArticle = nntp.DefaultMaxArticleSize
	}
	maxAge := cfg.HistoryKeep.Duration
	if maxAge <= 0 {
		maxAge = newsstore.DefaultHistoryKeep
	}
	newsPosting.Store(d, be)
	d.addComponent("news expiry", &newsExpiry{d: d, store: store, every: cfg.ExpireEvery.Duration, log: log})
	if len(cfg.Push)+len(cfg.Pull) > 0 {
		d.addComponent("news feeds", &newsFeeds{store: store, be: be, dir: filepath.Join(NewsDir(d.DataDir()), "feeds"),
			host: hostname, push: cfg.Push, pull: cfg.Pull, pullEvery: cfg.PullEvery.Duration, log: log,
			maxArt: be.maxArticle, maxAge: maxAge})
	}
	newServer := func() *nntp.Server {
		return &nntp.Server{
			Backend:        be,
			TLSConfig:      d.TLSConfig(),
			Hostname:       hostname,
			Logger:         log,
			IdleTimeout:    d.IdleTimeout(),
			LineTimeout:    d.LineTimeout(),
			MaxArticleSize: cfg.MaxArticle,
			PostsPerMinute: cfg.PostsPerMinute,
			AnonymousPost:  cfg.AnonymousPost,
			ReadAuth:       cfg.ReadAuth,
			InsecureAuth:   cfg.InsecureAuth,
			FeedFrom:       feeds,
			FeedAccounts:   cfg.FeedAccounts,
			MaxArticleAge:  maxAge,
		}
	}
	var services []Service
	if cfg.Enabled {
		services = append(services, Service{Name: "nntp", Net: "tcp", Addr: d.Addr(cfg.Addr), Busy: nntpBusy,
			MaxConns: cfg.MaxConns, ProxyProtocol: cfg.ProxyProtocol, Stream: newServer()})
	}
	if cfg.NNTPS.Enabled {
		services = append(services, Service{Name: "nntps", Net: "tcp", Addr: d.Addr(cfg.NNTPS.Addr), TLS: true,
			MaxConns: cfg.NNTPS.MaxConns, ProxyProtocol: cfg.NNTPS.ProxyProtocol, Stream: newServer()})
	}
	return services, nil
}

// newsExpiry applies retention periodically and closes the store at the end.
type newsExpiry struct {
	d     *Daemon
	store *newsstore.Store
	every time.Duration
	log   *slog.Logger
	stop  chan struct{}
	done  chan struct{}
}

func (e *newsExpiry) Start(ctx context.Context) error {
	e.stop, e.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(e.done)
		if e.every <= 0 {
			<-e.stop
			return
		}
		t := time.NewTicker(e.every)
		defer t.Stop()
		for {
			select {
			case <-e.stop:
				return
			case <-t.C:
				if n, err := e.store.Expire(); err != nil {
					e.log.Error("nntp: expiry failed", "err", err)
				} else if n > 0 {
					e.log.Info("nntp: expired articles", "count", n)
				}
			}
		}
	}()
	return nil
}

func (e *newsExpiry) Stop(ctx context.Context) error {
	close(e.stop)
	select {
	case <-e.done:
	case <-ctx.Done():
	}
	newsPosting.Delete(e.d)
	newsMail.Delete(e.d)
	return e.store.Close()
}

// nntpBackend adapts the account database and the news store to nntp.Backend.
type nntpBackend struct {
	d             *Daemon
	store         *newsstore.Store
	accounts      *accounts.DB
	presence      *presence // finger's last logins and open sessions
	log           *slog.Logger
	host          string // Path identity
	mailDomain    string // <group>@mailDomain is mail to news
	anonymousPost bool   // mail to news without SMTP AUTH too
	maxArticle    int64
	local         map[string]bool // mail domains delivered here
}

// localDomains are the domains whose addresses are this host's
// accounts: SMTP's host name and domains, and the news host name.
func localDomains(cfg *Config, newsHost string) map[string]bool {
	sc := smtpSection.of(cfg)
	host := sc.Hostname
	if host == "" {
		host, _ = os.Hostname()
	}
	out := map[string]bool{strings.ToLower(newsHost): true}
	if host != "" {
		out[strings.ToLower(host)] = true
	}
	for _, dom := range sc.Domains {
		out[strings.ToLower(strings.TrimSuffix(dom, "."))] = true
	}
	return out
}

// localAccount returns the account an address names when it is at a
// local domain (a bare name is an account); "" otherwise.
func localAccount(local map[string]bool, addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr
	}
	if !local[strings.ToLower(strings.TrimSuffix(addr[at+1:], "."))] {
		return ""
	}
	return addr[:at]
}

var _ nntp.Backend = (*nntpBackend)(nil)

func (b *nntpBackend) Authenticate(ctx context.Context, c nntp.ConnInfo, user, password string) error {
	u, err := b.accounts.Authenticate(ctx, user, password, c.RemoteAddr)
	if errors.Is(err, accounts.ErrAuthFailed) {
		return fmt.Errorf("%w: %w", nntp.ErrAuthFailed, err)
	}
	if err != nil {
		return err
	}
	// ctx is the session's: it ends, and the presence record's session
	// with it, when the connection does.
	context.AfterFunc(ctx, b.presence.LoginConn(u.Name, "nntp", c.LocalAddr, c.RemoteAddr))
	return nil
}

// moderators are the accounts that may approve for a group: its
// moderator's account name, or the local part of its address at a
// local domain. A moderator elsewhere (bob@elsewhere.org) is no local
// account: nobody here approves, and submissions are mailed to them.
func (b *nntpBackend) moderators(cfg newsstore.GroupConfig) []string {
	if name := localAccount(b.local, cfg.Moderator); name != "" {
		return []string{name}
	}
	return nil
}

func (b *nntpBackend) toGroup(g newsstore.Group) nntp.Group {
	return nntp.Group{Name: g.Name, Low: g.Low, High: g.High, Count: g.Count, Status: g.Status,
		Created: g.Created, Creator: g.Creator, Description: g.Description, Moderators: b.moderators(g.GroupConfig)}
}

func (b *nntpBackend) Groups(ctx context.Context) ([]nntp.Group, error) {
	gs := b.store.Groups()
	out := make([]nntp.Group, len(gs))
	for i, g := range gs {
		out[i] = b.toGroup(g)
	}
	return out, nil
}

// newsError maps the news store's refusals to NNTP's replies.
func newsError(err error) error {
	switch {
	case errors.Is(err, newsstore.ErrNoGroup):
		return fmt.Errorf("%w: %w", nntp.ErrNoSuchGroup, err)
	case errors.Is(err, newsstore.ErrNoArticle):
		return fmt.Errorf("%w: %w", nntp.ErrNoSuchNumber, err)
	}
	return err
}

func (b *nntpBackend) Group(ctx context.Context, name string) (nntp.Group, error) {
	g, err := b.store.Group(name)
	if err != nil {
		return nntp.Group{}, newsError(err)
	}
	return b.toGroup(g), nil
}

func (b *nntpBackend) Numbers(ctx context.Context, group string, lo, hi int64) ([]int64, error) {
	nums, err := b.store.Numbers(group, lo, hi)
	return nums, newsError(err)
}

func toOverview(n int64, a newsstore.Article) nntp.Overview {
	o := a.Overview
	return nntp.Overview{Number: n, Subject: o.Subject, From: o.From, Date: o.Date, MessageID: o.MessageID,
		References: o.References, Bytes: o.Bytes, Lines: o.Lines, Xref: o.Xref}
}

func (b *nntpBackend) Overview(ctx context.Context, group string, lo, hi int64, fn func(nntp.Overview) error) error {
	return newsError(b.store.Range(group, lo, hi, func(n int64, a newsstore.Article) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(toOverview(n, a))
	}))
}

func (b *nntpBackend) Article(ctx context.Context, group string, n int64) (nntp.Overview, io.ReadCloser, error) {
	a, err := b.store.At(group, n)
	if err != nil {
		return nntp.Overview{}, nil, newsError(err)
	}
	rc, err := b.store.Open(a.MessageID)
	if err != nil {
		return nntp.Overview{}, nil, fmt.Errorf("%w: %w", nntp.ErrNoSuchNumber, err)
	}
	return toOverview(n, a), rc, nil
}

func (b *nntpBackend) ArticleByID(ctx context.Context, id string) (nntp.Overview, io.ReadCloser, error) {
	a, err := b.store.ByID(id)
	if err != nil {
		return nntp.Overview{}, nil, fmt.Errorf("%w: %w", nntp.ErrNoSuchArticle, err)
	}
	rc, err := b.store.Open(id)
	if err != nil {
		return nntp.Overview{}, nil, fmt.Errorf("%w: %w", nntp.ErrNoSuchArticle, err)
	}
	return toOverview(0, a), rc, nil
}

func (b *nntpBackend) NewNews(ctx context.Context, since time.Time, match func(string) bool) ([]string, error) {
	return b.store.NewNews(since, match), nil
}

// Have reports an article arriving now by another session as
// ErrTryLater: CHECK answers 431, IHAVE 436, TAKETHIS 439.
func (b *nntpBackend) Have(ctx context.Context, id string) (bool, error) {
	if b.store.Pending(id) {
		return false, nntp.ErrTryLater
	}
	return b.store.Has(id), nil
}

func (b *nntpBackend) Post(ctx context.Context, a *nntp.Article, user string, peer bool) error {
	groups := a.Newsgroups()
	for _, name := range groups {
		g, err := b.store.Group(name)
		switch {
		case err != nil:
		case peer && g.Status == newsstore.Moderated && !a.Has("Approved"):
			// Approval happens where the article was posted; a feed
			// of an unapproved one is refused, as INN does.
			return &nntp.Error{Code: 437, Msg: "Unapproved article for moderated group " + name}
		case !peer && g.Status == newsstore.ReadOnly:
			return &nntp.Error{Code: 441, Msg: "Posting to read-only newsgroup " + name + " not allowed"}
		}
	}
	if !peer && !a.Has("Approved") {
		for _, name := range groups {
			if g, err := b.store.Group(name); err == nil && g.Status == newsstore.Moderated {
				return b.toModerator(ctx, g.GroupConfig, a)
			}
		}
	}
	in := newsstore.Incoming{
		Overview: newsstore.Overview{Subject: a.Get("Subject"), From: a.Get("From"), Date: a.Get("Date"),
			MessageID: a.Get("Message-ID"), References: a.Get("References")},
		Groups: groups,
		Data:   a.Bytes(),
	}
	art, err := b.store.Add(ctx, in)
	for _, n := range art.Numbers {
		b.d.hub().posted("nntp", n.Group, n.N)
	}
	if err == nil && !peer {
		b.mailFollowup(ctx, a)
	}
	switch {
	case errors.Is(err, newsstore.ErrDuplicate):
		return fmt.Errorf("%w: %w", nntp.ErrNotWanted, err)
	case errors.Is(err, newsstore.ErrNoGroups):
		return &nntp.Error{Code: 441, Msg: "No such newsgroup"}
	}
	return err
}

// newsMail is how news reaches mail: a moderator's submissions. The
// SMTP service sets it when it is built (before NNTP, by rank).
var newsMail sync.Map // *Daemon -> newsMailer

// newsMailer sends one message to one address, locally or through the queue.
type newsMailer func(ctx context.Context, from, rcpt string, msg []byte) error

// toModerator mails an unapproved article to its group's moderator
// (RFC 5537 section 3.5.1) and tells the poster it was accepted.
func (b *nntpBackend) toModerator(ctx context.Context, g newsstore.GroupConfig, a *nntp.Article) error {
	m, ok := newsMail.Load(b.d)
	if !ok {
		return &nntp.Error{Code: 441, Msg: "Moderated group and no mail service to reach its moderator"}
	}
	rcpt := g.Moderator
	var msg bytes.Buffer
	fmt.Fprintf(&msg, "To: %s\r\nX-Plumb-Moderated-Group: %s\r\n", rcpt, g.Name)
	a.WriteTo(&msg)
	if err := m.(newsMailer)(ctx, "", rcpt, msg.Bytes()); err != nil {
		b.log.Error("nntp: mailing the moderator", "group", g.Name, "moderator", rcpt, "err", err)
		return &nntp.Error{Code: 441, Msg: "Cannot reach the moderator now"}
	}
	b.log.Info("nntp: article mailed to the moderator", "group", g.Name, "id", a.Get("Message-ID"))
	return nil
}
