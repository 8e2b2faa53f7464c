package webadmin

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits of /api/wait, and of the long requests (waits and event
// streams) open at once; one more is refused with 503 and logged.
const (
	defaultWait = 30 * time.Second
	maxWait     = 5 * time.Minute
)

var maxLong int64 = 4096 // a variable for the test

// long takes a place for a long request, or refuses it.
func (s *Server) long(r *http.Request) (release func(), err error) {
	if s.longCount.Add(1) > maxLong {
		s.longCount.Add(-1)
		s.log.Warn("webadmin: too many waits and event streams open; refusing one", "remote", r.RemoteAddr, "limit", maxLong)
		return nil, errorf(http.StatusServiceUnavailable, "too many waits and event streams open (%d); try again later", maxLong)
	}
	return func() { s.longCount.Add(-1) }, nil
}

func (s *Server) mail() (MailBackend, error) {
	if s.cfg.Mail == nil {
		return nil, errUnavailable("mail")
	}
	return s.cfg.Mail, nil
}

// AccountList is GET /api/accounts.
type AccountList struct {
	Accounts []string `json:"accounts"`
}

func (s *Server) getAccounts(w http.ResponseWriter, r *http.Request) error {
	m, err := s.mail()
	if err != nil {
		return err
	}
	names, err := m.Accounts(r.Context())
	if err != nil {
		return err
	}
	if names == nil {
		names = []string{}
	}
	writeJSON(w, http.StatusOK, AccountList{names})
	return nil
}

// FolderList is GET /api/accounts/{user}/folders.
type FolderList struct {
	Folders []Folder `json:"folders"`
}

func (s *Server) getFolders(w http.ResponseWriter, r *http.Request) error {
	m, err := s.mail()
	if err != nil {
		return err
	}
	fs, err := m.Folders(r.Context(), r.PathValue("user"))
	if err != nil {
		return err
	}
	if fs == nil {
		fs = []Folder{}
	}
	writeJSON(w, http.StatusOK, FolderList{fs})
	return nil
}

// query reads a Query from the URL: q, from, to, subject, header
// (Name:value, repeatable), unseen, since (RFC 3339).
func query(r *http.Request) (Query, error) {
	v := r.URL.Query()
	q := Query{Text: v.Get("q"), From: v.Get("from"), To: v.Get("to"), Subject: v.Get("subject")}
	for _, h := range v["header"] {
		name, val, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return q, errorf(http.StatusBadRequest, "header=%q: want Name:value", h)
		}
		if q.Header == nil {
			q.Header = map[string]string{}
		}
		q.Header[name] = strings.TrimSpace(val)
	}
	switch v.Get("unseen") {
	case "", "0", "false":
	case "1", "true":
		q.Unseen = true
	default:
		return q, errorf(http.StatusBadRequest, "unseen=%q: want 1 or 0", v.Get("unseen"))
	}
	if since := v.Get("since"); since != "" {
		t, err := time.Parse(time.RFC3339Nano, since)
		if err != nil {
			return q, errorf(http.StatusBadRequest, "since=%q: want an RFC 3339 time such as 2026-01-02T15:04:05Z", since)
		}
		q.Since = t
	}
	return q, nil
}

// MessageList is GET /api/messages.
type MessageList struct {
	Messages []Summary `json:"messages"`
	Total    int       `json:"total"`
	Offset   int       `json:"offset"`
	Limit    int       `json:"limit"`
}

// list runs q in user's folder, or, without a user, in that folder of
// every account, merged newest first.
func (s *Server) list(ctx context.Context, user, folder string, q Query, offset, limit int) ([]Summary, int, error) {
	m, err := s.mail()
	if err != nil {
		return nil, 0, err
	}
	if folder == "" {
		folder = "INBOX"
	}
	if user != "" {
		return m.List(ctx, user, folder, q, offset, limit)
	}
	users, err := m.Accounts(ctx)
	if err != nil {
		return nil, 0, err
	}
	var all []Summary
	total := 0
	for _, u := range users {
		got, n, err := m.List(ctx, u, folder, q, 0, offset+limit)
		if err != nil {
			continue // an account without that folder
		}
		all = append(all, got...)
		total += n
	}
	slices.SortStableFunc(all, func(a, b Summary) int { return b.Received.Compare(a.Received) })
	if offset >= len(all) {
		return []Summary{}, total, nil
	}
	return all[offset:min(len(all), offset+limit)], total, nil
}

func (s *Server) getMessages(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r)
	if err != nil {
		return err
	}
	offset, limit, err := page(r)
	if err != nil {
		return err
	}
	v := r.URL.Query()
	msgs, total, err := s.list(r.Context(), v.Get("user"), v.Get("folder"), q, offset, limit)
	if err != nil {
		return err
	}
	if msgs == nil {
		msgs = []Summary{}
	}
	writeJSON(w, http.StatusOK, MessageList{msgs, total, offset, limit})
	return nil
}

