package daemon

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/mailstore"
	"github.com/plumbnet/plumb/pop3"
)

// POP3Config is the [pop3] section: the plain listener (with STLS) and
// [pop3.pop3s], implicit TLS.
type POP3Config struct {
	Listener
	POP3S           Listener `toml:"pop3s" comment:"POP3 over implicit TLS (RFC 8314)"`
	MaxBadCommands  int      `toml:"max_bad_commands" comment:"Unknown or malformed commands before a connection is closed"`
	MaxAuthFailures int      `toml:"max_auth_failures" comment:"Failed logins before a connection is closed"`
	InsecureAuth    bool     `toml:"insecure_auth" comment:"Accept passwords without TLS from clients not on loopback (not recommended)"`
}

const pop3Section section[POP3Config] = "pop3"

//go:embed defaults/pop3.toml
var pop3Defaults string

func init() {
	register(pop3Section, protocol{rank: 110, defaults: pop3Defaults, build: buildPOP3,
		comment: "POP3 (RFC 1939) with STLS; [pop3.pop3s] is implicit TLS (RFC 8314)"})
}

// pop3Busy is what a connection over a limit is told before it is closed.
var pop3Busy = []byte("-ERR [SYS/TEMP] Too many connections, try again later\r\n")

func buildPOP3(d *Daemon) ([]Service, error) {
	cfg := pop3Section.of(d.Config())
	if !cfg.Enabled && !cfg.POP3S.Enabled {
		return nil, nil
	}
	store, err := d.MailStore()
	if err != nil {
		return nil, err
	}
	be := &pop3Backend{accounts: d.Accounts(), store: store, presence: d.Presence(), log: d.Logger().With("service", "pop3"), events: d.events}
	newServer := func() *pop3.Server {
		return &pop3.Server{
			Backend:         be,
			TLSConfig:       d.TLSConfig(),
			Logger:          be.log,
			IdleTimeout:     d.IdleTimeout(),
			LineTimeout:     d.LineTimeout(),
			MaxBadCommands:  cfg.MaxBadCommands,
			MaxAuthFailures: cfg.MaxAuthFailures,
			InsecureAuth:    cfg.InsecureAuth,
		}
	}
	var services []Service
	if cfg.Enabled {
		services = append(services, Service{Name: "pop3", Net: "tcp", Addr: d.Addr(cfg.Addr), Busy: pop3Busy,
			MaxConns: cfg.MaxConns, ProxyProtocol: cfg.ProxyProtocol, Stream: newServer()})
	}
	if cfg.POP3S.Enabled {
		services = append(services, Service{Name: "pop3s", Net: "tcp", Addr: d.Addr(cfg.POP3S.Addr), TLS: true,
			MaxConns: cfg.POP3S.MaxConns, ProxyProtocol: cfg.POP3S.ProxyProtocol, Stream: newServer()})
	}
	return services, nil
}

// pop3Backend adapts the account database and the mail store to pop3.Backend.
type pop3Backend struct {
	accounts *accounts.DB
	store    *mailstore.Store
	presence *presence
	log      *slog.Logger
	events   *eventHub // mail-change events of deletions; nil publishes none
}

var _ pop3.APOPBackend = (*pop3Backend)(nil)

func (b *pop3Backend) Login(ctx context.Context, c pop3.ConnInfo, username, password string) (pop3.Maildrop, error) {
	u, err := b.accounts.Authenticate(ctx, username, password, c.RemoteAddr)
	if err != nil {
		return nil, authError(err)
	}
	return b.open(ctx, c, u)
}

func (b *pop3Backend) LoginAPOP(ctx context.Context, c pop3.ConnInfo, username, timestamp, digest string) (pop3.Maildrop, error) {
	u, err := b.accounts.VerifyAPOP(ctx, username, timestamp, digest, c.RemoteAddr)
	if err != nil {
		return nil, authError(err)
	}
	return b.open(ctx, c, u)
}

func authError(err error) error {
	if errors.Is(err, accounts.ErrAuthFailed) {
		return fmt.Errorf("%w: %w", pop3.ErrAuthFailed, err)
	}
	return err
}

// open locks the user's inbox for the session.
func (b *pop3Backend) open(ctx context.Context, c pop3.ConnInfo, u accounts.User) (pop3.Maildrop, error) {
	mb, err := b.store.Lock(ctx, u.Home, mailstore.Inbox)
	if errors.Is(err, mailstore.ErrLocked) {
		return nil, fmt.Errorf("%w: %w", pop3.ErrLocked, err)
	}
	if err != nil {
		return nil, err
	}
	return &pop3Drop{mb: mb, end: b.presence.LoginConn(u.Name, "pop3", c.LocalAddr, c.RemoteAddr), user: u.Home, events: b.events}, nil
}

// pop3Drop is one session's view of an inbox. Its unique ids are
// "<UIDVALIDITY>.<UID>", so they stay unique even if the folder's UID
// list has to be rebuilt.
type pop3Drop struct {
	mb       *mailstore.Mailbox
	end      func() // ends the session in the presence record
	validity string
	sizes    map[uint32]int64 // file sizes, by UID
	user     string
	events   *eventHub
}

func (p *pop3Drop) Messages(ctx context.Context) ([]pop3.Message, error) {
	msgs, err := p.mb.Messages(ctx)
	if err != nil {
		return nil, err
	}
	v, _, err := p.mb.UIDValidity()
	if err != nil {
		return nil, err
	}
	p.validity = strconv.FormatUint(uint64(v), 10)
	out := make([]pop3.Message, len(msgs))
	p.sizes = make(map[uint32]int64, len(msgs))
	for i, m := range msgs {
		p.sizes[m.UID] = m.Size
		size, err := p.mb.CRLFSize(m)
		if err != nil {
			return nil, err
		}
		out[i] = pop3.Message{UID: p.validity + "." + strconv.FormatUint(uint64(m.UID), 10), Size: size}
	}
	return out, nil
}

func (p *pop3Drop) uid(s string) (uint32, error) {
	v, u, ok := strings.Cut(s, ".")
	n, err := strconv.ParseUint(u, 10, 32)
	if !ok || v != p.validity || err != nil {
		return 0, fmt.Errorf("pop3: unique id %q is not of this session", s)
	}
	return uint32(n), nil
}

func (p *pop3Drop) Open(ctx context.Context, uid string) (io.ReadCloser, error) {
	n, err := p.uid(uid)
	if err != nil {
		return nil, err
	}
	f, err := p.mb.Open(n)
	if err != nil {
		return nil, err
	}
	// Reading exactly the known size spares the read that finds EOF.
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, p.sizes[n]), f}, nil
}

func (p *pop3Drop) Delete(ctx context.Context, uids []string) error {
	nums := make([]uint32, 0, len(uids))
	for _, s := range uids {
		n, err := p.uid(s)
		if err != nil {
			return err
		}
		nums = append(nums, n)
	}
	// The session's context ends with the connection; the deletion the
	// client asked for with QUIT must still finish.
	err := p.mb.Delete(context.WithoutCancel(ctx), nums...)
	if err == nil {
		p.events.mailChangedUIDs("pop3", p.user, mailstore.Inbox, nums...)
	}
	return err
}

func (p *pop3Drop) Close() error {
	p.end()
	return p.mb.Close()
}
