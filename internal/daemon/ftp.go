package daemon

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/plumbnet/plumb/ftp"
	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/filestore"
)

// FTPConfig is the [ftp] section: plain FTP with AUTH TLS, and
// [ftp.ftps], implicit FTPS. Both serve the file tree of [files].
type FTPConfig struct {
	Listener
	FTPS                Listener `toml:"ftps" comment:"FTP over implicit TLS (the port 990 convention)"`
	PassivePorts        string   `toml:"passive_ports" comment:"Ports of passive data connections, \"30000-30999\", picked at random; empty: any the kernel gives"`
	PassiveAddress      string   `toml:"passive_address" comment:"IPv4 address PASV advertises, behind NAT or a PROXY-protocol balancer; empty: this server's own address of the control connection"`
	PassiveTimeout      Duration `toml:"passive_timeout" comment:"Close a passive listener no data connection came to; also bounds active connects"`
	DataTimeout         Duration `toml:"data_timeout" comment:"Abort a transfer that moves no byte for this long"`
	RequireTLS          string   `toml:"require_tls" comment:"When a login needs TLS: \"except-loopback\", \"always\" or \"never\" (anonymous logins never need it)"`
	RequireSessionReuse bool     `toml:"require_session_reuse" comment:"Under PROT P, refuse a data connection that does not resume the control connection's TLS session"`
	Anonymous           bool     `toml:"anonymous" comment:"Let \"anonymous\" and \"ftp\" log in, with any password, to the anonymous area"`
	MaxLoginFailures    int      `toml:"max_login_failures" comment:"Failed logins before a connection is closed"`
	Welcome             string   `toml:"welcome" comment:"Text of the 220 greeting"`
}

const ftpSection section[FTPConfig] = "ftp"

//go:embed defaults/ftp.toml
var ftpDefaults string

func init() {
	register(ftpSection, protocol{rank: 21, defaults: ftpDefaults, build: buildFTP,
		comment: "FTP (RFC 959) with AUTH TLS; [ftp.ftps] is implicit FTPS"})
}

// check finds what is wrong with the [ftp] section, for LoadConfig.
func (c *FTPConfig) check(*Config) error {
	if _, _, err := parsePortRange(c.PassivePorts); err != nil {
		return err
	}
	if _, err := parsePassiveAddress(c.PassiveAddress); err != nil {
		return err
	}
	if _, err := parseTLSPolicy(c.RequireTLS); err != nil {
		return err
	}
	for _, t := range []struct {
		key string
		d   Duration
	}{{"ftp.passive_timeout", c.PassiveTimeout}, {"ftp.data_timeout", c.DataTimeout}} {
		if t.d.Duration <= 0 {
			return fmt.Errorf("%s %q: want more than 0 (a data connection without a timeout could be held open forever)", t.key, t.d.Duration)
		}
	}
	return nil
}

// parsePassiveAddress parses ftp.passive_address; empty gives the zero Addr.
func parsePassiveAddress(s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Unmap().Is4() {
		return netip.Addr{}, fmt.Errorf("ftp.passive_address %q: want an IPv4 address", s)
	}
	return a, nil
}

// parseTLSPolicy parses ftp.require_tls.
func parseTLSPolicy(s string) (ftp.TLSPolicy, error) {
	switch s {
	case "except-loopback", "":
		return ftp.TLSRequiredExceptLoopback, nil
	case "always":
		return ftp.TLSRequired, nil
	case "never":
		return ftp.TLSOptional, nil
	}
	return 0, fmt.Errorf("ftp.require_tls %q: want \"except-loopback\", \"always\" or \"never\"", s)
}

// ftpBusy is what a connection over a limit is told before it is closed.
var ftpBusy = []byte("421 Too many connections, try again later\r\n")

func buildFTP(d *Daemon) ([]Service, error) {
	cfg := ftpSection.of(d.Config())
	if !cfg.Enabled && !cfg.FTPS.Enabled {
		return nil, nil
	}
	// LoadConfig has checked these; the errors cannot happen here.
	lo, hi, err := parsePortRange(cfg.PassivePorts)
	if err != nil {
		return nil, err
	}
	advertise, err := parsePassiveAddress(cfg.PassiveAddress)
	if err != nil {
		return nil, err
	}
	policy, err := parseTLSPolicy(cfg.RequireTLS)
	if err != nil {
		return nil, err
	}
	store, err := d.FileStore()
	if err != nil {
		return nil, err
	}
	files := d.Config().Files
	be := &ftpBackend{
		accounts: d.Accounts(), store: store, anonymous: cfg.Anonymous, presence: d.Presence(), events: d.events,
		limits:     filestore.Limits{Quota: files.Quota, MaxFileSize: files.MaxFileSize},
		anonLimits: filestore.Limits{Quota: files.Quota, MaxFileSize: files.MaxFileSize, ReadOnly: !files.AnonymousWritable},
	}
	log := d.Logger().With("service", "ftp")
	newServer := func() *ftp.Server {
		return &ftp.Server{
			Backend:                be,
			TLSConfig:              d.TLSConfig(),
			LoginTLS:               policy,
			AllowDataSessionChange: !cfg.RequireSessionReuse,
			PassivePortMin:         lo,
			PassivePortMax:         hi,
			PassiveAddress:         advertise,
			PassiveTimeout:         cfg.PassiveTimeout.Duration,
			DataTimeout:            cfg.DataTimeout.Duration,
			IdleTimeout:            d.IdleTimeout(),
			LineTimeout:            d.LineTimeout(),
			MaxLoginFailures:       cfg.MaxLoginFailures,
			Welcome:                cfg.Welcome,
			Logger:                 log,
			SessionReuseSetting:    "ftp.require_session_reuse",
			AdmitDataConn:          d.admitFTPData,
		}
	}
	var services []Service
	if cfg.Enabled {
		services = append(services, Service{Name: "ftp", Net: "tcp", Addr: d.Addr(cfg.Addr), Busy: ftpBusy,
			MaxConns: cfg.MaxConns, ProxyProtocol: cfg.ProxyProtocol, Stream: newServer()})
	}
	if cfg.FTPS.Enabled {
		// The listener's TLS config is the ftp server's own: it marks the
		// session tickets it issues, so that data connections can be
		// checked to resume their control connection's session.
		srv := newServer()
		services = append(services, Service{Name: "ftps", Net: "tcp", Addr: d.Addr(cfg.FTPS.Addr), TLS: true,
			TLSConfig: srv.ListenerTLSConfig(), MaxConns: cfg.FTPS.MaxConns, ProxyProtocol: cfg.FTPS.ProxyProtocol, Stream: srv})
	}
	return services, nil
}

