package webadmin

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// Limits of the file pages: one upload form's bytes (the backend's own
// quota and file size limits apply as well) and a path's length.
const (
	maxUploadBytes = 1 << 30
	maxPathBytes   = 4096
)

func (c *consoleHandler) fileRoutes(handle func(string, func(http.ResponseWriter, *http.Request))) {
	handle("GET /files", func(w http.ResponseWriter, r *http.Request) { c.back(w, r, c.base+"/files/") })
	handle("GET /files/{path...}", c.files)
	handle("POST /files/{path...}", c.filesPost)
}

// cleanFilePath checks a path of the shared tree from a URL or a form:
// slash-separated, no empty, "." or ".." segment, no NUL or control
// character. The root is "".
func cleanFilePath(p string) (string, error) {
	p = strings.Trim(p, "/")
	if len(p) > maxPathBytes {
		return "", fmt.Errorf("%w: a path longer than %d bytes", ErrBadRequest, maxPathBytes)
	}
	if p == "" {
		return "", nil
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.ContainsFunc(seg, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
			return "", fmt.Errorf("%w: %q is not a usable path", ErrBadRequest, p)
		}
	}
	return p, nil
}

// fileHref is the console's URL of a path of the shared tree.
func fileHref(base, p string) string {
	var b strings.Builder
	b.WriteString(base + "/files")
	for _, seg := range strings.Split(strings.Trim(p, "/"), "/") {
		if seg != "" {
			b.WriteString("/" + url.PathEscape(seg))
		}
	}
	return b.String()
}

type crumb struct{ Name, Href string }

type filesData struct {
	Path    string
	Up      string
	Crumbs  []crumb
	Entries []FileInfo
}

func (c *consoleHandler) fileBackend(w http.ResponseWriter, r *http.Request) (FileBackend, string, bool) {
	if c.s.cfg.Files == nil {
		c.fail(w, r, http.StatusNotFound, "Files are not served by this daemon.")
		return nil, "", false
	}
	p, err := cleanFilePath(r.PathValue("path"))
	if err != nil {
		c.failErr(w, r, "files", err)
		return nil, "", false
	}
	return c.s.cfg.Files, p, true
}

// files shows a directory of the shared tree or sends a file of it.
func (c *consoleHandler) files(w http.ResponseWriter, r *http.Request) {
	fb, p, ok := c.fileBackend(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	fi, err := fb.Stat(ctx, p)
	if err != nil {
		c.failErr(w, r, "/"+p, err)
		return
	}
	if !fi.Dir {
		f, fi, err := fb.Open(ctx, p)
		if err != nil {
			c.failErr(w, r, "/"+p, err)
			return
		}
		defer f.Close()
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", attachmentDisposition(path.Base(p)))
		http.ServeContent(w, r, "", fi.ModTime, f)
		return
	}
	entries, err := fb.ReadDir(ctx, p)
	if err != nil {
		c.failErr(w, r, "/"+p, err)
		return
	}
	d := filesData{Path: p, Entries: entries}
	if p != "" {
		acc := ""
		for _, seg := range strings.Split(p, "/") {
			acc = path.Join(acc, seg)
			d.Crumbs = append(d.Crumbs, crumb{seg, fileHref(c.base, acc) + "/"})
		}
		d.Up = fileHref(c.base, path.Dir(p)) + "/"
		if path.Dir(p) == "." {
			d.Up = c.base + "/files/"
		}
	}
	c.render(w, r, http.StatusOK, "files", "/"+p, "files", d)
}

// filesPost uploads into a directory (?upload=1, a multipart form with
// one or more "file" parts) or deletes a path (?delete=1).
func (c *consoleHandler) filesPost(w http.ResponseWriter, r *http.Request) {
	fb, p, ok := c.fileBackend(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	switch {
	case q.Get("delete") == "1":
		if p == "" {
			c.fail(w, r, http.StatusBadRequest, "The root of the tree cannot be deleted.")
			return
		}
		if err := fb.Delete(ctx, p); err != nil {
			c.failErr(w, r, "delete /"+p, err)
			return
		}
		c.s.log.Info("webadmin: deleted a file", "path", p)
		c.back(w, r, fileHref(c.base, path.Dir(p))+"/")
	case q.Get("upload") == "1":
		r.Body = http.MaxBytesReader(w, r.Body, maxUploadBytes)
		mr, err := r.MultipartReader()
		if err != nil {
			c.fail(w, r, http.StatusBadRequest, "Upload: not a multipart form.")
			return
		}
		stored := 0
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				c.fail(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("Upload: more than %d bytes.", mbe.Limit))
				return
			}
			if err != nil {
				c.fail(w, r, http.StatusBadRequest, "Upload: the form was cut off.")
				return
			}
			if part.FormName() != "file" || part.FileName() == "" {
				part.Close()
				continue
			}
			name, err := cleanFilePath(part.FileName())
			if err != nil || strings.Contains(name, "/") {
				c.fail(w, r, http.StatusBadRequest, fmt.Sprintf("Upload: %q is not a usable file name.", part.FileName()))
				return
			}
			if _, err := fb.Put(ctx, path.Join(p, name), part); err != nil {
				c.failErr(w, r, "upload "+name, err)
				return
			}
			c.s.log.Info("webadmin: uploaded a file", "path", path.Join(p, name))
			stored++
		}
		if stored == 0 {
			c.fail(w, r, http.StatusBadRequest, "Upload: choose a file.")
			return
		}
		c.back(w, r, fileHref(c.base, p)+"/")
	default:
		c.fail(w, r, http.StatusBadRequest, "Say ?upload=1 or ?delete=1.")
	}
}

// attachmentDisposition is the Content-Disposition that makes a
// browser save a download as name; a name that cannot be written in
// the header is left out rather than the header.
func attachmentDisposition(name string) string {
	if d := mime.FormatMediaType("attachment", map[string]string{"filename": name}); d != "" {
		return d
	}
	return "attachment"
}
