package daemon

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plumbnet/plumb/httpfs"
	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/chaos"
	"github.com/plumbnet/plumb/internal/filestore"
)

// HTTPConfig is the [http] section: plain HTTP, and [http.https], HTTPS
// with HTTP/2. Both serve the file tree of [files].
type HTTPConfig struct {
	Listener
	HTTPS             Listener `toml:"https" comment:"HTTPS with HTTP/2 (the port 443 convention)"`
	AccessLog         string   `toml:"access_log" comment:"Combined Log Format access log: \"-\" into the daemon's log, a file name (relative to the data directory; written at most a second late), or \"\" for none"`
	CGIDir            string   `toml:"cgi_dir" comment:"Directory of CGI scripts (relative to the data directory) served at /cgi-bin/NAME; empty: no CGI"`
	Compress          bool     `toml:"compress" comment:"gzip text responses for clients that accept it"`
	MaxHeaderBytes    int      `toml:"max_header_bytes" comment:"Bytes a request's header may have (431 over it)"`
	MaxBodyBytes      int64    `toml:"max_body_bytes" comment:"Bytes a request body (an upload) may have (413 over it); 0: only [files] max_file_bytes"`
	RequestRate       float64  `toml:"requests_per_second" comment:"Requests per second from one client IP (IPv6: its /64; 429 over it); 0 means no limit"`
	RequestBurst      int      `toml:"request_burst" comment:"Requests one IP may make at once above the rate; 0: the rate's worth"`
	ReadHeaderTimeout Duration `toml:"read_header_timeout" comment:"A request's header must arrive whole within this long (slowloris)"`
	ReadTimeout       Duration `toml:"read_timeout" comment:"A whole request, with its body, must arrive within this long"`
	KeepAlive         Duration `toml:"keepalive_timeout" comment:"Close a kept-alive connection idle between requests for this long"`
	Console           bool     `toml:"console" comment:"Serve the web console at /console/ to accounts that log in (HTTP Basic, over TLS or from loopback): each sees its own mail and home; admin.operators see everything"`
}

const httpSection section[HTTPConfig] = "http"

//go:embed defaults/http.toml
var httpDefaults string

func init() {
	register(httpSection, protocol{rank: 80, defaults: httpDefaults, build: buildHTTP,
		comment: "HTTP/1.1 and WebDAV (RFC 9110, 4918); [http.https] is HTTPS with HTTP/2"})
}

// check finds what is wrong with the [http] section, for LoadConfig.
func (c *HTTPConfig) check(*Config) error {
	for _, t := range []struct {
		key string
		d   Duration
	}{{"http.read_header_timeout", c.ReadHeaderTimeout}, {"http.read_timeout", c.ReadTimeout}, {"http.keepalive_timeout", c.KeepAlive}} {
		if t.d.Duration <= 0 {
			return fmt.Errorf("%s %q: want more than 0 (a connection without it could be held open forever)", t.key, t.d.Duration)
		}
	}
	if c.MaxHeaderBytes < 0 || c.MaxBodyBytes < 0 || c.RequestRate < 0 || c.RequestBurst < 0 {
		return errors.New("http: max_header_bytes, max_body_bytes, requests_per_second and request_burst must not be negative")
	}
	return nil
}

// httpMounts are the handlers other files of the daemon mount on the
// HTTP service by path (XML-RPC's "/RPC2"), built with the service.
var httpMounts = map[string]func(d *Daemon) (http.Handler, error){}

// registerHTTPHandler mounts what build returns at path on the HTTP
// and HTTPS services: the exact path, or, ending in "/", all under it.
// It is called from init functions.
func registerHTTPHandler(path string, build func(d *Daemon) (http.Handler, error)) {
	if _, dup := httpMounts[path]; dup {
		panic(fmt.Sprintf("daemon: HTTP path %q mounted twice", path))
	}
	httpMounts[path] = build
}