// admitFTPData puts an FTP data connection under the limits, metrics
// and idle janitor of its control connection's service, counted against
// the same client as a related connection: it spends no accept-rate
// token (see [Daemon.admitConn]).
func (d *Daemon) admitFTPData(control, data net.Conn) (net.Conn, error) {
	ctl, ok := control.(*trackedConn)
	if !ok {
		return data, nil
	}
	tc, reason := d.admitConn(data, ctl.r, ctl.ip, ctl.key, true)
	if reason != "" {
		return nil, fmt.Errorf("daemon: over a connection limit (%s)", reason)
	}
	return sendfileConn{tc}, nil // files go out by sendfile, corked and counted, as HTTP's
}

// parsePortRange parses "30000-30999"; empty gives 0, 0.
func parsePortRange(s string) (lo, hi int, err error) {
	if s == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(s, "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || lo < 1024 || hi > 65535 || lo > hi {
		return 0, 0, fmt.Errorf("ftp.passive_ports %q: want a range like \"30000-30999\" within 1024-65535", s)
	}
	return lo, hi, nil
}

// ftpBackend adapts the account database and the file store to ftp.Backend.
type ftpBackend struct {
	accounts           *accounts.DB
	store              *filestore.Store
	anonymous          bool
	limits, anonLimits filestore.Limits
	presence           *presence
	events             *eventHub
}

func (b *ftpBackend) Login(ctx context.Context, c ftp.ConnInfo, user, password string) (ftp.FS, error) {
	if b.anonymous && (strings.EqualFold(user, "anonymous") || strings.EqualFold(user, "ftp")) {
		t, err := b.store.Anonymous(ctx, b.anonLimits)
		if err != nil {
			return nil, err
		}
		return ftpTree{Tree: t, up: uploadHook{b.events, "ftp", "anonymous"}}, nil
	}
	u, err := b.accounts.Authenticate(ctx, user, password, c.RemoteAddr)
	if err != nil {
		return nil, err
	}
	home := u.HomeName()
	t, err := b.store.Home(ctx, home, b.limits)
	if err != nil {
		return nil, err
	}
	return ftpTree{Tree: t, end: b.presence.LoginConn(u.Name, "ftp", c.LocalAddr, c.RemoteAddr), up: uploadHook{b.events, "ftp", "home/" + home}}, nil
}

// ftpTree is a filestore.Tree as an ftp.FS; it closes with the session.
type ftpTree struct {
	*filestore.Tree
	end func() // ends the session in the presence record; nil for anonymous
	up  uploadHook
}

func (t ftpTree) Close() error {
	if t.end != nil {
		t.end()
	}
	return t.Tree.Close()
}

var (
	_ ftp.FS            = ftpTree{}
	_ ftp.Chmoder       = ftpTree{}
	_ ftp.ModTimeSetter = ftpTree{}
	_ ftp.ReadOnlyFS    = ftpTree{}
	_ io.Closer         = ftpTree{}
)

func (t ftpTree) Open(ctx context.Context, name string) (io.ReadSeekCloser, error) {
	f, err := t.Tree.Open(ctx, name)
	if err != nil {
		return nil, err // not a nil *os.File in a non-nil interface
	}
	return f, nil
}

func (t ftpTree) Create(ctx context.Context, name string, offset int64) (ftp.Upload, error) {
	if offset == ftp.AppendOffset {
		offset = filestore.AppendOffset
	}
	u, err := t.Tree.Create(ctx, name, offset)
	if err != nil {
		return nil, ftpStoreError(err)
	}
	return ftpUpload{u, t.up}, nil
}

func (t ftpTree) Chmod(ctx context.Context, name string, mode fs.FileMode) error {
	return t.Tree.Chmod(ctx, name, mode)
}

// SetModTime is MFMT and SITE UTIME. The access time is set with the
// modification time: MFMT and SITE UTIME carry one time.
func (t ftpTree) SetModTime(ctx context.Context, name string, mtime time.Time) error {
	return t.Tree.Chtimes(ctx, name, mtime, mtime)
}

type ftpUpload struct {
	*filestore.Upload
	up uploadHook
}

func (u ftpUpload) Commit(ctx context.Context) error { return u.up.commit(ctx, u.Upload) }

func (u ftpUpload) Write(p []byte) (int, error) {
	n, err := u.Upload.Write(p)
	return n, ftpStoreError(err)
}

// ftpStoreError gives the store's limit errors the ftp package's names,
// which choose the 552 reply.
func ftpStoreError(err error) error {
	switch {
	case errors.Is(err, filestore.ErrQuota):
		return fmt.Errorf("%w: %w", ftp.ErrQuotaExceeded, err)
	case errors.Is(err, filestore.ErrTooLarge):
		return fmt.Errorf("%w: %w", ftp.ErrFileTooLarge, err)
	}
	return err
}
