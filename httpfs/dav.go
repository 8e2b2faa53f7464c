package httpfs

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/webdav"
)

// serveDAV serves the logged-in user's home as WebDAV at /dav/.
func (s *Server) serveDAV(w http.ResponseWriter, r *http.Request) {
	t, user, ok := s.login(w, r)
	if !ok {
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		// A collection is listed as elsewhere (x/net/webdav answers 405).
		name := strings.TrimPrefix(r.URL.Path, "/dav")
		if fi, err := t.Stat(r.Context(), name); err == nil && fi.IsDir() {
			s.get(w, r, t, name)
			return
		}
	case "PROPFIND", "PROPPATCH", "LOCK":
		if !s.checkDAVBody(w, r) {
			return
		}
	}
	if ifHeaderFails(r, func(p string) string {
		fi, err := t.Stat(r.Context(), p)
		if err != nil {
			return ""
		}
		return ETag(fi)
	}) {
		http.Error(w, "412 the If header's entity tags do not match", http.StatusPreconditionFailed)
		return
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		// A file is served as at /~user/: the *os.File reaches
		// net/http (sendfile), with ranges, the digest and the cache.
		name := strings.TrimPrefix(r.URL.Path, "/dav")
		if fi, err := t.Stat(r.Context(), name); err == nil && fi.Mode().IsRegular() {
			s.get(w, r, t, name)
			return
		}
	}
	rq := &davRequest{}
	if r.Method == http.MethodPut {
		if max := s.MaxBodyBytes; max > 0 {
			if r.ContentLength > max {
				http.Error(w, "413 the body is over the server's limit", http.StatusRequestEntityTooLarge)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, max)
		}
		r.Body = &watchedBody{ReadCloser: r.Body, rq: rq}
	}
	dfs := &davFS{t: t, props: s.props.of(user), rq: rq}
	h := &webdav.Handler{Prefix: "/dav", FileSystem: dfs, LockSystem: s.locks(user),
		Logger: func(r *http.Request, err error) {
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				s.Logger.Debug("http: webdav", "method", r.Method, "path", r.URL.Path, "err", err)
			}
		}}
	h.ServeHTTP(&davWriter{ResponseWriter: w, rq: rq, r: r, t: t}, r)
}

// maxDAVBody bounds the XML body of PROPFIND, PROPPATCH and LOCK.
const maxDAVBody = 1 << 20

// checkDAVBody reads an XML request body whole (up to maxDAVBody) and
// refuses with 400 what the webdav package would take although XML
// Namespaces forbid it: a prefix bound to the empty name
// (xmlns:p=""). encoding/xml expands no external entities.
func (s *Server) checkDAVBody(w http.ResponseWriter, r *http.Request) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxDAVBody+1))
	if err != nil {
		http.Error(w, "400 the body broke off", http.StatusBadRequest)
		return false
	}
	if len(b) > maxDAVBody {
		http.Error(w, "413 the XML body is over 1 MiB", http.StatusRequestEntityTooLarge)
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if err != nil {
			return true // webdav's own parser answers malformed XML
		}
		if se, ok := tok.(xml.StartElement); ok {
			for _, a := range se.Attr {
				if a.Name.Space == "xmlns" && a.Value == "" {
					http.Error(w, "400 a namespace prefix bound to the empty name", http.StatusBadRequest)
					return false
				}
			}
		}
	}
}

// locks returns the lock system of user's tree.
func (s *Server) locks(user string) webdav.LockSystem {
	s.davMu.Lock()
	defer s.davMu.Unlock()
	ls, ok := s.davLock[user]
	if !ok {
		ls = webdav.NewMemLS()
		s.davLock[user] = ls
	}
	return ls
}

// davRequest is what one WebDAV request learned on the way that the
// webdav package's status codes do not carry: why an upload failed.
type davRequest struct {
	mu      sync.Mutex
	bodyErr error // the request body broke off
	limit   error // a quota or size limit refused a write
	commit  error // the upload could not be made durable
}

func (rq *davRequest) set(p *error, err error) {
	rq.mu.Lock()
	if *p == nil {
		*p = err
	}
	rq.mu.Unlock()
}

type watchedBody struct {
	io.ReadCloser
	rq *davRequest
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.rq.set(&b.rq.bodyErr, err)
	}
	return n, err
}

// davWriter turns the webdav package's answer to a refused upload (405)
// into 413, 507 or 500, and gives a stored file its real ETag.
type davWriter struct {
	http.ResponseWriter
	rq   *davRequest
	r    *http.Request
	t    FS
	done bool
}

