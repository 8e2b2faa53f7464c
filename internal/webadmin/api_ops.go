package webadmin

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// maxPutBytes bounds one PUT /api/files body; the file tree's own
// limits (files.max_file_bytes, the quota) apply as well.
const maxPutBytes = 1 << 30

// FileList is GET /api/files/{path} of a directory.
type FileList struct {
	Path    string     `json:"path"`
	Entries []FileInfo `json:"entries"`
}

func (s *Server) files() (FileBackend, error) {
	if s.cfg.Files == nil {
		return nil, errUnavailable("the file tree")
	}
	return s.cfg.Files, nil
}

// getFile answers a directory's listing as JSON, a file's bytes as
// they are (with Range support, by http.ServeContent).
func (s *Server) getFile(w http.ResponseWriter, r *http.Request) error {
	f, err := s.files()
	if err != nil {
		return err
	}
	p := r.PathValue("path")
	fi, err := f.Stat(r.Context(), p)
	if err != nil {
		return err
	}
	if fi.Dir {
		ents, err := f.ReadDir(r.Context(), p)
		if err != nil {
			return err
		}
		if ents == nil {
			ents = []FileInfo{}
		}
		writeJSON(w, http.StatusOK, FileList{fi.Path, ents})
		return nil
	}
	rc, fi, err := f.Open(r.Context(), p)
	if err != nil {
		return err
	}
	defer rc.Close()
	ct := mime.TypeByExtension(path.Ext(fi.Name))
	if ct == "" || strings.HasPrefix(ct, "text/html") {
		ct = "application/octet-stream" // the admin origin serves no HTML of anyone's
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "sandbox")
	http.ServeContent(w, r, fi.Name, fi.ModTime, rc)
	return nil
}

// putFile stores the body at the path, durably before answering 201
// with the file's entry.
func (s *Server) putFile(w http.ResponseWriter, r *http.Request) error {
	f, err := s.files()
	if err != nil {
		return err
	}
	if r.ContentLength > maxPutBytes {
		return errorf(http.StatusRequestEntityTooLarge, "body of %d bytes: at most %d", r.ContentLength, maxPutBytes)
	}
	body := http.MaxBytesReader(w, r.Body, maxPutBytes)
	fi, err := f.Put(r.Context(), r.PathValue("path"), body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errorf(http.StatusRequestEntityTooLarge, "body larger than %d bytes", maxPutBytes)
		}
		return err
	}
	writeJSON(w, http.StatusCreated, fi)
	return nil
}

