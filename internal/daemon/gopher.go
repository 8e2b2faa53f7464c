package daemon

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/plumbnet/plumb/gopher"
	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/filestore"
)

// GopherConfig is the [gopher] section: the plain listener, which also
// takes TLS from clients that start with a handshake, and [gopher.tls],
// implicit TLS. Both serve the anonymous area of the file tree under
// "/" and each account's user_dir under "/~user/".
type GopherConfig struct {
	Listener
	TLS         Listener `toml:"tls" comment:"gopher over implicit TLS (gophers://)"`
	DetectTLS   bool     `toml:"detect_tls" comment:"On the plain port, serve a connection whose first byte starts a TLS handshake over TLS (gophers:// clients), any other in plain text"`
	PublicHost  string   `toml:"public_host" comment:"Host named in menus; empty: the address the client connected to"`
	PublicPort  int      `toml:"public_port" comment:"Port named in menus; 0: the port the client connected to"`
	UserDir     string   `toml:"user_dir" comment:"Directory in each account's home served as /~user/ (the anonymous area is /); empty: no user trees"`
	Search      bool     `toml:"search" comment:"Offer a type-7 search over file names at the top of each tree"`
	MaxSelector int      `toml:"max_selector_bytes" comment:"Longest request line; a longer one gets a type-3 error"`
}

const gopherSection section[GopherConfig] = "gopher"

//go:embed defaults/gopher.toml
var gopherDefaults string

func init() {
	register(gopherSection, protocol{rank: 70, defaults: gopherDefaults, build: buildGopher,
		comment: "gopher (RFC 1436), with TLS detected on the plain port; [gopher.tls] is implicit TLS"})
}

// check finds what is wrong with the [gopher] section, for LoadConfig.
func (c *GopherConfig) check(*Config) error {
	if c.PublicPort < 0 || c.PublicPort > 65535 {
		return fmt.Errorf("gopher.public_port %d: want 0 (the port connected to) or a port number", c.PublicPort)
	}
	if strings.ContainsAny(c.PublicHost, "\t\r\n\x00 /") {
		return fmt.Errorf("gopher.public_host %q: want a host name or address", c.PublicHost)
	}
	if d := c.UserDir; d != "" && (d != path.Clean(d) || path.IsAbs(d) || d == "." || strings.HasPrefix(d, "..") || strings.ContainsAny(d, "\\\x00")) {
		return fmt.Errorf("gopher.user_dir %q: want a directory name inside the home, like \"public_gopher\"", d)
	}
	if c.MaxSelector < 0 || c.MaxSelector > 64<<10 {
		return fmt.Errorf("gopher.max_selector_bytes %d: want 0 (the default, %d) up to 65536", c.MaxSelector, gopher.DefaultMaxSelectorLength)
	}
	return nil
}

// gopherBusy is what a connection over a limit is told before it is closed.
var gopherBusy = []byte("3Too many connections, try again later\t\terror.host\t1\r\n.\r\n")

func buildGopher(d *Daemon) ([]Service, error) {
	cfg := gopherSection.of(d.Config())
	if !cfg.Enabled && !cfg.TLS.Enabled {
		return nil, nil
	}
	store, err := d.FileStore()
	if err != nil {
		return nil, err
	}
	be := &gopherBackend{store: store, accounts: d.Accounts(), userDir: cfg.UserDir}
	d.addComponent("gopher tree", be)
	log := d.Logger().With("service", "gopher")
	newServer := func(detect bool) *gopher.Server {
		s := &gopher.Server{
			Backend:           be,
			Hostname:          cfg.PublicHost,
			Port:              cfg.PublicPort,
			Logger:            log,
			IdleTimeout:       d.IdleTimeout(),
			LineTimeout:       d.LineTimeout(),
			MaxSelectorLength: cfg.MaxSelector,
			NoSearch:          !cfg.Search,
		}
		if detect {
			s.TLSConfig = d.TLSConfig()
		}
		return s
	}
	var services []Service
	if cfg.Enabled {
		services = append(services, Service{Name: "gopher", Net: "tcp", Addr: d.Addr(cfg.Addr), Busy: gopherBusy,
			MaxConns: cfg.MaxConns, ProxyProtocol: cfg.ProxyProtocol, Stream: newServer(cfg.DetectTLS)})
	}
	if cfg.TLS.Enabled {
		srv := newServer(true)
		services = append(services, Service{Name: "gophers", Net: "tcp", Addr: d.Addr(cfg.TLS.Addr), TLS: true,
			TLSConfig: srv.ListenerTLSConfig(), MaxConns: cfg.TLS.MaxConns, ProxyProtocol: cfg.TLS.ProxyProtocol, Stream: srv})
	}
	return services, nil
}