func (w *davWriter) WriteHeader(code int) {
	if !w.done && w.r.Method == http.MethodPut {
		w.done = true
		w.rq.mu.Lock()
		limit, commit, body := w.rq.limit, w.rq.commit, w.rq.bodyErr
		w.rq.mu.Unlock()
		var mbe *http.MaxBytesError
		switch {
		case errors.As(body, &mbe), errors.Is(limit, ErrTooLarge):
			code = http.StatusRequestEntityTooLarge
		case errors.Is(limit, ErrQuota):
			code = http.StatusInsufficientStorage
		case commit != nil:
			code = http.StatusInternalServerError
		case body != nil:
			code = http.StatusBadRequest
		}
		if code == http.StatusCreated || code == http.StatusNoContent {
			if fi, err := w.t.Stat(w.r.Context(), strings.TrimPrefix(w.r.URL.Path, "/dav")); err == nil {
				w.Header().Set("Etag", ETag(fi))
			}
		} else {
			w.Header().Del("Etag")
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *davWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// davFS is a user's tree as a webdav.FileSystem.
type davFS struct {
	t     FS
	props *userProps
	rq    *davRequest
}

var _ webdav.FileSystem = (*davFS)(nil)

func (d *davFS) Mkdir(ctx context.Context, name string, _ os.FileMode) error {
	if err := d.t.Mkdir(ctx, name); err != nil {
		return err
	}
	d.props.remove(path.Clean("/" + name)) // a new collection starts bare
	return nil
}

func (d *davFS) Stat(ctx context.Context, name string) (os.FileInfo, error) {
	fi, err := d.t.Stat(ctx, name)
	if err != nil {
		return nil, err
	}
	return etagInfo{fi}, nil
}

func (d *davFS) OpenFile(ctx context.Context, name string, flag int, _ os.FileMode) (webdav.File, error) {
	name = path.Clean("/" + name)
	fi, err := d.t.Stat(ctx, name)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if flag&os.O_TRUNC != 0 || flag&os.O_CREATE != 0 && !exists {
		if exists && fi.IsDir() {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrExist}
		}
		if flag&os.O_EXCL != 0 && exists {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrExist}
		}
		u, err := d.t.Create(ctx, name)
		if err != nil {
			return nil, err
		}
		return &davUpload{u: u, d: d, name: name, ctx: ctx, start: time.Now()}, nil
	}
	if !exists {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if fi.IsDir() {
		return &davDir{d: d, name: name, fi: fi, ctx: ctx}, nil
	}
	f, err := d.t.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	return &davFile{File: f, d: d, name: name}, nil
}

// RemoveAll removes name and, for a directory, all it holds.
func (d *davFS) RemoveAll(ctx context.Context, name string) error {
	name = path.Clean("/" + name)
	if name == "/" {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrPermission}
	}
	fi, err := d.t.Stat(ctx, name)
	if err != nil {
		return err
	}
	if err := d.removeAll(ctx, name, fi, 0); err != nil {
		return err
	}
	d.props.remove(name)
	return nil
}

func (d *davFS) removeAll(ctx context.Context, name string, fi fs.FileInfo, depth int) error {
	if !fi.IsDir() {
		return d.t.Remove(ctx, name)
	}
	if depth > 256 {
		return errors.New("httpfs: directories nested too deep to remove")
	}
	kids, err := d.t.ReadDir(ctx, name)
	if err != nil {
		return err
	}
	for _, k := range kids {
		if err := d.removeAll(ctx, path.Join(name, k.Name()), k, depth+1); err != nil {
			return err
		}
	}
	return d.t.RemoveDir(ctx, name)
}

func (d *davFS) Rename(ctx context.Context, from, to string) error {
	from, to = path.Clean("/"+from), path.Clean("/"+to)
	if from == "/" || to == "/" {
		return &fs.PathError{Op: "rename", Path: from, Err: fs.ErrPermission}
	}
	if err := d.t.Rename(ctx, from, to); err != nil {
		return err
	}
	d.props.rename(from, to)
	return nil
}

// etagInfo gives webdav the same strong ETag as GET sends.
type etagInfo struct{ fs.FileInfo }

func (fi etagInfo) ETag(context.Context) (string, error) { return ETag(fi.FileInfo), nil }

// davFile is a file opened for reading.
type davFile struct {
	File
	d    *davFS
	name string
}

func (f *davFile) Readdir(int) ([]fs.FileInfo, error) {
	return nil, &fs.PathError{Op: "readdir", Path: f.name, Err: fs.ErrInvalid}
}

func (f *davFile) Write([]byte) (int, error) {
	return 0, &fs.PathError{Op: "write", Path: f.name, Err: fs.ErrPermission}
}

func (f *davFile) Stat() (fs.FileInfo, error) {
	fi, err := f.File.Stat()
	if err != nil {
		return nil, err
	}
	return etagInfo{fi}, nil
}

func (f *davFile) DeadProps() (map[xml.Name]webdav.Property, error) {
	return f.d.props.get(f.name), nil
}
func (f *davFile) Patch(p []webdav.Proppatch) ([]webdav.Propstat, error) {
	return f.d.props.patch(f.name, p), nil
}

// davDir is a directory: Readdir lists it.
type davDir struct {
	d    *davFS
	name string
	fi   fs.FileInfo
	ctx  context.Context
	read bool
}

func (f *davDir) Close() error { return nil }
func (f *davDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrInvalid}
}
func (f *davDir) Seek(int64, int) (int64, error) { return 0, nil }
func (f *davDir) Write([]byte) (int, error) {
	return 0, &fs.PathError{Op: "write", Path: f.name, Err: fs.ErrInvalid}
}
func (f *davDir) Stat() (fs.FileInfo, error) { return etagInfo{f.fi}, nil }