func (s *Server) deleteFile(w http.ResponseWriter, r *http.Request) error {
	f, err := s.files()
	if err != nil {
		return err
	}
	if err := f.Delete(r.Context(), r.PathValue("path")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) news() (NewsBackend, error) {
	if s.cfg.News == nil {
		return nil, errUnavailable("news")
	}
	return s.cfg.News, nil
}

// GroupList is GET /api/news/groups.
type GroupList struct {
	Groups []Group `json:"groups"`
}

func (s *Server) getGroups(w http.ResponseWriter, r *http.Request) error {
	n, err := s.news()
	if err != nil {
		return err
	}
	gs, err := n.Groups(r.Context())
	if err != nil {
		return err
	}
	if gs == nil {
		gs = []Group{}
	}
	writeJSON(w, http.StatusOK, GroupList{gs})
	return nil
}

// ArticleList is GET /api/news/groups/{group}/articles.
type ArticleList struct {
	Articles []ArticleSummary `json:"articles"`
	Total    int              `json:"total"`
	Offset   int              `json:"offset"`
	Limit    int              `json:"limit"`
}

func (s *Server) getArticles(w http.ResponseWriter, r *http.Request) error {
	n, err := s.news()
	if err != nil {
		return err
	}
	offset, limit, err := page(r)
	if err != nil {
		return err
	}
	as, total, err := n.Articles(r.Context(), r.PathValue("group"), offset, limit)
	if err != nil {
		return err
	}
	if as == nil {
		as = []ArticleSummary{}
	}
	writeJSON(w, http.StatusOK, ArticleList{as, total, offset, limit})
	return nil
}

// ArticleDetail is GET /api/news/groups/{group}/articles/{number}.
type ArticleDetail struct {
	ArticleSummary
	View
}

func (s *Server) getArticle(w http.ResponseWriter, r *http.Request) error {
	n, err := s.news()
	if err != nil {
		return err
	}
	num, err := strconv.ParseInt(r.PathValue("number"), 10, 64)
	if err != nil || num < 1 {
		return errorf(http.StatusBadRequest, "article number %q: want a positive number", r.PathValue("number"))
	}
	rc, sum, err := n.Article(r.Context(), r.PathValue("group"), num)
	if err != nil {
		return err
	}
	defer rc.Close()
	v, err := ParseView(rc)
	if err != nil {
		return fmt.Errorf("article %d: %w", num, err)
	}
	if v.Headers == nil {
		v.Headers = []Header{}
	}
	if v.Attachments == nil {
		v.Attachments = []Attachment{}
	}
	writeJSON(w, http.StatusOK, ArticleDetail{sum, *v})
	return nil
}

func (s *Server) ops() (OpsBackend, error) {
	if s.cfg.Ops == nil {
		return nil, errUnavailable("the daemon's status")
	}
	return s.cfg.Ops, nil
}

// UserList is GET /api/users.
type UserList struct {
	Users []Account `json:"users"`
}

func (s *Server) getUsers(w http.ResponseWriter, r *http.Request) error {
	o, err := s.ops()
	if err != nil {
		return err
	}
	us, err := o.Users(r.Context())
	if err != nil {
		return err
	}
	if us == nil {
		us = []Account{}
	}
	writeJSON(w, http.StatusOK, UserList{us})
	return nil
}

// ServiceList is GET /api/services.
type ServiceList struct {
	Services []Service `json:"services"`
}

func (s *Server) getServices(w http.ResponseWriter, r *http.Request) error {
	o, err := s.ops()
	if err != nil {
		return err
	}
	ss, err := o.Services(r.Context())
	if err != nil {
		return err
	}
	if ss == nil {
		ss = []Service{}
	}
	writeJSON(w, http.StatusOK, ServiceList{ss})
	return nil
}

// SessionList is GET /api/sessions.
type SessionList struct {
	Sessions []Session `json:"sessions"`
}

func (s *Server) getSessions(w http.ResponseWriter, r *http.Request) error {
	o, err := s.ops()
	if err != nil {
		return err
	}
	ss, err := o.Sessions(r.Context())
	if err != nil {
		return err
	}
	if ss == nil {
		ss = []Session{}
	}
	writeJSON(w, http.StatusOK, SessionList{ss})
	return nil
}

func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) error {
	o, err := s.ops()
	if err != nil {
		return err
	}
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		return errorf(http.StatusBadRequest, "session id %q: want a number", r.PathValue("id"))
	}
	ok, err := o.CloseSession(r.Context(), id)
	if err != nil {
		return err
	}
	if !ok {
		return errorf(http.StatusNotFound, "no open session %d", id)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// MetricList is GET /api/metrics: every series by name, as the
// Prometheus text format at /metrics writes it.
type MetricList struct {
	Metrics map[string]float64 `json:"metrics"`
}

func (s *Server) getMetrics(w http.ResponseWriter, r *http.Request) error {
	o, err := s.ops()
	if err != nil {
		return err
	}
	m, err := o.Metrics(r.Context())
	if err != nil {
		return err
	}
	if m == nil {
		m = map[string]float64{}
	}
	writeJSON(w, http.StatusOK, MetricList{m})
	return nil
}

// LogList is GET /api/log.
type LogList struct {
	Lines []LogLine `json:"lines"`
}

// logLevels orders the levels for level=, which keeps that level and above.
var logLevels = map[string]int{"DEBUG": 0, "INFO": 1, "WARN": 2, "ERROR": 3}

func (s *Server) getLog(w http.ResponseWriter, r *http.Request) error {
	o, err := s.ops()
	if err != nil {
		return err
	}
	n, err := intParam(r, "n", 100, maxLimit)
	if err != nil {
		return err
	}
	level := strings.ToUpper(r.URL.Query().Get("level"))
	min, ok := logLevels[level]
	if level != "" && !ok {
		return errorf(http.StatusBadRequest, "level=%q: want debug, info, warn or error", level)
	}
	q := strings.ToLower(r.URL.Query().Get("q"))
	lines, err := o.Log(r.Context(), maxLimit)
	if err != nil {
		return err
	}
	out := []LogLine{}
	for _, l := range lines {
		if lv, known := logLevels[strings.ToUpper(l.Level)]; level != "" && known && lv < min {
			continue
		}
		if q != "" && !strings.Contains(strings.ToLower(l.Message), q) {
			continue
		}
		out = append(out, l)
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	writeJSON(w, http.StatusOK, LogList{out})
	return nil
}
