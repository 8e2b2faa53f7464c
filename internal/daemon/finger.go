package daemon

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plumbnet/plumb/finger"
	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/filestore"
	"github.com/plumbnet/plumb/internal/mailstore"
)

// FingerConfig is the [finger] section.
type FingerConfig struct {
	Listener
	Fields         []string `toml:"fields" comment:"What a query for a user shows: name, last_login, mail (unread count), plan (.plan), project (.project, /W only), sessions (open now, /W only)"`
	ListUsers      bool     `toml:"list_users" comment:"Answer the empty query with the users logged in now (names of accounts, to anyone who asks)"`
	Forward        bool     `toml:"forward" comment:"Forward user@host queries to port 79 of host, one hop (lets clients make this server connect anywhere)"`
	ForwardTimeout Duration `toml:"forward_timeout" comment:"A forwarded query must be answered within this long"`
	QueryTimeout   Duration `toml:"query_timeout" comment:"A connection must send its query within this long"`
	MaxPlanBytes   int      `toml:"max_plan_bytes" comment:"Bytes of .plan and of .project shown at most"`
}

const fingerSection section[FingerConfig] = "finger"

//go:embed defaults/finger.toml
var fingerDefaults string

func init() {
	register(fingerSection, protocol{rank: 79, defaults: fingerDefaults, build: buildFinger,
		comment: "finger (RFC 1288) about the accounts, their logins, mail and .plan"})
}

// fingerFields are the fields [finger] fields may name.
var fingerFields = []string{"name", "last_login", "mail", "plan", "project", "sessions"}

// maxPlanBytes bounds max_plan_bytes.
const maxPlanBytes = 64 << 10

// check finds what is wrong with the [finger] section, for LoadConfig.
func (c *FingerConfig) check(*Config) error {
	for _, f := range c.Fields {
		if !slices.Contains(fingerFields, f) {
			return fmt.Errorf("finger.fields: unknown field %q (want some of %s)", f, strings.Join(fingerFields, ", "))
		}
	}
	if c.MaxPlanBytes < 0 || c.MaxPlanBytes > maxPlanBytes {
		return fmt.Errorf("finger.max_plan_bytes %d: want 0 to %d", c.MaxPlanBytes, maxPlanBytes)
	}
	if c.ForwardTimeout.Duration < 0 || c.QueryTimeout.Duration < 0 {
		return errors.New("finger: forward_timeout and query_timeout may not be negative")
	}
	return nil
}

// fingerBusy is what a connection over a limit is told before it is closed.
var fingerBusy = []byte("finger: too many connections, try again later\r\n")

func buildFinger(d *Daemon) ([]Service, error) {
	cfg := fingerSection.of(d.Config())
	if !cfg.Enabled {
		return nil, nil
	}
	be := &fingerBackend{accounts: d.Accounts(), presence: d.Presence(), fields: map[string]bool{},
		maxPlan: int64(cfg.MaxPlanBytes), log: d.Logger().With("service", "finger"), now: time.Now}
	for _, f := range cfg.Fields {
		be.fields[f] = true
	}
	var err error
	// The file tree holds .nofinger, so it is needed whatever the fields.
	if be.files, err = d.FileStore(); err != nil {
		return nil, err
	}
	if be.fields["mail"] {
		if be.mail, err = d.MailStore(); err != nil {
			return nil, err
		}
	}
	srv := &finger.Server{
		Backend:        be,
		ListUsers:      cfg.ListUsers,
		Forward:        cfg.Forward,
		ForwardTimeout: cfg.ForwardTimeout.Duration,
		IdleTimeout:    cfg.QueryTimeout.Duration,
		LineTimeout:    d.LineTimeout(),
		Logger:         be.log,
	}
	return []Service{{Name: "finger", Net: "tcp", Addr: d.Addr(cfg.Addr), Busy: fingerBusy,
		MaxConns: cfg.MaxConns, ProxyProtocol: cfg.ProxyProtocol, Stream: srv}}, nil
}

// fingerBackend tells about the accounts from the account database, the
// presence record, the mail store and each user's file tree.
type fingerBackend struct {
	accounts *accounts.DB
	presence *presence
	files    *filestore.Store
	mail     *mailstore.Store // nil when mail is not shown
	fields   map[string]bool
	maxPlan  int64
	log      *slog.Logger
	now      func() time.Time // time.Now; tests set it

	mu     sync.Mutex
	counts map[string]*unreadCount // by account: unread counts kept a while
}

var (
	_ finger.Backend = (*fingerBackend)(nil)
	_ finger.Lister  = (*fingerBackend)(nil)
)

// fingerable returns the account name asks for and its home's tree
// (nil when it has no home yet), unless it has opted out with a
// .nofinger in its home: then, as for no account, ok is false.
func (b *fingerBackend) fingerable(ctx context.Context, name string) (accounts.User, *filestore.Tree, bool, error) {
	u, ok := b.accounts.Lookup(name)
	if !ok {
		return accounts.User{}, nil, false, nil
	}
	// Asked by anyone: a missing home is not made, nor a home walked.
	t, err := b.files.HomeIfExists(ctx, u.HomeName())
	if errors.Is(err, fs.ErrNotExist) {
		return u, nil, true, nil // no home: no .nofinger, no .plan
	}
	if err != nil {
		return u, nil, false, err
	}
	if _, err := t.Stat(ctx, ".nofinger"); !errors.Is(err, fs.ErrNotExist) {
		t.Close()
		return u, nil, false, nil // present, or not known to be absent: hide
	}
	return u, t, true, nil
}