// folderOr is folder, or INBOX when it is empty.
func folderOr(folder string) string {
	if folder == "" {
		return "INBOX"
	}
	return folder
}

// ref reads the message named by the path.
func ref(r *http.Request) (MessageRef, error) {
	uid, err := strconv.ParseUint(r.PathValue("uid"), 10, 32)
	if err != nil || uid == 0 {
		return MessageRef{}, errorf(http.StatusBadRequest, "uid %q: want a positive number", r.PathValue("uid"))
	}
	return MessageRef{User: r.PathValue("user"), Folder: r.PathValue("folder"), UID: uint32(uid)}, nil
}

// open reads the message named by the path and takes it apart.
func (s *Server) open(r *http.Request) ([]byte, Summary, *View, error) {
	m, err := s.mail()
	if err != nil {
		return nil, Summary{}, nil, err
	}
	ref, err := ref(r)
	if err != nil {
		return nil, Summary{}, nil, err
	}
	rc, sum, err := m.Open(r.Context(), ref)
	if err != nil {
		return nil, Summary{}, nil, err
	}
	defer rc.Close()
	raw, err := io.ReadAll(io.LimitReader(rc, maxViewBytes+1))
	if err != nil {
		return nil, Summary{}, nil, err
	}
	v, err := ParseView(bytes.NewReader(raw))
	if err != nil {
		v = &View{Headers: []Header{}, Attachments: []Attachment{}}
	}
	if v.Headers == nil {
		v.Headers = []Header{}
	}
	if v.Attachments == nil {
		v.Attachments = []Attachment{}
	}
	return raw, sum, v, nil
}

// MessageDetail is GET /api/messages/{user}/{folder}/{uid}.
type MessageDetail struct {
	Summary
	View
}

func (s *Server) getMessage(w http.ResponseWriter, r *http.Request) error {
	_, sum, v, err := s.open(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, MessageDetail{sum, *v})
	return nil
}

// getMessagePart answers a message's raw source, text or HTML. The
// HTML comes with a Content-Security-Policy that sandboxes it and
// blocks remote content: opened directly it cannot run its scripts.
func (s *Server) getMessagePart(part string) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		raw, _, v, err := s.open(r)
		if err != nil {
			return err
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		switch part {
		case "raw":
			h.Set("Content-Type", "message/rfc822")
			w.Write(raw)
		case "text":
			h.Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, v.Text)
		case "html":
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'")
			io.WriteString(w, v.HTML)
		}
		return nil
	}
}

func (s *Server) getAttachment(w http.ResponseWriter, r *http.Request) error {
	_, _, v, err := s.open(r)
	if err != nil {
		return err
	}
	i, err := strconv.Atoi(r.PathValue("index"))
	data, ok := v.Data(i)
	if err != nil || !ok {
		return errorf(http.StatusNotFound, "no attachment %q (the message has %d)", r.PathValue("index"), len(v.Attachments))
	}
	a := v.Attachments[i]
	h := w.Header()
	h.Set("Content-Type", a.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox")
	h.Set("Content-Disposition", mimeDisposition(a.Filename))
	w.Write(data)
	return nil
}

// mimeDisposition is an attachment's Content-Disposition.
func mimeDisposition(name string) string {
	if name == "" {
		return "attachment"
	}
	return "attachment; filename*=UTF-8''" + url.PathEscape(name)
}

func (s *Server) deleteMessage(w http.ResponseWriter, r *http.Request) error {
	m, err := s.mail()
	if err != nil {
		return err
	}
	ref, err := ref(r)
	if err != nil {
		return err
	}
	if err := m.Delete(r.Context(), ref); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// MoveRequest is POST …/move's body.
type MoveRequest struct {
	Folder string `json:"folder"`
}

// MoveResult names the message in its new folder.
type MoveResult struct {
	Message MessageRef `json:"message"`
}

func (s *Server) moveMessage(w http.ResponseWriter, r *http.Request) error {
	m, err := s.mail()
	if err != nil {
		return err
	}
	ref, err := ref(r)
	if err != nil {
		return err
	}
	var req MoveRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if req.Folder == "" {
		return errorf(http.StatusBadRequest, "folder: want the folder to move the message to")
	}
	moved, err := m.Move(r.Context(), ref, req.Folder)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, MoveResult{moved})
	return nil
}

// FlagsRequest is POST …/flags's body: IMAP system flags to add and remove.
type FlagsRequest struct {
	Add    []string `json:"add"`
	Remove []string `json:"remove"`
}

// FlagsResult is the message's flags after the change.
type FlagsResult struct {
	Flags []string `json:"flags"`
}

func (s *Server) flagMessage(w http.ResponseWriter, r *http.Request) error {
	m, err := s.mail()
	if err != nil {
		return err
	}
	ref, err := ref(r)
	if err != nil {
		return err
	}
	var req FlagsRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	flags, err := m.SetFlags(r.Context(), ref, req.Add, req.Remove)
	if err != nil {
		return err
	}
	if flags == nil {
		flags = []string{}
	}
	writeJSON(w, http.StatusOK, FlagsResult{flags})
	return nil
}

// ReleaseRequest is POST …/release's body: the addresses to send to.
type ReleaseRequest struct {
	To []string `json:"to"`
}

func (s *Server) releaseMessage(w http.ResponseWriter, r *http.Request) error {
	m, err := s.mail()
	if err != nil {
		return err
	}
	ref, err := ref(r)
	if err != nil {
		return err
	}
	var req ReleaseRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if len(req.To) == 0 || len(req.To) > 100 {
		return errorf(http.StatusBadRequest, "to: want 1 to 100 addresses")
	}
	if err := m.Release(r.Context(), ref, req.To); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, req)
	return nil
}