func buildHTTP(d *Daemon) ([]Service, error) {
	cfg := httpSection.of(d.Config())
	if !cfg.Enabled && !cfg.HTTPS.Enabled {
		return nil, nil
	}
	store, err := d.FileStore()
	if err != nil {
		return nil, err
	}
	files := d.Config().Files
	be := &httpBackend{accounts: d.Accounts(), store: store, homes: map[string]*filestore.Tree{}, events: d.events,
		limits:     filestore.Limits{Quota: files.Quota, MaxFileSize: files.MaxFileSize},
		anonLimits: filestore.Limits{Quota: files.Quota, MaxFileSize: files.MaxFileSize, ReadOnly: !files.AnonymousWritable},
	}
	d.addComponent("http trees", be)
	d.Presence() // opened now: SetUser records HTTP logins in it
	log := d.Logger().With("service", "http")
	handlers := map[string]http.Handler{}
	for path, build := range httpMounts {
		h, err := build(d)
		if err != nil {
			return nil, fmt.Errorf("http %s: %w", path, err)
		}
		handlers[path] = h
	}
	if cfg.Console {
		console, stop := newHTTPConsole(d)
		d.addComponent("http console", stopFunc(stop))
		handlers[httpConsolePath+"/"] = console
		handlers[httpConsolePath] = http.RedirectHandler(httpConsolePath+"/", http.StatusMovedPermanently)
	}
	var access io.Writer
	switch cfg.AccessLog {
	case "":
	case "-":
		access = logLines{log}
	default:
		name := cfg.AccessLog
		if !filepath.IsAbs(name) {
			name = filepath.Join(d.DataDir(), name)
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, fmt.Errorf("http.access_log: %w", err)
		}
		// In batches: a write(2) a second, not one per request.
		bl := httpfs.NewBufferedLog(f, time.Second)
		d.addComponent("http access log", closer{bl})
		access = bl
	}
	cgiDir := cfg.CGIDir
	if cgiDir != "" && !filepath.IsAbs(cgiDir) {
		cgiDir = filepath.Join(d.DataDir(), cgiDir)
	}
	newServer := func() *httpfs.Server {
		return &httpfs.Server{
			Backend:            be,
			Handlers:           handlers,
			MaxHeaderBytes:     cfg.MaxHeaderBytes,
			MaxBodyBytes:       cfg.MaxBodyBytes,
			ReadHeaderTimeout:  cfg.ReadHeaderTimeout.Duration,
			ReadTimeout:        cfg.ReadTimeout.Duration,
			IdleTimeout:        cfg.KeepAlive.Duration,
			RequestRate:        cfg.RequestRate,
			RequestBurst:       cfg.RequestBurst,
			AccessLog:          access,
			CGIDir:             cgiDir,
			DisableCompression: !cfg.Compress,
			Logger:             log,
		}
	}
	var services []Service
	if cfg.Enabled {
		services = append(services, Service{Name: "http", Net: "tcp", Addr: d.Addr(cfg.Addr), Busy: httpBusy,
			MaxConns: cfg.MaxConns, ProxyProtocol: cfg.ProxyProtocol, Stream: httpService{newServer()}})
	}
	if cfg.HTTPS.Enabled {
		tc := d.TLSConfig().Clone()
		tc.NextProtos = httpfs.NextProtos
		services = append(services, Service{Name: "https", Net: "tcp", Addr: d.Addr(cfg.HTTPS.Addr), TLS: true, TLSConfig: tc,
			MaxConns: cfg.HTTPS.MaxConns, ProxyProtocol: cfg.HTTPS.ProxyProtocol, Stream: httpService{newServer()}})
	}
	return services, nil
}

// httpBusy is what a connection over a limit is told before it is closed.
var httpBusy = []byte("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 5\r\nContent-Length: 0\r\n\r\n")

// httpService serves plain connections as sendfileConns, so that files
// still go out with sendfile(2) through the daemon's accounting.
type httpService struct{ *httpfs.Server }

func (s httpService) Serve(ln net.Listener) error { return s.Server.Serve(sendfileListener{ln}) }

