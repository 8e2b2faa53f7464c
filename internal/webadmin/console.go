package webadmin

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The console's pages are html/template files and its CSS and script
// are static files, all embedded: the binary needs nothing at run time
// and the pages load nothing from elsewhere.
var (
	//go:embed templates/*.html
	templateFS embed.FS
	//go:embed static
	staticFS embed.FS
)

// consoleCSP is every console page's Content-Security-Policy: its own
// stylesheet and script only, no inline code, no framing by others, and
// forms that post only back to the console.
const consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// pageSize is how many rows a list page shows.
const pageSize = 50

// consoleRoutes mounts the console's pages.
func (s *Server) consoleRoutes(mux *http.ServeMux) {
	newConsoleHandler(s, "").routes(mux)
}

// newConsoleHandler is the console at base ("" for the root).
func newConsoleHandler(s *Server, base string) *consoleHandler {
	return &consoleHandler{s: s, base: base, rows: newRowCache(64)}
}

// NewConsole returns the console's pages alone, without the API and
// without the admin listener's authentication, for the daemon to mount
// behind an authentication of its own (the HTTP service's logged-in
// users). base is the path it is mounted at ("/console"), which the
// daemon strips (http.StripPrefix) before the console sees a request.
func NewConsole(cfg Config, base string) http.Handler {
	s := &Server{cfg: cfg, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	mux := http.NewServeMux()
	newConsoleHandler(s, strings.TrimSuffix(base, "/")).routes(mux)
	return mux
}

// consoleHandler serves the console's pages.
type consoleHandler struct {
	s    *Server
	base string // the path the console is mounted at, "" for the root
	rows *rowCache
}

func (c *consoleHandler) routes(mux *http.ServeMux) {
	handle := func(pattern string, h func(http.ResponseWriter, *http.Request)) {
		mux.Handle(pattern, c.guard(http.HandlerFunc(h)))
	}
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", c.guard(http.StripPrefix("/static/", staticHandler(http.FileServerFS(static)))))
	handle("GET /{$}", c.overview)
	c.mailRoutes(handle)
	c.fileRoutes(handle)
	c.newsRoutes(handle)
	c.opsRoutes(handle)
}

// guard sets the headers every console answer carries and refuses a
// POST from another origin (CSRF), which a browser tricked by another
// site would send. (A rebound host name on the admin listener is
// refused before, by Server.authenticate.)
func (c *consoleHandler) guard(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.s.log.Warn("webadmin: refused a cross-origin request", "method", r.Method, "path", r.URL.Path,
			"origin", r.Header.Get("Origin"), "remote", r.RemoteAddr)
		c.fail(w, r, http.StatusForbidden, "This request came from another site and was refused.")
	}))
	inner := cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Set, not added: the console's headers replace what a server
		// it is mounted in put there before (the HTTP service sandboxes
		// everything it serves, which would stop the console's script);
		// a handler that serves something else sets its own after.
		h := w.Header()
		h.Set("Content-Security-Policy", consoleCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "SAMEORIGIN")
		inner.ServeHTTP(w, r)
	})
}

// staticHandler lets the browser keep the embedded files for an hour.
func staticHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

// pageData is what every template gets: the console's base path, the page's
// title, which menu entry is current, and the page's own data.
type pageData struct {
	Base  string
	Title string
	Nav   string
	Data  any
}

var pages = parsePages()

// parsePages parses each page template with the layout it fills in.
func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"href": href,
		"size": humanSize,
		"when": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.Local().Format("2006-01-02 15:04")
		},
		"seen":     func(flags []string) bool { return hasFlag(flags, `\Seen`) },
		"join":     strings.Join,
		"row":      func(base string, m Summary) rowData { return rowData{base, m} },
		"filehref": fileHref,
		"int64":    func(n int) int64 { return int64(n) },
	}
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if base == "layout.html" || base == "parts.html" {
			continue
		}
		out[strings.TrimSuffix(base, ".html")] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, n))
	}
	return out
}

// href joins the console's base path and path segments, each escaped,
// so that a folder named "a/b" or "x?y" stays one segment.
func href(base string, segs ...any) string {
	var b strings.Builder
	b.WriteString(base)
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(fmt.Sprint(s)))
	}
	if len(segs) == 0 {
		b.WriteByte('/')
	}
	return b.String()
}

func humanSize(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

func hasFlag(flags []string, f string) bool {
	for _, x := range flags {
		if strings.EqualFold(x, f) {
			return true
		}
	}
	return false
}

// render writes page name with data.
func (c *consoleHandler) render(w http.ResponseWriter, r *http.Request, status int, name, title, nav string, data any) {
	t, ok := pages[name]
	if !ok {
		panic("webadmin: no page template " + name)
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout.html", pageData{Base: c.base, Title: title, Nav: nav, Data: data}); err != nil {
		c.s.log.Error("webadmin: rendering a page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

// fail answers with an error page saying msg.
func (c *consoleHandler) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	c.render(w, r, status, "error", http.StatusText(status), "", struct {
		Status int
		Text   string
	}{status, msg})
}

// failErr answers for a backend's error: not found, forbidden, a bad
// request, a conflict and a size limit are told as they are; anything
// else is logged and the reader sees a generic failure.
func (c *consoleHandler) failErr(w http.ResponseWriter, r *http.Request, what string, err error) {
	switch {
	case isNotFound(err):
		c.fail(w, r, http.StatusNotFound, what+": not found.")
	case errors.Is(err, fs.ErrPermission):
		c.fail(w, r, http.StatusForbidden, what+": not allowed.")
	case errors.Is(err, fs.ErrInvalid), errors.Is(err, ErrBadRequest):
		c.fail(w, r, http.StatusBadRequest, what+": "+err.Error())
	case errors.Is(err, fs.ErrExist), errors.Is(err, ErrConflict):
		c.fail(w, r, http.StatusConflict, what+": "+err.Error())
	case errors.Is(err, ErrTooLarge):
		c.fail(w, r, http.StatusRequestEntityTooLarge, what+": "+err.Error())
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// the reader went away
	default:
		c.s.log.Error("webadmin: console", "what", what, "path", r.URL.Path, "err", err)
		c.fail(w, r, http.StatusInternalServerError, what+": failed; the daemon's log has the reason.")
	}
}

// isNotFound reports whether a backend's error says the thing is not
// there.
func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) || errors.Is(err, fs.ErrNotExist) }

// back redirects a form's POST to the page to show next (303: the
// browser GETs it, so a reload does not post again).
func (c *consoleHandler) back(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// overviewData is the overview page: the services and their connections.
type overviewData struct {
	Services []Service
	Err      string
	Admin    bool // on the admin listener, beside /metrics and the API
	Mail     bool
	Files    bool
	News     bool
}

func (c *consoleHandler) overview(w http.ResponseWriter, r *http.Request) {
	d := overviewData{Admin: c.base == "", Mail: c.s.cfg.Mail != nil, Files: c.s.cfg.Files != nil, News: c.s.cfg.News != nil}
	if ops := c.s.cfg.Ops; ops != nil {
		svcs, err := ops.Services(r.Context())
		if err != nil {
			c.s.log.Error("webadmin: services", "err", err)
			d.Err = "The services could not be read; the daemon's log has the reason."
		}
		d.Services = svcs
	}
	c.render(w, r, http.StatusOK, "overview", "plumb serve", "overview", d)
}
