package httpfs

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ServeHTTP routes a request: mounted handlers first, then /dav/,
// /cgi-bin/, /~user/ and the anonymous area.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.init()
	s.handler.ServeHTTP(w, r)
}

// route is the handler under the middleware.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	if !readOnlyMethod(r.Method) {
		// It may change files (a mounted handler's too): what the
		// cache trusts is stat'ed again, both before and after.
		s.cache.writing()
		defer s.cache.writing()
	}
	if h := s.mounted(r.URL.Path); h != nil {
		h.ServeHTTP(w, r)
		return
	}
	p, ok := cleanPath(r)
	if !ok {
		http.Error(w, "400 bad path: no \"..\", \".\", \"//\", backslashes, NUL or encoded slashes", http.StatusBadRequest)
		return
	}
	switch {
	case p == "/dav" || strings.HasPrefix(p, "/dav/"):
		s.serveDAV(w, r)
	case s.cgi != nil && strings.HasPrefix(p, "/cgi-bin/"):
		s.serveCGI(w, r, strings.TrimPrefix(p, "/cgi-bin/"))
	case strings.HasPrefix(p, "/~"):
		user, rest, _ := strings.Cut(p[2:], "/")
		t, ok := s.loginAs(w, r, user)
		if !ok {
			return
		}
		s.serveTree(w, r, t, "/"+rest, "/~"+user)
	default:
		t, err := s.Backend.Anonymous(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions {
			// Changes to the anonymous area need an account too.
			if _, _, ok := s.login(w, r); !ok {
				return
			}
		}
		s.serveTree(w, r, t, p, "")
	}
}

// readOnlyMethod reports a method that changes no file.
func readOnlyMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions || m == "PROPFIND"
}

// mounted returns the extra handler for p: an exact key, or the longest
// key ending in "/" that p starts with.
func (s *Server) mounted(p string) http.Handler {
	if len(s.Handlers) == 0 {
		return nil
	}
	if h, ok := s.Handlers[p]; ok {
		return h
	}
	for _, k := range s.prefixes { // longest first
		if strings.HasPrefix(p, k) {
			return s.Handlers[k]
		}
	}
	return nil
}

// cleanPath returns the request's decoded path, refusing what could
// mean another file than it shows: "." and ".." segments (plain or
// %2e-encoded, which net/http has decoded by now), backslashes, NUL,
// encoded slashes, which would make one segment look like two, and
// empty segments ("//"), which would make "//host/" a redirect target
// that browsers read as another site.
func cleanPath(r *http.Request) (string, bool) {
	p := r.URL.Path
	if p == "" || p[0] != '/' || strings.ContainsAny(p, "\\\x00") || strings.Contains(p, "//") {
		return "", false
	}
	if raw := r.URL.RawPath; raw != "" {
		l := strings.ToLower(raw)
		if strings.Contains(l, "%2f") || strings.Contains(l, "%5c") {
			return "", false
		}
	}
	for rest := p[1:]; rest != ""; {
		var seg string
		seg, rest, _ = strings.Cut(rest, "/")
		if seg == "." || seg == ".." {
			return "", false
		}
	}
	return p, true
}

// remoteAddr is the client's address as a net.Addr.
func remoteAddr(r *http.Request) net.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return nil
	}
	return net.TCPAddrFromAddrPort(ap)
}

