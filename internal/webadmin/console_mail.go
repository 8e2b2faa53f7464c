package webadmin

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// messageCSP is the policy of a message's HTML, served in a sandboxed
// frame of its own: no script, no request anywhere, inline styles and
// embedded images only. remoteCSP is the same after the reader asked for
// remote content: images from anywhere, for that view only.
const (
	messageCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data: cid:; sandbox; frame-ancestors 'self'"
	remoteCSP  = "default-src 'none'; style-src 'unsafe-inline'; img-src * data: cid:; sandbox; frame-ancestors 'self'"
)

// Limits of the mail pages: an address list to release to, and the
// inline images (cid:) turned into data: URLs in a message's HTML.
const (
	maxReleaseTo      = 50
	maxInlineImage    = 2 << 20
	maxInlineImageSum = 8 << 20
)

func (c *consoleHandler) mailRoutes(handle func(string, func(http.ResponseWriter, *http.Request))) {
	handle("GET /mail", c.accounts)
	handle("GET /mail/{$}", c.accounts)
	handle("GET /mail/{user}", c.folders)
	handle("GET /mail/{user}/{folder}", c.messages)
	handle("GET /mail/{user}/{folder}/events", c.mailEvents)
	handle("GET /mail/{user}/{folder}/{uid}", c.message)
	handle("GET /mail/{user}/{folder}/{uid}/html", c.messageHTML)
	handle("GET /mail/{user}/{folder}/{uid}/raw", c.messageRaw)
	handle("GET /mail/{user}/{folder}/{uid}/attachments/{index}", c.attachment)
	handle("POST /mail/{user}/{folder}/{uid}/{action}", c.messageAction)
}

// mailBackend answers for a console without mail.
func (c *consoleHandler) mailBackend(w http.ResponseWriter, r *http.Request) (MailBackend, bool) {
	if c.s.cfg.Mail == nil {
		c.fail(w, r, http.StatusNotFound, "Mail is not served by this daemon.")
		return nil, false
	}
	return c.s.cfg.Mail, true
}

func (c *consoleHandler) accounts(w http.ResponseWriter, r *http.Request) {
	mb, ok := c.mailBackend(w, r)
	if !ok {
		return
	}
	names, err := mb.Accounts(r.Context())
	if err != nil {
		c.failErr(w, r, "accounts", err)
		return
	}
	c.render(w, r, http.StatusOK, "accounts", "Mail", "mail", struct{ Accounts []string }{names})
}

func (c *consoleHandler) folders(w http.ResponseWriter, r *http.Request) {
	mb, ok := c.mailBackend(w, r)
	if !ok {
		return
	}
	user := r.PathValue("user")
	fs, err := mb.Folders(r.Context(), user)
	if err != nil {
		c.failErr(w, r, "folders of "+user, err)
		return
	}
	c.render(w, r, http.StatusOK, "folders", user, "mail", struct {
		User    string
		Folders []Folder
	}{user, fs})
}

// pager is the "newer / older" line under a list.
type pager struct {
	Prev, Next      string
	From, To, Total int
}