type sendfileListener struct{ net.Listener }

func (l sendfileListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*trackedConn); ok {
		return sendfileConn{tc}, nil
	}
	return c, err
}

// sendfileConn is a tracked connection whose ReadFrom goes to the TCP
// connection (sendfile from an *os.File) and is counted; FTP's data
// connections are sendfileConns too.
type sendfileConn struct{ *trackedConn }

func (c sendfileConn) ReadFrom(r io.Reader) (int64, error) {
	rf, ok := c.Conn.(io.ReaderFrom)
	if !ok {
		return io.Copy(c.trackedConn, r)
	}
	if uncork := c.cork(r); uncork != nil {
		defer uncork()
	}
	n, err := rf.ReadFrom(r)
	if n > 0 {
		c.r.m.bytesOut.Add(float64(n))
		c.out.Add(n)
		c.touch()
	}
	return n, err
}

// cork corks the socket (corkSocket, as nginx's tcp_nopush does) for a
// file's body, which goes out with sendfile, and returns what uncorks
// it, or nil. A body from anything else, which may pause between
// writes, and a connection under a chaos rule, whose latency and
// bandwidth faults must reach the wire as they are paced, are left
// uncorked.
func (c sendfileConn) cork(r io.Reader) (uncork func()) {
	if lr, ok := r.(*io.LimitedReader); ok {
		r = lr.R
	}
	if _, ok := r.(*os.File); !ok {
		return nil
	}
	cc, ok := c.Conn.(*chaos.Conn)
	if !ok || cc.Service().Rule().Active() {
		return nil
	}
	return corkSocket(cc.NetConn())
}

// SetUser shows name on the connection in the session list: httpfs
// calls it after each request that logged in (see httpfs.UserConn), so
// a kept-alive connection shows the user of its last such request. Its
// user stays until the connection closes: a request that does not log
// in does not say the client has logged out. Account names are
// case-insensitive and listed in lower case, as other services list
// them. The login is also finger's: the user's last login, and a
// session open until the connection closes (or another user logs in
// on it).
func (c *trackedConn) SetUser(name string) {
	name = strings.ToLower(name)
	if u := c.user.Load(); u != nil && *u == name {
		return // the same user again: nothing to store
	}
	c.user.Store(&name)
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	if c.endLogin != nil {
		c.endLogin()
	}
	c.endLogin = c.d.Presence().Login(name, c.r.Name)
}

var _ httpfs.UserConn = (*trackedConn)(nil)

// logLines writes access log lines into the daemon's log.
type logLines struct {
	log interface{ Info(string, ...any) }
}

