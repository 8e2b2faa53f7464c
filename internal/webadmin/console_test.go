package webadmin

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// consoleFixture is a console over the test doubles, served on loopback.
type consoleFixture struct {
	srv    *httptest.Server
	mail   *fakeMail
	files  *fakeFiles
	ops    *fakeOps
	events *fakeEvents
	cfg    Config
}

const plainMessage = `From: Ann <ann@example.org>
To: bob@example.org
Subject: hello <b>bob</b>
Date: Mon, 1 Dec 2026 10:00:00 +0000

Hi Bob, see you.
`

const htmlMessage = `From: shop@example.com
To: bob@example.org
Subject: Your order
MIME-Version: 1.0
Content-Type: multipart/related; boundary="B"

--B
Content-Type: multipart/alternative; boundary="A"

--A
Content-Type: text/plain; charset=utf-8

plain part here
--A
Content-Type: text/html; charset=utf-8

<html><body><p id="p">html part here</p><script>document.title="pwned"</script><img src="http://127.0.0.1:9/pixel.gif"><img src="cid:logo@x"></body></html>
--A--
--B
Content-Type: image/png
Content-ID: <logo@x>
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--B
Content-Type: application/pdf
Content-Disposition: attachment; filename="invoice.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--B--
`

func newConsoleFixture(t *testing.T) *consoleFixture {
	t.Helper()
	f := &consoleFixture{mail: newFakeMail(), files: newFakeFiles(), ops: &fakeOps{}, events: newFakeEvents()}
	f.mail.add("bob", "INBOX", plainMessage)
	f.mail.add("bob", "INBOX", htmlMessage)
	f.mail.add("bob", "Archive/2026", plainMessage)
	f.mail.folders["bob"]["Trash"] = nil
	f.files.put("readme.txt", "read me")
	f.files.put("pub/data.bin", "0123456789")
	f.ops.sessions = []Session{{ID: 7, Service: "imap", Peer: "127.0.0.1:5555", User: "bob", Since: time.Now(), BytesIn: 10, BytesOut: 2048}}
	f.ops.log = []LogLine{
		{Time: time.Now(), Level: "INFO", Message: "smtp delivery", Attrs: map[string]string{"rcpt": "bob"}},
		{Time: time.Now(), Level: "WARN", Message: "login failed", Attrs: map[string]string{"user": "mallory"}},
		{Time: time.Now(), Level: "DEBUG", Message: "noise"},
	}
	f.cfg = Config{Mail: f.mail, Files: f.files, Ops: f.ops, Events: f.events,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	f.srv = httptest.NewServer(New(f.cfg))
	t.Cleanup(f.srv.Close)
	return f
}

// noRedirect is a client that shows a redirect instead of following it.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// get fetches path and returns the response and its body.
func (f *consoleFixture) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	resp, err := noRedirect.Get(f.srv.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// post sends a same-origin form, as the console's own page would.
func (f *consoleFixture) post(t *testing.T, path string, form url.Values) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", f.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", f.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func wantStatus(t *testing.T, what string, resp *http.Response, code int) {
	t.Helper()
	if resp.StatusCode != code {
		t.Fatalf("%s: status %d, want %d", what, resp.StatusCode, code)
	}
}

func wantIn(t *testing.T, what, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(body, s) {
			t.Errorf("%s: no %q in\n%s", what, s, body)
		}
	}
}

// externalRef finds an attribute that would load something from
// another origin.
var externalRef = regexp.MustCompile(`(?i)(src|href|action)="(https?:)?//`)

func TestConsolePagesAreStrictAndSelfContained(t *testing.T) {
	f := newConsoleFixture(t)
	for _, path := range []string{"/", "/mail", "/mail/bob", "/mail/bob/INBOX", "/mail/bob/INBOX/2",
		"/files/", "/files/pub/", "/news", "/sessions", "/log"} {
		resp, body := f.get(t, path)
		wantStatus(t, "GET "+path, resp, http.StatusOK)
		if got := resp.Header.Get("Content-Security-Policy"); got != consoleCSP {
			t.Errorf("GET %s: Content-Security-Policy %q, want %q", path, got, consoleCSP)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no X-Content-Type-Options: nosniff", path)
		}
		if m := externalRef.FindString(body); m != "" {
			t.Errorf("GET %s: page refers elsewhere: %s", path, m)
		}
		if strings.Contains(body, "<script>") || strings.Contains(body, " style=") || strings.Contains(body, " onclick=") {
			t.Errorf("GET %s: inline script or style, which the policy forbids", path)
		}
		wantIn(t, "GET "+path, body, `name="viewport"`, "/static/console.css", "/static/console.js")
	}
	for _, path := range []string{"/static/console.css", "/static/console.js"} {
		resp, body := f.get(t, path)
		wantStatus(t, "GET "+path, resp, http.StatusOK)
		if len(body) < 100 {
			t.Errorf("GET %s: %d bytes", path, len(body))
		}
	}
	_, body := f.get(t, "/")
	wantIn(t, "overview", body, "smtp", "127.0.0.1:10025", "imap")
}

func TestConsoleMailPages(t *testing.T) {
	f := newConsoleFixture(t)
	_, body := f.get(t, "/mail")
	wantIn(t, "accounts", body, `href="/mail/bob"`)
	_, body = f.get(t, "/mail/bob")
	wantIn(t, "folders", body, `href="/mail/bob/INBOX"`, `href="/mail/bob/Archive%2F2026"`, "Trash")

	_, body = f.get(t, "/mail/bob/INBOX")
	wantIn(t, "list", body, "Your order", "hello &lt;b&gt;bob&lt;/b&gt;", `data-live="/mail/bob/INBOX/events"`, `class="unseen"`)
	if strings.Index(body, "Your order") > strings.Index(body, "hello &lt;b&gt;") {
		t.Errorf("list: the newer message is not first")
	}

	// A folder with a slash in its name is one path segment.
	resp, body := f.get(t, "/mail/bob/Archive%2F2026")
	wantStatus(t, "GET /mail/bob/Archive%2F2026", resp, http.StatusOK)
	wantIn(t, "archive list", body, `href="/mail/bob/Archive%2F2026/3"`)

	_, body = f.get(t, "/mail/bob/INBOX?q="+url.QueryEscape(`from:shop subject:"your order"`))
	if f.mail.lastQ.From != "shop" || f.mail.lastQ.Subject != "your order" {
		t.Errorf("search: backend got %+v, want From shop, Subject \"your order\"", f.mail.lastQ)
	}
	wantIn(t, "search", body, "Your order", "Live updates are on the first page without a search")
	if strings.Contains(body, "hello &lt;b&gt;") || strings.Contains(body, "data-live=") {
		t.Errorf("search: the other message is listed, or the list is live:\n%s", body)
	}
	resp, _ = f.get(t, "/mail/bob/INBOX?q="+url.QueryEscape(`from:"unclosed`))
	wantStatus(t, "a search with an open quote", resp, http.StatusBadRequest)
	resp, _ = f.get(t, "/mail/nobody/INBOX")
	wantStatus(t, "an unknown account", resp, http.StatusNotFound)
	resp, _ = f.get(t, "/mail/bob/INBOX/99")
	wantStatus(t, "an unknown message", resp, http.StatusNotFound)
	resp, _ = f.get(t, "/mail/bob/INBOX/x")
	wantStatus(t, "a UID that is not a number", resp, http.StatusNotFound)
}

func TestConsoleListPages(t *testing.T) {
	f := newConsoleFixture(t)
	for i := 0; i < pageSize+5; i++ {
		f.mail.add("carol", "INBOX", "Subject: n\n\nbody\n")
	}
	_, body := f.get(t, "/mail/carol/INBOX")
	wantIn(t, "page 1", body, "1–50 of 55", `href="/mail/carol/INBOX?page=2"`)
	if strings.Contains(body, `rel="prev"`) {
		t.Errorf("page 1 links to a newer page")
	}
	_, body = f.get(t, "/mail/carol/INBOX?page=2")
	wantIn(t, "page 2", body, "51–55 of 55", `href="/mail/carol/INBOX"`)
	if strings.Contains(body, "data-live=") {
		t.Errorf("page 2 is live")
	}
}

func TestConsoleMessageView(t *testing.T) {
	f := newConsoleFixture(t)
	resp, body := f.get(t, "/mail/bob/INBOX/2")
	wantStatus(t, "view", resp, http.StatusOK)
	wantIn(t, "view", body, "Your order", "plain part here", `<iframe id="html" sandbox=""`,
		`src="/mail/bob/INBOX/2/html"`, "invoice.pdf", `href="/mail/bob/INBOX/2/attachments/1"`,
		`href="/mail/bob/INBOX/2/raw"`, "Load remote content", "Content-Type")
	wantIn(t, "view's move menu", body, "<option>Archive/2026</option>", "<option>Trash</option>")
	if strings.Contains(body, "<option>INBOX</option>") {
		t.Errorf("view: the move menu offers the message's own folder")
	}
	solo := f.mail.add("solo", "INBOX", plainMessage)
	if _, solo := f.get(t, fmt.Sprintf("/mail/solo/INBOX/%d", solo.UID)); strings.Contains(solo, "/move") || !strings.Contains(solo, "Ann") {
		t.Errorf("view of a message in the only folder: a move form, or no page:\n%s", solo)
	}
	if strings.Contains(body, "html part here") || strings.Contains(body, "document.title") {
		t.Errorf("view: the message's HTML is in the console's own page")
	}

	resp, body = f.get(t, "/mail/bob/INBOX/2/html")
	if got := resp.Header.Get("Content-Security-Policy"); got != messageCSP {
		t.Errorf("html frame: Content-Security-Policy %q, want %q", got, messageCSP)
	}
	wantIn(t, "html frame", body, "html part here", "data:image/png;base64,iVBORw0KGgo=")
	if strings.Contains(body, "cid:logo@x") {
		t.Errorf("html frame: the inline image is still a cid: reference")
	}

	_, body = f.get(t, "/mail/bob/INBOX/2?remote=1")
	wantIn(t, "remote view", body, `src="/mail/bob/INBOX/2/html?remote=1"`, "Block it again")
	resp, _ = f.get(t, "/mail/bob/INBOX/2/html?remote=1")
	if got := resp.Header.Get("Content-Security-Policy"); got != remoteCSP {
		t.Errorf("remote html frame: Content-Security-Policy %q, want %q", got, remoteCSP)
	}

	resp, body = f.get(t, "/mail/bob/INBOX/2/attachments/1")
	wantStatus(t, "attachment", resp, http.StatusOK)
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename=invoice.pdf` || body != "%PDF-1.4\n" {
		t.Errorf("attachment: Content-Disposition %q, body %q", cd, body)
	}
	resp, _ = f.get(t, "/mail/bob/INBOX/2/attachments/9")
	wantStatus(t, "a missing attachment", resp, http.StatusNotFound)

	resp, body = f.get(t, "/mail/bob/INBOX/1/raw")
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" || !strings.HasPrefix(body, "From: Ann") {
		t.Errorf("raw: Content-Type %q, body %q", ct, body)
	}
	resp, _ = f.get(t, "/mail/bob/INBOX/1/raw?download=1")
	if cd := resp.Header.Get("Content-Disposition"); cd != "attachment; filename=1.eml" {
		t.Errorf("raw download: Content-Disposition %q", cd)
	}
}

func TestConsoleMessageActions(t *testing.T) {
	f := newConsoleFixture(t)
	resp := f.post(t, "/mail/bob/INBOX/1/flags", url.Values{"mark": {"read"}})
	wantStatus(t, "mark read", resp, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != "/mail/bob/INBOX/1?done=read" {
		t.Errorf("mark read: Location %q", loc)
	}
	_, body := f.get(t, "/mail/bob/INBOX/1?done=read")
	wantIn(t, "after mark read", body, `\Seen`, "Marked read.", "Mark unread")
	f.post(t, "/mail/bob/INBOX/1/flags", url.Values{"mark": {"unread"}})
	if _, s, _ := f.mail.Open(t.Context(), MessageRef{"bob", "INBOX", 1}); hasFlag(s.Flags, `\Seen`) {
		t.Errorf("mark unread: flags %v", s.Flags)
	}
	wantStatus(t, "mark sideways", f.post(t, "/mail/bob/INBOX/1/flags", url.Values{"mark": {"sideways"}}), http.StatusBadRequest)

	resp = f.post(t, "/mail/bob/INBOX/1/release", url.Values{"to": {"carol@example.net, dave@example.net"}})
	wantStatus(t, "release", resp, http.StatusSeeOther)
	if got := f.mail.released[MessageRef{"bob", "INBOX", 1}]; strings.Join(got, " ") != "carol@example.net dave@example.net" {
		t.Errorf("release: backend got %v", got)
	}
	wantStatus(t, "release to a bad address", f.post(t, "/mail/bob/INBOX/1/release", url.Values{"to": {"x\r\nRCPT TO:<y>"}}), http.StatusBadRequest)

	resp = f.post(t, "/mail/bob/INBOX/1/move", url.Values{"folder": {"Trash"}})
	wantStatus(t, "move", resp, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/mail/bob/Trash/") {
		t.Errorf("move: Location %q", loc)
	}
	wantStatus(t, "move to a missing folder", f.post(t, "/mail/bob/INBOX/2/move", url.Values{"folder": {"Nope"}}), http.StatusNotFound)

	resp = f.post(t, "/mail/bob/INBOX/2/delete", nil)
	wantStatus(t, "delete", resp, http.StatusSeeOther)
	if list, _, _ := f.mail.List(t.Context(), "bob", "INBOX", Query{}, 0, 10); len(list) != 0 {
		t.Errorf("after move and delete INBOX has %d messages", len(list))
	}
}

func TestConsoleRefusesCrossSitePosts(t *testing.T) {
	f := newConsoleFixture(t)
	req, _ := http.NewRequest("POST", f.srv.URL+"/mail/bob/INBOX/1/delete", nil)
	req.Header.Set("Origin", "http://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	wantStatus(t, "a cross-site delete", resp, http.StatusForbidden)
	if _, _, err := f.mail.Open(t.Context(), MessageRef{"bob", "INBOX", 1}); err != nil {
		t.Errorf("a refused cross-site delete deleted the message: %v", err)
	}
}

// readEvent reads one server-sent event's name and data.
func readEvent(t *testing.T, br *bufio.Reader) (string, string) {
	t.Helper()
	var name string
	var data []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the event stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && name != "":
			return name, strings.Join(data, "\n")
		case strings.HasPrefix(line, "event: "):
			name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data = append(data, line[len("data: "):])
		}
	}
}

func TestConsoleLiveRows(t *testing.T) {
	f := newConsoleFixture(t)
	resp, err := http.Get(f.srv.URL + "/mail/bob/INBOX/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("events: Content-Type %q", ct)
	}
	select {
	case <-f.events.subscribed:
	case <-time.After(10 * time.Second):
		t.Fatal("the event stream did not subscribe")
	}
	other := f.mail.add("bob", "Trash", "Subject: elsewhere\n\nx\n")
	f.events.publish(Event{Kind: "delivery", Message: &other})
	f.events.publish(Event{Kind: "upload", Path: "x"})
	ref := f.mail.add("bob", "INBOX", "From: eve@example.org\nSubject: <script>alert(1)</script> live one\n\nbody\n")
	f.events.publish(Event{Kind: "delivery", Message: &ref})
	br := bufio.NewReader(resp.Body)
	name, data := readEvent(t, br)
	if name != "delivery" {
		t.Fatalf("event %q, want delivery", name)
	}
	wantIn(t, "live row", data, `<tr id="m`, "&lt;script&gt;alert(1)&lt;/script&gt; live one", `href="/mail/bob/INBOX/`)
	if strings.Contains(data, "elsewhere") || strings.Contains(data, "<script>") {
		t.Errorf("live row: %s", data)
	}

	// A change redraws the row; a deletion marks it gone.
	f.mail.SetFlags(t.Context(), ref, []string{`\Seen`}, nil)
	f.events.publish(Event{Kind: "mail-change", Message: &ref, Time: time.Now()})
	name, data = readEvent(t, br)
	if name != "mail-change" || !strings.Contains(data, "live one") || strings.Contains(data, "unseen") {
		t.Errorf("after marking it read: event %q, row %s", name, data)
	}
	f.mail.Delete(t.Context(), ref)
	f.events.publish(Event{Kind: "mail-change", Message: &ref, Time: time.Now().Add(time.Second)})
	name, data = readEvent(t, br)
	if want := fmt.Sprintf(`<tr id="m%d" data-gone="1"></tr>`, ref.UID); name != "mail-change" || data != want {
		t.Errorf("after deleting it: event %q, data %s; want %s", name, data, want)
	}
}

func TestConsoleFiles(t *testing.T) {
	f := newConsoleFixture(t)
	_, body := f.get(t, "/files/")
	wantIn(t, "root", body, `href="/files/readme.txt"`, `href="/files/pub/"`, `action="/files/?upload=1"`, `action="/files/readme.txt?delete=1"`)
	if strings.Contains(body, `action="/files/pub?delete=1"`) {
		t.Errorf("root: a directory has a delete button")
	}
	_, body = f.get(t, "/files/pub/")
	wantIn(t, "pub", body, `href="/files/pub/data.bin"`, `href="/files/"`)
	resp, body := f.get(t, "/files/pub/data.bin")
	if body != "0123456789" || resp.Header.Get("Content-Disposition") != "attachment; filename=data.bin" {
		t.Errorf("download: %q, Content-Disposition %q", body, resp.Header.Get("Content-Disposition"))
	}
	resp, _ = f.get(t, "/files/missing")
	wantStatus(t, "a missing file", resp, http.StatusNotFound)
	resp, _ = f.get(t, "/files/pub/%2E%2E/readme.txt")
	if resp.StatusCode == http.StatusOK {
		t.Errorf("GET /files/pub/%%2E%%2E/readme.txt: 200")
	}

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, _ := mw.CreateFormFile("file", "new.txt")
	w.Write([]byte("uploaded bytes"))
	mw.Close()
	req, _ := http.NewRequest("POST", f.srv.URL+"/files/pub/?upload=1", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	wantStatus(t, "upload", resp, http.StatusSeeOther)
	if got := string(f.files.files["pub/new.txt"]); got != "uploaded bytes" {
		t.Errorf("upload stored %q", got)
	}

	buf.Reset()
	mw = multipart.NewWriter(&buf)
	w, _ = mw.CreateFormFile("file", "../escape.txt")
	w.Write([]byte("x"))
	mw.Close()
	req, _ = http.NewRequest("POST", f.srv.URL+"/files/pub/?upload=1", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// mime/multipart keeps only the last element of a part's file name.
	if _, ok := f.files.files["escape.txt"]; ok {
		t.Errorf("an upload named ../escape.txt (status %d) was stored outside pub/", resp.StatusCode)
	}

	resp = f.post(t, "/files/pub/data.bin?delete=1", nil)
	wantStatus(t, "delete", resp, http.StatusSeeOther)
	if _, ok := f.files.files["pub/data.bin"]; ok {
		t.Errorf("delete left pub/data.bin")
	}
}

func TestConsoleNews(t *testing.T) {
	f := newConsoleFixture(t)
	_, body := f.get(t, "/news")
	wantIn(t, "no news", body, "News is not served")

	f.cfg.News = &fakeNews{articles: map[string][]string{"local.test": {
		"From: ann@example.org\r\nSubject: first post\r\nMessage-ID: <1@x>\r\n\r\nhello group\r\n"}}}
	srv := httptest.NewServer(New(f.cfg))
	defer srv.Close()
	f.srv = srv
	_, body = f.get(t, "/news")
	wantIn(t, "groups", body, `href="/news/local.test"`)
	_, body = f.get(t, "/news/local.test")
	wantIn(t, "articles", body, "first post", `href="/news/local.test/1"`)
	_, body = f.get(t, "/news/local.test/1")
	wantIn(t, "article", body, "hello group", "&lt;1@x&gt;")
	resp, _ := f.get(t, "/news/local.test/2")
	wantStatus(t, "a missing article", resp, http.StatusNotFound)
}

func TestConsoleSessionsAndLog(t *testing.T) {
	f := newConsoleFixture(t)
	f.ops.sessions = append(f.ops.sessions, Session{ID: 8, Service: "smtp", Peer: "127.0.0.1:6666", Since: time.Now()})
	_, body := f.get(t, "/sessions")
	wantIn(t, "sessions", body, "imap", "127.0.0.1:5555", "bob", "2.0 KiB", `action="/sessions/7/end"`,
		"all (2)", `href="/sessions?service=smtp"`, "imap (1)")
	_, body = f.get(t, "/sessions?service=smtp")
	if !strings.Contains(body, "127.0.0.1:6666") || strings.Contains(body, "127.0.0.1:5555") {
		t.Errorf("sessions of smtp:\n%s", body)
	}
	wantStatus(t, "end 8", f.post(t, "/sessions/8/end", nil), http.StatusSeeOther)
	wantStatus(t, "end", f.post(t, "/sessions/7/end", nil), http.StatusSeeOther)
	wantStatus(t, "end again", f.post(t, "/sessions/7/end", nil), http.StatusNotFound)
	_, body = f.get(t, "/sessions")
	wantIn(t, "no sessions", body, "No open connections.")

	_, body = f.get(t, "/log")
	wantIn(t, "log", body, "smtp delivery", "login failed", "rcpt=bob")
	if strings.Contains(body, "noise") {
		t.Errorf("log at INFO shows a DEBUG line")
	}
	_, body = f.get(t, "/log?level=WARN")
	if strings.Contains(body, "smtp delivery") || !strings.Contains(body, "login failed") {
		t.Errorf("log at WARN:\n%s", body)
	}
	_, body = f.get(t, "/log?level=DEBUG&q=MALLORY")
	if strings.Contains(body, "smtp delivery") || !strings.Contains(body, "login failed") {
		t.Errorf("log filtered for mallory:\n%s", body)
	}
}

func TestConsoleUnderPrefix(t *testing.T) {
	f := newConsoleFixture(t)
	srv := httptest.NewServer(http.StripPrefix("/console", NewConsole(f.cfg, "/console")))
	defer srv.Close()
	f.srv = srv
	_, body := f.get(t, "/console/mail/bob/INBOX")
	wantIn(t, "list under /console", body, `href="/console/static/console.css"`, `href="/console/mail/bob/INBOX/2"`,
		`data-live="/console/mail/bob/INBOX/events"`)
	_, body = f.get(t, "/console/")
	if strings.Contains(body, `href="/metrics"`) {
		t.Errorf("the console under /console links to the admin listener's /metrics")
	}
	resp, _ := f.get(t, "/console/api/openapi.json")
	wantStatus(t, "the API under /console", resp, http.StatusNotFound)
	// Behind a login a host name is no rebinding risk.
	req, _ := http.NewRequest("GET", srv.URL+"/console/mail", nil)
	req.Host = "mail.example.org"
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	wantStatus(t, "the mounted console for a host name", resp, http.StatusOK)
}

func TestConsoleLiveRowsOfAMissingFolder(t *testing.T) {
	f := newConsoleFixture(t)
	resp, _ := f.get(t, "/mail/bob/Nope/events")
	wantStatus(t, "events of a missing folder", resp, http.StatusNotFound)
}