// newPager links the pages of a list at u (its query kept) whose page
// starting at offset shows n of total rows.
func newPager(u url.URL, offset, n, total int) pager {
	p := pager{From: offset + 1, To: offset + n, Total: total}
	if n == 0 {
		p.From = offset
	}
	link := func(off int) string {
		q := u.Query()
		if off > 0 {
			q.Set("page", strconv.Itoa(off/pageSize+1))
		} else {
			q.Del("page")
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	if offset > 0 {
		p.Prev = link(max(0, offset-pageSize))
	}
	if offset+n < total {
		p.Next = link(offset + pageSize)
	}
	return p
}

// pageOffset reads ?page=N (from 1) as an offset into a list.
func pageOffset(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 || n > 1<<20 {
		return 0
	}
	return (n - 1) * pageSize
}

type messagesData struct {
	User, Folder, Q string
	Live            string // the event stream's URL, "" when the list is not live
	Messages        []Summary
	Pager           pager
}

func (c *consoleHandler) messages(w http.ResponseWriter, r *http.Request) {
	mb, ok := c.mailBackend(w, r)
	if !ok {
		return
	}
	user, folder := r.PathValue("user"), r.PathValue("folder")
	q := r.URL.Query().Get("q")
	query, err := parseSearch(q)
	if err != nil {
		c.fail(w, r, http.StatusBadRequest, "Search: "+err.Error())
		return
	}
	offset := pageOffset(r)
	list, total, err := mb.List(r.Context(), user, folder, query, offset, pageSize)
	if err != nil {
		c.failErr(w, r, "folder "+folder+" of "+user, err)
		return
	}
	d := messagesData{User: user, Folder: folder, Q: q, Messages: list}
	self := url.URL{Path: href(c.base, "mail", user, folder), RawQuery: r.URL.RawQuery}
	d.Pager = newPager(self, offset, len(list), total)
	if q == "" && offset == 0 && c.s.cfg.Events != nil {
		d.Live = href(c.base, "mail", user, folder, "events")
	}
	c.render(w, r, http.StatusOK, "messages", folder+" · "+user, "mail", d)
}

// rowData is one row of the message list.
type rowData struct {
	Base string
	M    Summary
}

// mailEvents streams the rows of messages delivered to one folder, as
// HTML, for the list page's script to put at the top.
func (c *consoleHandler) mailEvents(w http.ResponseWriter, r *http.Request) {
	mb, ok := c.mailBackend(w, r)
	if !ok {
		return
	}
	// The folder is read first: an account or folder that does not
	// exist, or that this reader may not see, gets no stream.
	user, folder := r.PathValue("user"), r.PathValue("folder")
	if _, _, err := mb.List(r.Context(), user, folder, Query{}, 0, 1); err != nil {
		c.failErr(w, r, "folder "+folder+" of "+user, err)
		return
	}
	keep := func(ev Event) bool {
		return (ev.Kind == "delivery" || ev.Kind == "mail-change") && ev.Message != nil &&
			ev.Message.User == user && ev.Message.Folder == folder
	}
	c.s.streamEvents(w, r, keep, func(ev Event) (string, error) {
		key := rowKey{*ev.Message, ev.Kind, ev.Time}
		return c.rows.get(key, func() (string, error) { return c.renderRow(r.Context(), *ev.Message) })
	})
}

// renderRow renders one message's row of the list; a message that is
// gone (deleted, moved away) is an empty row marked data-gone, which
// the script takes out of the list.
func (c *consoleHandler) renderRow(ctx context.Context, m MessageRef) (string, error) {
	rc, sum, err := c.s.cfg.Mail.Open(ctx, m)
	if isNotFound(err) {
		return fmt.Sprintf(`<tr id="m%d" data-gone="1"></tr>`, m.UID), nil
	}
	if err != nil {
		return "", err
	}
	rc.Close()
	var b strings.Builder
	if err := pages["messages"].ExecuteTemplate(&b, "row", rowData{c.base, sum}); err != nil {
		return "", err
	}
	return b.String(), nil
}

// rowCache keeps the latest rendered rows, so that an event watched by
// many open lists is read from the store and rendered once.
type rowCache struct {
	mu    sync.Mutex
	max   int
	items map[rowKey]*cachedRow
}

// rowKey is one event's row: a change is rendered anew each time.
type rowKey struct {
	m    MessageRef
	kind string
	at   time.Time
}

type cachedRow struct {
	once sync.Once
	html string
	err  error
}

func newRowCache(n int) *rowCache { return &rowCache{max: n, items: map[rowKey]*cachedRow{}} }

func (rc *rowCache) get(m rowKey, render func() (string, error)) (string, error) {
	rc.mu.Lock()
	e, ok := rc.items[m]
	if !ok {
		if len(rc.items) >= rc.max {
			clear(rc.items)
		}
		e = &cachedRow{}
		rc.items[m] = e
	}
	rc.mu.Unlock()
	e.once.Do(func() { e.html, e.err = render() })
	if e.err != nil {
		rc.mu.Lock()
		if rc.items[m] == e {
			delete(rc.items, m) // the next watcher tries again
		}
		rc.mu.Unlock()
	}
	return e.html, e.err
}

// messageRef reads a message's user, folder and UID from the path.
func messageRef(r *http.Request) (MessageRef, bool) {
	uid, err := strconv.ParseUint(r.PathValue("uid"), 10, 32)
	if err != nil || uid == 0 {
		return MessageRef{}, false
	}
	return MessageRef{User: r.PathValue("user"), Folder: r.PathValue("folder"), UID: uint32(uid)}, true
}

// openView opens the message named by the path and takes it apart.
func (c *consoleHandler) openView(w http.ResponseWriter, r *http.Request) (MessageRef, *View, Summary, bool) {
	mb, ok := c.mailBackend(w, r)
	if !ok {
		return MessageRef{}, nil, Summary{}, false
	}
	m, ok := messageRef(r)
	if !ok {
		c.fail(w, r, http.StatusNotFound, "No such message.")
		return m, nil, Summary{}, false
	}
	rc, sum, err := mb.Open(r.Context(), m)
	if err != nil {
		c.failErr(w, r, "message", err)
		return m, nil, Summary{}, false
	}
	defer rc.Close()
	v, err := ParseView(rc)
	if err != nil {
		c.fail(w, r, http.StatusUnprocessableEntity, "The message cannot be shown: "+err.Error()+". Its raw source is at "+c.messageURL(m)+"/raw.")
		return m, nil, Summary{}, false
	}
	return m, v, sum, true
}

func (c *consoleHandler) messageURL(m MessageRef) string {
	return href(c.base, "mail", m.User, m.Folder, m.UID)
}

type messageData struct {
	Self    string
	Summary Summary
	View    *View
	Folders []Folder
	Remote  bool
	Notice  string
}

// notices are the lines a message page shows after an action
// redirected to it (?done=NAME): fixed texts, so a link cannot make the
// console say what its author wants.
var notices = map[string]string{
	"read": "Marked read.", "unread": "Marked unread.", "released": "Released.",
}

func (c *consoleHandler) message(w http.ResponseWriter, r *http.Request) {
	m, v, sum, ok := c.openView(w, r)
	if !ok {
		return
	}
	all, err := c.s.cfg.Mail.Folders(r.Context(), m.User)
	if err != nil {
		c.s.log.Warn("webadmin: folders for the move menu", "user", m.User, "err", err)
	}
	var folders []Folder // where the message can move to
	for _, f := range all {
		if f.Name != m.Folder {
			folders = append(folders, f)
		}
	}
	d := messageData{Self: c.messageURL(m), Summary: sum, View: v, Folders: folders,
		Remote: r.URL.Query().Get("remote") == "1", Notice: notices[r.URL.Query().Get("done")]}
	c.render(w, r, http.StatusOK, "message", sum.Subject, "mail", d)
}

// messageHTML serves a message's HTML for the sandboxed frame, under a
// policy that runs no script and loads nothing remote unless asked.
func (c *consoleHandler) messageHTML(w http.ResponseWriter, r *http.Request) {
	_, v, _, ok := c.openView(w, r)
	if !ok {
		return
	}
	h := w.Header()
	if r.URL.Query().Get("remote") == "1" {
		h.Set("Content-Security-Policy", remoteCSP)
	} else {
		h.Set("Content-Security-Policy", messageCSP)
	}
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	io.WriteString(w, inlineImages(v))
}

// inlineImages replaces a message's cid: references to its own image
// parts with data: URLs, which the frame's policy allows, so that
// embedded images show while remote ones stay blocked.
func inlineImages(v *View) string {
	html, sum := v.HTML, 0
	for _, a := range v.Attachments {
		if a.ContentID == "" || !strings.HasPrefix(a.ContentType, "image/") || a.Size > maxInlineImage ||
			!strings.Contains(html, "cid:"+a.ContentID) {
			continue
		}
		if sum += a.Size; sum > maxInlineImageSum {
			break
		}
		data, _ := v.Data(a.Index)
		html = strings.ReplaceAll(html, "cid:"+a.ContentID,
			"data:"+a.ContentType+";base64,"+base64.StdEncoding.EncodeToString(data))
	}
	return html
}

// messageRaw serves a message's source as plain text, or to save.
func (c *consoleHandler) messageRaw(w http.ResponseWriter, r *http.Request) {
	mb, ok := c.mailBackend(w, r)
	if !ok {
		return
	}
	m, ok := messageRef(r)
	if !ok {
		c.fail(w, r, http.StatusNotFound, "No such message.")
		return
	}
	rc, _, err := mb.Open(r.Context(), m)
	if err != nil {
		c.failErr(w, r, "message", err)
		return
	}
	defer rc.Close()
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "no-store")
	if r.URL.Query().Get("download") == "1" {
		h.Set("Content-Type", "message/rfc822")
		h.Set("Content-Disposition", attachmentDisposition(fmt.Sprintf("%d.eml", m.UID)))
	} else {
		h.Set("Content-Type", "text/plain; charset=utf-8")
	}
	io.Copy(w, rc)
}

// attachment serves one part of a message to save, never to render in
// the console's origin.
func (c *consoleHandler) attachment(w http.ResponseWriter, r *http.Request) {
	_, v, _, ok := c.openView(w, r)
	if !ok {
		return
	}
	i, err := strconv.Atoi(r.PathValue("index"))
	data, found := v.Data(i)
	if err != nil || !found {
		c.fail(w, r, http.StatusNotFound, "No such attachment.")
		return
	}
	a := v.Attachments[i]
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	ct := a.ContentType
	if _, _, err := mime.ParseMediaType(ct); err != nil || ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", attachmentDisposition(a.Filename))
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

// messageAction is a message page's buttons: delete, move, flags
// (mark read or unread) and release.
func (c *consoleHandler) messageAction(w http.ResponseWriter, r *http.Request) {
	mb, ok := c.mailBackend(w, r)
	if !ok {
		return
	}
	m, ok := messageRef(r)
	if !ok {
		c.fail(w, r, http.StatusNotFound, "No such message.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	ctx := r.Context()
	list := href(c.base, "mail", m.User, m.Folder)
	switch r.PathValue("action") {
	case "delete":
		if err := mb.Delete(ctx, m); err != nil {
			c.failErr(w, r, "delete", err)
			return
		}
		c.back(w, r, list)
	case "move":
		to := r.PostFormValue("folder")
		if to == "" {
			c.fail(w, r, http.StatusBadRequest, "Move: choose a folder.")
			return
		}
		moved, err := mb.Move(ctx, m, to)
		if err != nil {
			c.failErr(w, r, "move to "+to, err)
			return
		}
		c.back(w, r, c.messageURL(moved))
	case "flags":
		var add, remove []string
		switch mark := r.PostFormValue("mark"); mark {
		case "read":
			add = []string{`\Seen`}
		case "unread":
			remove = []string{`\Seen`}
		default:
			c.fail(w, r, http.StatusBadRequest, "Mark: read or unread.")
			return
		}
		if _, err := mb.SetFlags(ctx, m, add, remove); err != nil {
			c.failErr(w, r, "mark", err)
			return
		}
		c.back(w, r, c.messageURL(m)+"?done="+r.PostFormValue("mark"))
	case "release":
		to, err := releaseAddresses(r.PostFormValue("to"))
		if err != nil {
			c.fail(w, r, http.StatusBadRequest, "Release: "+err.Error())
			return
		}
		if err := mb.Release(ctx, m, to); err != nil {
			c.failErr(w, r, "release", err)
			return
		}
		c.s.log.Info("webadmin: released a message", "user", m.User, "folder", m.Folder, "uid", m.UID, "to", to)
		c.back(w, r, c.messageURL(m)+"?done=released")
	default:
		c.fail(w, r, http.StatusNotFound, "No such action.")
	}
}

// releaseAddresses reads the addresses a message is released to: a
// comma-separated list of bare addresses (an email input's "multiple").
func releaseAddresses(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		a, err := mail.ParseAddress(f)
		if err != nil || strings.ContainsAny(a.Address, "\r\n\x00") {
			return nil, fmt.Errorf("%q is not an address", f)
		}
		// A quoted local part ("a b"@x) comes back unquoted; such an
		// address is refused rather than sent on malformed.
		if again, err := mail.ParseAddress(a.Address); err != nil || again.Address != a.Address {
			return nil, fmt.Errorf("%q: plumb releases only to plain addresses", f)
		}
		out = append(out, a.Address)
	}
	switch {
	case len(out) == 0:
		return nil, fmt.Errorf("give an address")
	case len(out) > maxReleaseTo:
		return nil, fmt.Errorf("at most %d addresses", maxReleaseTo)
	}
	return out, nil
}