func (b *fingerBackend) User(ctx context.Context, c finger.ConnInfo, name string, verbose bool) (*finger.Entry, error) {
	u, tree, ok, err := b.fingerable(ctx, name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, finger.ErrNoSuchUser
	}
	if tree != nil {
		defer tree.Close()
	}
	e := &finger.Entry{Login: u.Name}
	if b.fields["name"] {
		e.Name = u.FullName
	}
	if b.fields["last_login"] {
		e.LastLoginShown = true
		if l, ok := b.presence.Last(u.Name); ok {
			e.LastLogin = finger.Login{User: u.Name, Protocol: l.Protocol, Since: l.Time}
		}
	}
	if verbose && b.fields["sessions"] {
		for _, s := range b.presence.Sessions(u.Name) {
			e.Sessions = append(e.Sessions, finger.Login{User: s.user, Protocol: s.protocol, Since: s.since})
		}
	}
	if b.fields["mail"] {
		n, err := b.unread(ctx, u)
		if err != nil {
			return nil, err
		}
		e.Mail = &finger.MailStatus{Unread: n}
	}
	if b.fields["plan"] {
		p := b.readText(ctx, tree, ".plan")
		e.Plan = &p
	}
	if verbose && b.fields["project"] {
		p := b.readText(ctx, tree, ".project")
		e.Project = &p
	}
	return e, nil
}

// unreadTTL is how long an unread count is kept: queries, from anyone,
// list an inbox at most once per interval.
const unreadTTL = 10 * time.Second

// maxUnreadCache bounds the counts kept; when full it starts over.
const maxUnreadCache = 1024

// unreadCount is one user's count, being made while done is open.
type unreadCount struct {
	done chan struct{}
	at   time.Time
	n    int
	err  error
}

// unread counts the messages of u's inbox not seen yet: those still in
// new/ and those without the Seen flag. A count made in the last
// unreadTTL is answered again; queries that come while it is made wait
// for it.
func (b *fingerBackend) unread(ctx context.Context, u accounts.User) (int, error) {
	now := b.now()
	b.mu.Lock()
	c, ok := b.counts[u.Name]
	if !ok || (c.at != time.Time{} && now.Sub(c.at) >= unreadTTL) {
		if b.counts == nil || len(b.counts) >= maxUnreadCache {
			b.counts = map[string]*unreadCount{}
		}
		c = &unreadCount{done: make(chan struct{})}
		b.counts[u.Name] = c
		b.mu.Unlock()
		c.n, c.err = b.countUnread(ctx, u)
		b.mu.Lock()
		if c.err != nil {
			delete(b.counts, u.Name) // tried again by the next query
		} else {
			c.at = now
		}
		b.mu.Unlock()
		close(c.done)
		return c.n, c.err
	}
	b.mu.Unlock()
	select {
	case <-c.done:
		return c.n, c.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (b *fingerBackend) countUnread(ctx context.Context, u accounts.User) (int, error) {
	mb, err := b.mail.Mailbox(ctx, u.Home, mailstore.Inbox)
	if err != nil {
		return 0, err
	}
	defer mb.Close()
	msgs, err := mb.Messages(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range msgs {
		if m.Recent || !m.Flags.Has('S') {
			n++
		}
	}
	return n, nil
}

// readText returns at most maxPlan bytes of a regular file of the tree,
// marked when cut; a missing or unreadable file is "".
func (b *fingerBackend) readText(ctx context.Context, t *filestore.Tree, name string) string {
	if t == nil {
		return "" // no home
	}
	fi, err := t.Stat(ctx, name)
	if err != nil || !fi.Mode().IsRegular() || b.maxPlan == 0 {
		return "" // not a FIFO or a device, which could block the open
	}
	f, err := t.Open(ctx, name)
	if err != nil {
		return ""
	}
	defer f.Close()
	buf, err := io.ReadAll(io.LimitReader(f, b.maxPlan+1))
	if err != nil {
		b.log.Warn("finger: reading a user's file", "file", name, "err", err)
		return ""
	}
	if int64(len(buf)) > b.maxPlan {
		return string(buf[:b.maxPlan]) + "\n[cut at " + fmt.Sprint(b.maxPlan) + " bytes]"
	}
	return string(buf)
}

// LoggedIn lists the sessions open now, leaving out users who opted out.
func (b *fingerBackend) LoggedIn(ctx context.Context, c finger.ConnInfo) ([]finger.Login, error) {
	var out []finger.Login
	users := map[string]*accounts.User{} // nil: not shown
	for _, s := range b.presence.Sessions("") {
		u, seen := users[s.user]
		if !seen {
			acct, t, ok, err := b.fingerable(ctx, s.user)
			if err != nil {
				return nil, err
			}
			if ok {
				if t != nil {
					t.Close()
				}
				u = &acct
			}
			users[s.user] = u
		}
		if u == nil {
			continue
		}
		l := finger.Login{User: u.Name, Protocol: s.protocol, Since: s.since}
		if b.fields["name"] {
			l.Name = u.FullName
		}
		out = append(out, l)
	}
	return out, nil
}