func isLoopback(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

// login checks the request's Basic credentials; on failure it has
// answered and returns false. Credentials are taken only over TLS or
// from loopback, where they cannot be read on the way.
func (s *Server) login(w http.ResponseWriter, r *http.Request) (FS, string, bool) {
	user, pass, has := r.BasicAuth()
	if r.TLS == nil && !isLoopback(r) {
		http.Error(w, "403 logging in needs https", http.StatusForbidden)
		return nil, "", false
	}
	if !has {
		s.challenge(w)
		return nil, "", false
	}
	t, err := s.Backend.Login(r.Context(), user, pass, remoteAddr(r))
	if errors.Is(err, ErrAuthFailed) {
		s.logf(r, "login failed", "user", user)
		s.challenge(w)
		return nil, "", false
	}
	if err != nil {
		s.fail(w, r, err)
		return nil, "", false
	}
	LoggedIn(r, user)
	return t, user, true
}

// loginAs is login for /~user/: only user may use that tree.
func (s *Server) loginAs(w http.ResponseWriter, r *http.Request, user string) (FS, bool) {
	t, who, ok := s.login(w, r)
	if !ok {
		return nil, false
	}
	if who != user {
		http.Error(w, "403 this is another user's tree", http.StatusForbidden)
		return nil, false
	}
	return t, true
}

func (s *Server) challenge(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="plumb", charset="UTF-8"`)
	http.Error(w, "401 login needed", http.StatusUnauthorized)
}

// serveTree answers a request for name in tree t, whose URL starts
// with prefix.
func (s *Server) serveTree(w http.ResponseWriter, r *http.Request, t FS, name, prefix string) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.get(w, r, t, name)
	case http.MethodPut:
		if s.put(w, r, t, name) {
			s.forgetProps(prefix, name) // a new file starts bare
		}
	case http.MethodDelete:
		if s.delete(w, r, t, name) {
			s.forgetProps(prefix, name)
		}
	case http.MethodOptions:
		w.Header().Set("Allow", "GET, HEAD, PUT, DELETE, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, HEAD, PUT, DELETE, OPTIONS")
		http.Error(w, "405 method not allowed here (WebDAV is at /dav/)", http.StatusMethodNotAllowed)
	}
}

// forgetProps drops the WebDAV dead properties of name in the tree at
// prefix: "/~user" is the tree /dav/ serves to user.
func (s *Server) forgetProps(prefix, name string) {
	if user, ok := strings.CutPrefix(prefix, "/~"); ok {
		s.props.of(user).remove(path.Clean(name))
	}
}

// ETag returns the strong entity tag of a file's current content: its
// modification time in nanoseconds and its size. Every write replaces
// the file by rename, which sets a new modification time.
func ETag(fi fs.FileInfo) string {
	b := make([]byte, 0, 32)
	b = append(b, '"')
	b = strconv.AppendInt(b, fi.ModTime().UnixNano(), 36)
	b = append(b, '-')
	b = strconv.AppendInt(b, fi.Size(), 36)
	b = append(b, '"')
	return string(b)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, t FS, name string) {
	ctx := r.Context()
	digest := wantsDigest(r)
	small := !digest && !strings.HasSuffix(r.URL.Path, "/") && cacheable(t)
	if small {
		if e := s.trusted(cacheKey{t, name}); e != nil {
			s.serveCached(w, r, e)
			return
		}
	}
	gen := s.cache.gen.Load() // before the stat: a write after it is seen
	fi, err := t.Stat(ctx, name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if fi.IsDir() {
		if !strings.HasSuffix(r.URL.Path, "/") {
			redirect(w, r, r.URL.Path+"/")
			return
		}
		s.list(w, r, t, name)
		return
	}
	if strings.HasSuffix(r.URL.Path, "/") {
		redirect(w, r, strings.TrimSuffix(r.URL.Path, "/"))
		return
	}
	if small && fi.Mode().IsRegular() && fi.Size() <= cacheFileMax && s.serveSmall(w, r, t, name, fi, gen) {
		return
	}
	f, err := t.Open(ctx, name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h["Etag"] = []string{ETag(fi)}
	if ct := mime.TypeByExtension(path.Ext(fi.Name())); ct != "" {
		h["Content-Type"] = []string{ct}
	}
	if digest {
		s.setDigest(w, t, name, f, fi)
	}
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
}

// redirect sends the client to path to on this server. to comes from
// a path cleanPath passed, so it has no "//"; a path starting with two
// slashes would name another host and is refused all the same.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	if !strings.HasPrefix(to, "/") || strings.HasPrefix(to, "//") {
		http.Error(w, "400 bad path", http.StatusBadRequest)
		return
	}
	u := url.URL{Path: to, RawQuery: r.URL.RawQuery}
	http.Redirect(w, r, u.RequestURI(), http.StatusMovedPermanently)
}

// put stores the request body as name; it reports whether it did.
func (s *Server) put(w http.ResponseWriter, r *http.Request, t FS, name string) bool {
	ctx := r.Context()
	if t.ReadOnly() {
		http.Error(w, "403 this tree is read-only", http.StatusForbidden)
		return false
	}
	if r.Header.Get("Content-Range") != "" {
		http.Error(w, "400 partial PUT (Content-Range) is not supported", http.StatusBadRequest)
		return false
	}
	if strings.HasSuffix(name, "/") {
		http.Error(w, "405 cannot PUT a directory", http.StatusMethodNotAllowed)
		return false
	}
	if max := s.MaxBodyBytes; max > 0 {
		if r.ContentLength > max {
			http.Error(w, "413 the body is over the server's limit", http.StatusRequestEntityTooLarge)
			return false
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
	}
	status := http.StatusCreated
	if fi, err := t.Stat(ctx, name); err == nil {
		if fi.IsDir() {
			http.Error(w, "405 a directory is there", http.StatusMethodNotAllowed)
			return false
		}
		status = http.StatusNoContent
	}
	if fi, err := t.Stat(ctx, path.Dir(name)); err != nil || !fi.IsDir() {
		http.Error(w, "409 the parent directory does not exist", http.StatusConflict)
		return false
	}
	if code := s.upload(ctx, t, name, r.Body); code != 0 {
		http.Error(w, strconv.Itoa(code)+" "+http.StatusText(code), code)
		return false
	}
	if mt := r.Header.Get("X-OC-Mtime"); mt != "" {
		if sec, err := strconv.ParseInt(mt, 10, 64); err == nil {
			if ms, ok := t.(ModTimeSetter); ok && ms.SetModTime(ctx, name, time.Unix(sec, 0)) == nil {
				w.Header().Set("X-OC-Mtime", "accepted")
			}
		}
	}
	if fi, err := t.Stat(ctx, name); err == nil {
		w.Header().Set("ETag", ETag(fi))
	}
	w.WriteHeader(status)
	return true
}

// upload writes body to name in t and commits it; it returns 0 when the
// file is durably stored, else the status to answer.
func (s *Server) upload(ctx context.Context, t FS, name string, body io.Reader) int {
	u, err := t.Create(ctx, name)
	if err != nil {
		return s.status(err)
	}
	if _, err := io.Copy(u, body); err != nil {
		u.Abort()
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe), errors.Is(err, ErrTooLarge):
			return http.StatusRequestEntityTooLarge
		case errors.Is(err, ErrQuota):
			return http.StatusInsufficientStorage
		}
		return http.StatusBadRequest // the body broke off
	}
	if err := u.Commit(ctx); err != nil {
		s.Logger.Error("http: storing an upload", "name", name, "err", err)
		return http.StatusInternalServerError
	}
	return 0
}

// delete removes name; it reports whether it did.
func (s *Server) delete(w http.ResponseWriter, r *http.Request, t FS, name string) bool {
	ctx := r.Context()
	if t.ReadOnly() {
		http.Error(w, "403 this tree is read-only", http.StatusForbidden)
		return false
	}
	fi, err := t.Stat(ctx, name)
	if err != nil {
		s.fail(w, r, err)
		return false
	}
	if fi.IsDir() {
		err = t.RemoveDir(ctx, name)
		if err != nil && errors.Is(err, syscall.ENOTEMPTY) {
			http.Error(w, "409 the directory is not empty", http.StatusConflict)
			return false
		}
	} else {
		err = t.Remove(ctx, name)
	}
	if err != nil {
		s.fail(w, r, err)
		return false
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}

// status is the HTTP status for a tree's error.
func (s *Server) status(err error) int {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return http.StatusNotFound
	case errors.Is(err, fs.ErrPermission), escapes(err):
		return http.StatusForbidden
	case errors.Is(err, fs.ErrExist), errors.Is(err, fs.ErrInvalid), errors.Is(err, syscall.ENOTEMPTY):
		return http.StatusConflict
	case errors.Is(err, ErrQuota):
		return http.StatusInsufficientStorage
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, context.Canceled):
		return 499
	}
	return http.StatusInternalServerError
}

// escapes reports os.Root's refusal of a name (a symbolic link) that
// leads out of the tree, which has no exported error value.
func escapes(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "escapes")
}

// fail answers err's status; an unexpected error is logged and the
// client hears only "500".
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := s.status(err)
	if code == http.StatusInternalServerError {
		s.logf(r, "request failed", "err", err)
	}
	if code == 499 {
		return
	}
	http.Error(w, strconv.Itoa(code)+" "+http.StatusText(code), code)
}

func (s *Server) logf(r *http.Request, msg string, args ...any) {
	s.Logger.Warn("http: "+msg, append([]any{"client", r.RemoteAddr, "method", r.Method, "path", r.URL.Path}, args...)...)
}