// wait answers the first message, oldest first, that matches the
// filter and was received at or after since (default: now); if there
// is none yet, the next one to arrive; if none arrives within timeout,
// 408. It is driven by the event source: no polling.
func (s *Server) wait(w http.ResponseWriter, r *http.Request) error {
	mb, err := s.mail()
	if err != nil {
		return err
	}
	if s.cfg.Events == nil {
		return errUnavailable("the event source")
	}
	start := time.Now()
	q, err := query(r)
	if err != nil {
		return err
	}
	release, err := s.long(r)
	if err != nil {
		return err
	}
	defer release()
	if q.Since.IsZero() {
		q.Since = start
	}
	timeout := defaultWait
	if t := r.URL.Query().Get("timeout"); t != "" {
		if timeout, err = time.ParseDuration(t); err != nil {
			secs, err2 := strconv.ParseFloat(t, 64)
			if err2 != nil || secs < 0 {
				return errorf(http.StatusBadRequest, "timeout=%q: want a duration such as 30s, or seconds", t)
			}
			timeout = time.Duration(secs * float64(time.Second))
		}
		timeout = min(max(timeout, 0), maxWait)
	}
	user, folder := r.URL.Query().Get("user"), r.URL.Query().Get("folder")
	events, stop := s.cfg.Events.Subscribe() // before looking, so nothing falls between
	defer stop()
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	// first finds the oldest match, in user's folder or each account's.
	first := func() (*Summary, error) {
		users := []string{user}
		if user == "" {
			var err error
			if users, err = mb.Accounts(ctx); err != nil {
				return nil, err
			}
		}
		var best *Summary
		for _, u := range users {
			_, n, err := mb.List(ctx, u, folderOr(folder), q, 0, 0)
			if err != nil && user != "" {
				return nil, err
			}
			if err != nil || n == 0 {
				continue // an account without that folder, or no match
			}
			got, _, err := mb.List(ctx, u, folderOr(folder), q, n-1, 1)
			if err == nil && len(got) == 1 && (best == nil || got[0].Received.Before(best.Received)) {
				best = &got[0]
			}
		}
		return best, nil
	}
	for {
		m, err := first()
		if err != nil && ctx.Err() == nil {
			return err
		}
		if m != nil {
			writeJSON(w, http.StatusOK, m)
			return nil
		}
		for arrived := false; !arrived; {
			select {
			case <-ctx.Done():
				if r.Context().Err() != nil {
					return nil // the client went away
				}
				return errorf(http.StatusRequestTimeout, "no matching message within %v", timeout)
			case ev := <-events:
				arrived = ev.Kind == "delivery" && ev.Message != nil && (user == "" || strings.EqualFold(ev.Message.User, user))
			}
		}
	}
}

// events streams the daemon's events as server-sent events, of the
// kinds in kind (comma-separated; all when empty) and, with user, only
// those about that account.
func (s *Server) events(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Events == nil {
		return errUnavailable("the event source")
	}
	var kinds []string
	if k := r.URL.Query().Get("kind"); k != "" {
		kinds = strings.Split(k, ",")
		for _, k := range kinds {
			if !slices.Contains(EventKinds, k) {
				return errorf(http.StatusBadRequest, "kind %q: want one of %s", k, strings.Join(EventKinds, ", "))
			}
		}
	}
	user := r.URL.Query().Get("user")
	release, err := s.long(r)
	if err != nil {
		return err
	}
	defer release()
	s.streamEvents(w, r, func(ev Event) bool { return eventWanted(ev, kinds, user) }, nil)
	return nil
}

// EventKinds are the kinds of Event.
var EventKinds = []string{"delivery", "mail-change", "upload", "post", "login-failure"}

// eventWanted reports whether ev is of one of kinds (any, when empty)
// and, when user is set, about that account.
func eventWanted(ev Event, kinds []string, user string) bool {
	if len(kinds) > 0 && !slices.Contains(kinds, ev.Kind) {
		return false
	}
	if user == "" {
		return true
	}
	if ev.Message != nil {
		return strings.EqualFold(ev.Message.User, user)
	}
	return strings.EqualFold(ev.User, user)
}