func (f *davDir) Readdir(count int) ([]fs.FileInfo, error) {
	if f.read && count > 0 {
		return nil, io.EOF
	}
	f.read = true
	fis, err := f.d.t.ReadDir(f.ctx, f.name)
	if err != nil {
		return nil, err
	}
	out := make([]fs.FileInfo, len(fis))
	for i, fi := range fis {
		out[i] = etagInfo{fi}
	}
	return out, nil
}

func (f *davDir) DeadProps() (map[xml.Name]webdav.Property, error) { return f.d.props.get(f.name), nil }
func (f *davDir) Patch(p []webdav.Proppatch) ([]webdav.Propstat, error) {
	return f.d.props.patch(f.name, p), nil
}

// davUpload is a file opened for writing: Close commits it, unless a
// write or the request body failed, when it is discarded.
type davUpload struct {
	u      Upload
	d      *davFS
	name   string
	ctx    context.Context
	start  time.Time
	n      int64
	failed bool
	props  []webdav.Proppatch
}

func (f *davUpload) Write(p []byte) (int, error) {
	n, err := f.u.Write(p)
	f.n += int64(n)
	if err != nil {
		f.failed = true
		if errors.Is(err, ErrQuota) || errors.Is(err, ErrTooLarge) {
			f.d.rq.set(&f.d.rq.limit, err)
		}
	}
	return n, err
}

func (f *davUpload) Close() error {
	f.d.rq.mu.Lock()
	broken := f.d.rq.bodyErr != nil
	f.d.rq.mu.Unlock()
	if f.failed || broken {
		f.u.Abort()
		return errors.New("httpfs: upload not stored")
	}
	if err := f.u.Commit(f.ctx); err != nil {
		f.d.rq.set(&f.d.rq.commit, err)
		return err
	}
	f.d.props.remove(f.name)
	for _, p := range f.props {
		f.d.props.patch(f.name, []webdav.Proppatch{p})
	}
	return nil
}

func (f *davUpload) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrInvalid}
}
func (f *davUpload) Seek(int64, int) (int64, error) { return 0, errors.ErrUnsupported }
func (f *davUpload) Readdir(int) ([]fs.FileInfo, error) {
	return nil, &fs.PathError{Op: "readdir", Path: f.name, Err: fs.ErrInvalid}
}

// Stat describes the file as it will be once stored.
func (f *davUpload) Stat() (fs.FileInfo, error) {
	return uploadInfo{name: path.Base(f.name), size: f.n, mtime: f.start}, nil
}

func (f *davUpload) DeadProps() (map[xml.Name]webdav.Property, error) { return nil, nil }

// Patch keeps properties copied to the file until it is stored.
func (f *davUpload) Patch(p []webdav.Proppatch) ([]webdav.Propstat, error) {
	f.props = append(f.props, p...)
	return nil, nil
}

type uploadInfo struct {
	name  string
	size  int64
	mtime time.Time
}

func (i uploadInfo) Name() string       { return i.name }
func (i uploadInfo) Size() int64        { return i.size }
func (i uploadInfo) Mode() fs.FileMode  { return 0o640 }
func (i uploadInfo) ModTime() time.Time { return i.mtime }
func (i uploadInfo) IsDir() bool        { return false }
func (i uploadInfo) Sys() any           { return nil }
