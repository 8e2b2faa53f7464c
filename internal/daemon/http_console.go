package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"path"
	"strings"
	"sync"

	"github.com/plumbnet/plumb/httpfs"
	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/webadmin"
)

// httpConsolePath is where [http] console = true mounts the web console.
const httpConsolePath = "/console"

// httpConsole is the web console on the HTTP service, for accounts that
// log in with HTTP Basic (over TLS or from loopback, as httpfs takes
// credentials). An operator (admin.operators) sees what the admin
// listener shows; any other account sees its own mail and home only,
// and no sessions or log.
type httpConsole struct {
	d    *Daemon
	full webadmin.Config

	mu    sync.Mutex
	views map[string]http.Handler // account -> its console
}

// newHTTPConsole builds the console's backends; stop closes them.
func newHTTPConsole(d *Daemon) (*httpConsole, func()) {
	cfg, stop := d.webAdminConfig()
	cfg.Logger = d.Logger().With("service", "http", "part", "console")
	return &httpConsole{d: d, full: cfg, views: map[string]http.Handler{}}, stop
}

func (h *httpConsole) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.TLS == nil && !remoteIsLoopback(r.RemoteAddr) {
		http.Error(w, "403 the console needs https", http.StatusForbidden)
		return
	}
	name, pass, ok := r.BasicAuth()
	if !ok {
		httpConsoleChallenge(w)
		return
	}
	u, err := h.d.Accounts().Authenticate(r.Context(), name, pass, remoteTCPAddr(r.RemoteAddr))
	if errors.Is(err, accounts.ErrAuthFailed) {
		h.full.Logger.Warn("console login failed", "user", name, "remote", r.RemoteAddr)
		httpConsoleChallenge(w)
		return
	}
	if err != nil {
		h.full.Logger.Error("console login", "user", name, "err", err)
		http.Error(w, "500 internal error", http.StatusInternalServerError)
		return
	}
	httpfs.LoggedIn(r, u.Name)
	h.view(u).ServeHTTP(w, r)
}

// view returns u's console, made on first use.
func (h *httpConsole) view(u accounts.User) http.Handler {
	h.mu.Lock()
	defer h.mu.Unlock()
	if v, ok := h.views[u.Name]; ok {
		return v
	}
	cfg := h.full
	if !isOperator(h.d.cfg.Admin.Operators, u.Name) {
		cfg.Ops = nil
		if cfg.Mail != nil {
			cfg.Mail = ownMail{cfg.Mail, u.Name}
		}
		if cfg.Files != nil {
			cfg.Files = homeFiles{cfg.Files, "home/" + u.HomeName()}
		}
	}
	v := http.StripPrefix(httpConsolePath, webadmin.NewConsole(cfg, httpConsolePath))
	h.views[u.Name] = v
	return v
}

func httpConsoleChallenge(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="plumb console", charset="UTF-8"`)
	http.Error(w, "401 log in with your plumb account", http.StatusUnauthorized)
}

func remoteIsLoopback(addr string) bool {
	ap, err := netip.ParseAddrPort(addr)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

func remoteTCPAddr(addr string) net.Addr {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil
	}
	return net.TCPAddrFromAddrPort(ap)
}

// errOtherAccount is what an account hears for another's mail.
var errOtherAccount = fmt.Errorf("another account's mail: %w", fs.ErrPermission)

// ownMail is the mail backend seen by one account: its own mail only.
type ownMail struct {
	webadmin.MailBackend
	user string
}

func (m ownMail) own(user string) error {
	if user != m.user {
		return errOtherAccount
	}
	return nil
}

func (m ownMail) Accounts(context.Context) ([]string, error) { return []string{m.user}, nil }

func (m ownMail) Folders(ctx context.Context, user string) ([]webadmin.Folder, error) {
	if err := m.own(user); err != nil {
		return nil, err
	}
	return m.MailBackend.Folders(ctx, user)
}

func (m ownMail) List(ctx context.Context, user, folder string, q webadmin.Query, offset, limit int) ([]webadmin.Summary, int, error) {
	if err := m.own(user); err != nil {
		return nil, 0, err
	}
	return m.MailBackend.List(ctx, user, folder, q, offset, limit)
}

func (m ownMail) Open(ctx context.Context, ref webadmin.MessageRef) (io.ReadCloser, webadmin.Summary, error) {
	if err := m.own(ref.User); err != nil {
		return nil, webadmin.Summary{}, err
	}
	return m.MailBackend.Open(ctx, ref)
}

func (m ownMail) Delete(ctx context.Context, ref webadmin.MessageRef) error {
	if err := m.own(ref.User); err != nil {
		return err
	}
	return m.MailBackend.Delete(ctx, ref)
}

func (m ownMail) Move(ctx context.Context, ref webadmin.MessageRef, to string) (webadmin.MessageRef, error) {
	if err := m.own(ref.User); err != nil {
		return webadmin.MessageRef{}, err
	}
	return m.MailBackend.Move(ctx, ref, to)
}

func (m ownMail) SetFlags(ctx context.Context, ref webadmin.MessageRef, add, remove []string) ([]string, error) {
	if err := m.own(ref.User); err != nil {
		return nil, err
	}
	return m.MailBackend.SetFlags(ctx, ref, add, remove)
}

func (m ownMail) Release(ctx context.Context, ref webadmin.MessageRef, to []string) error {
	if err := m.own(ref.User); err != nil {
		return err
	}
	return m.MailBackend.Release(ctx, ref, to)
}

// homeFiles is the file tree seen by one account: its home, as the
// root. Paths from the console are already clean (no "..").
type homeFiles struct {
	webadmin.FileBackend
	root string // home/<name>
}

func (f homeFiles) full(p string) string {
	return path.Join(f.root, strings.Trim(path.Clean("/"+p), "/"))
}

// local turns an entry of the full tree back into one of the home.
func (f homeFiles) local(fi webadmin.FileInfo) webadmin.FileInfo {
	fi.Path = strings.TrimPrefix(strings.TrimPrefix(fi.Path, f.root), "/")
	return fi
}

func (f homeFiles) Stat(ctx context.Context, p string) (webadmin.FileInfo, error) {
	fi, err := f.FileBackend.Stat(ctx, f.full(p))
	if err != nil && p == "" && notFound(err) {
		return webadmin.FileInfo{Dir: true}, nil // a home not made yet is empty
	}
	return f.local(fi), err
}

func (f homeFiles) ReadDir(ctx context.Context, p string) ([]webadmin.FileInfo, error) {
	fis, err := f.FileBackend.ReadDir(ctx, f.full(p))
	if err != nil && p == "" && notFound(err) {
		return nil, nil
	}
	for i := range fis {
		fis[i] = f.local(fis[i])
	}
	return fis, err
}

func notFound(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, webadmin.ErrNotFound)
}

func (f homeFiles) Open(ctx context.Context, p string) (io.ReadSeekCloser, webadmin.FileInfo, error) {
	rc, fi, err := f.FileBackend.Open(ctx, f.full(p))
	return rc, f.local(fi), err
}

func (f homeFiles) Put(ctx context.Context, p string, r io.Reader) (webadmin.FileInfo, error) {
	fi, err := f.FileBackend.Put(ctx, f.full(p), r)
	return f.local(fi), err
}

func (f homeFiles) Delete(ctx context.Context, p string) error {
	return f.FileBackend.Delete(ctx, f.full(p))
}

// stopFunc is a component that calls a function when the daemon stops.
type stopFunc func()

func (stopFunc) Start(context.Context) error  { return nil }
func (f stopFunc) Stop(context.Context) error { f(); return nil }