// gopherBackend adapts the file store and the accounts to gopher.Backend:
// the anonymous area, read-only, is "/"; an account's user_dir is
// "/~name/". It is a component only to close the anonymous tree, which
// every request shares, when the daemon stops.
type gopherBackend struct {
	store    *filestore.Store
	accounts *accounts.DB
	userDir  string

	mu   sync.Mutex
	anon *filestore.Tree // opened by the first request that finds it
}

var (
	_ gopher.Backend    = (*gopherBackend)(nil)
	_ gopher.UserLister = (*gopherBackend)(nil)
)

// maxGopherUsers bounds the "~" list of a gophermap.
const maxGopherUsers = 1000

func (b *gopherBackend) Start(context.Context) error { return nil }

func (b *gopherBackend) Stop(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.anon != nil {
		err := b.anon.Close()
		b.anon = nil
		return err
	}
	return nil
}

// anonymous returns the anonymous tree, opening it if it is not open
// yet: a failure is tried again by the next request.
func (b *gopherBackend) anonymous(ctx context.Context) (*filestore.Tree, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.anon == nil {
		t, err := b.store.Anonymous(ctx, filestore.Limits{ReadOnly: true})
		if err != nil {
			return nil, err
		}
		b.anon = t
	}
	return b.anon, nil
}

func (b *gopherBackend) Tree(ctx context.Context, user string) (gopher.FS, error) {
	if user == "" {
		t, err := b.anonymous(ctx)
		if err != nil {
			return nil, err
		}
		return gopherTree{t}, nil
	}
	if b.userDir == "" {
		return nil, fs.ErrNotExist
	}
	u, ok := b.accounts.Lookup(user)
	if !ok {
		return nil, fs.ErrNotExist
	}
	// A read-only service neither makes a missing home nor walks it.
	home, err := b.store.HomeIfExists(ctx, u.HomeName())
	if err != nil {
		return nil, notExist(err)
	}
	defer home.Close()
	// user_dir is a tree of its own, so that a symbolic link in it
	// cannot reach the rest of the home.
	t, err := home.Sub(ctx, b.userDir)
	if err != nil {
		return nil, notExist(err)
	}
	return gopherUserTree{gopherTree{t}}, nil
}

// notExist turns the errors of opening a user's tree into "no such
// user", but for the request's end.
func notExist(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fs.ErrNotExist
}

// Users lists the accounts that have a user_dir to serve.
func (b *gopherBackend) Users(ctx context.Context) ([]string, error) {
	var names []string
	for _, a := range b.accounts.List() {
		if len(names) >= maxGopherUsers || ctx.Err() != nil {
			break
		}
		t, err := b.Tree(ctx, a.Name)
		if err != nil {
			continue
		}
		t.(io.Closer).Close()
		names = append(names, a.Name)
	}
	sort.Strings(names)
	return names, nil
}

// gopherTree is a filestore.Tree as a gopher.FS.
type gopherTree struct{ t *filestore.Tree }

func (g gopherTree) Stat(ctx context.Context, name string) (fs.FileInfo, error) {
	return g.t.Stat(ctx, name)
}

func (g gopherTree) ReadDir(ctx context.Context, name string, n int) ([]fs.FileInfo, error) {
	return g.t.ReadDirN(ctx, name, n)
}

func (g gopherTree) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	f, err := g.t.Open(ctx, name)
	if errors.Is(err, filestore.ErrIsDir) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

// gopherUserTree is a user's tree, opened for one request and closed
// after it.
type gopherUserTree struct{ gopherTree }

func (g gopherUserTree) Close() error { return g.t.Close() }