func (l logLines) Write(p []byte) (int, error) {
	l.log.Info("access", "line", strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// closer is a component that closes a file when the daemon stops.
type closer struct{ io.Closer }

func (closer) Start(context.Context) error  { return nil }
func (c closer) Stop(context.Context) error { return c.Close() }

// httpBackend adapts the accounts and the file store to httpfs.Backend.
// It keeps the trees it opens (one per home, and the anonymous one) for
// the daemon's life, so a request does not reopen its tree.
type httpBackend struct {
	accounts           *accounts.DB
	store              *filestore.Store
	limits, anonLimits filestore.Limits
	events             *eventHub

	anon  atomic.Pointer[filestore.Tree] // set once, under mu
	mu    sync.Mutex
	homes map[string]*filestore.Tree
}

var _ httpfs.Backend = (*httpBackend)(nil)

func (b *httpBackend) Anonymous(ctx context.Context) (httpfs.FS, error) {
	if t := b.anon.Load(); t != nil {
		return httpTree{t, uploadHook{b.events, "http", "anonymous"}}, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if t := b.anon.Load(); t != nil {
		return httpTree{t, uploadHook{b.events, "http", "anonymous"}}, nil
	}
	t, err := b.store.Anonymous(ctx, b.anonLimits)
	if err != nil {
		return nil, err
	}
	b.anon.Store(t)
	return httpTree{t, uploadHook{b.events, "http", "anonymous"}}, nil
}

func (b *httpBackend) Login(ctx context.Context, user, password string, remote net.Addr) (httpfs.FS, error) {
	u, err := b.accounts.Authenticate(ctx, user, password, remote)
	if errors.Is(err, accounts.ErrAuthFailed) {
		return nil, fmt.Errorf("%w: %w", httpfs.ErrAuthFailed, err)
	}
	if err != nil {
		return nil, err
	}
	home := u.HomeName()
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.homes[home]
	if !ok {
		if t, err = b.store.Home(ctx, home, b.limits); err != nil {
			return nil, err
		}
		b.homes[home] = t
	}
	return httpTree{t, uploadHook{b.events, "http", "home/" + home}}, nil
}

func (b *httpBackend) Start(context.Context) error { return nil }

// Stop closes the trees once the listeners have drained.
func (b *httpBackend) Stop(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t := b.anon.Swap(nil); t != nil {
		t.Close()
	}
	for k, t := range b.homes {
		t.Close()
		delete(b.homes, k)
	}
	return nil
}

// httpTree is a filestore.Tree as an httpfs.FS.
type httpTree struct {
	t  *filestore.Tree
	up uploadHook
}

var (
	_ httpfs.FS            = httpTree{}
	_ httpfs.ModTimeSetter = httpTree{}
)

func (h httpTree) ReadOnly() bool { return h.t.ReadOnly() }

func (h httpTree) Stat(ctx context.Context, name string) (fs.FileInfo, error) {
	return h.t.Stat(ctx, name)
}

func (h httpTree) ReadDir(ctx context.Context, name string) ([]fs.FileInfo, error) {
	fis, err := h.t.ReadDir(ctx, name)
	return fis, httpStoreError(err)
}

func (h httpTree) Open(ctx context.Context, name string) (httpfs.File, error) {
	f, err := h.t.Open(ctx, name)
	if err != nil {
		return nil, httpStoreError(err) // not a nil *os.File in a non-nil interface
	}
	return f, nil
}

func (h httpTree) Create(ctx context.Context, name string) (httpfs.Upload, error) {
	u, err := h.t.Create(ctx, name, 0)
	if err != nil {
		return nil, httpStoreError(err)
	}
	return httpUpload{u, h.up}, nil
}

func (h httpTree) Mkdir(ctx context.Context, name string) error {
	return httpStoreError(h.t.Mkdir(ctx, name))
}
func (h httpTree) Remove(ctx context.Context, name string) error {
	return httpStoreError(h.t.Remove(ctx, name))
}
func (h httpTree) RemoveDir(ctx context.Context, name string) error {
	return httpStoreError(h.t.RemoveDir(ctx, name))
}
func (h httpTree) Rename(ctx context.Context, from, to string) error {
	return httpStoreError(h.t.Rename(ctx, from, to))
}

// SetModTime is PUT's X-OC-Mtime.
func (h httpTree) SetModTime(ctx context.Context, name string, mtime time.Time) error {
	return h.t.Chtimes(ctx, name, mtime, mtime)
}

type httpUpload struct {
	*filestore.Upload
	up uploadHook
}

func (u httpUpload) Commit(ctx context.Context) error { return u.up.commit(ctx, u.Upload) }

func (u httpUpload) Write(p []byte) (int, error) {
	n, err := u.Upload.Write(p)
	return n, httpStoreError(err)
}

// httpStoreError gives the store's errors the httpfs names that choose
// the status: 507, 413, and 409 for the wrong kind of entry.
func httpStoreError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, filestore.ErrQuota):
		return fmt.Errorf("%w: %w", httpfs.ErrQuota, err)
	case errors.Is(err, filestore.ErrTooLarge):
		return fmt.Errorf("%w: %w", httpfs.ErrTooLarge, err)
	case errors.Is(err, filestore.ErrIsDir), errors.Is(err, filestore.ErrNotDir):
		return fmt.Errorf("%w: %w", fs.ErrInvalid, err)
	}
	return err
}
