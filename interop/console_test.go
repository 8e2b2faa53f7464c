package interop

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/smtp"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// TestConsoleInBrowser drives the web console of plumb serve's admin
// listener in headless Chromium: a message sent over SMTP (net/smtp)
// appears in the open message list without a reload, and is redrawn
// when it is marked read elsewhere; the message's
// HTML, shown in its sandboxed frame, neither runs its script nor loads
// its remote image until the reader asks for remote content; the
// buttons and the upload form work; the pages fit a phone and read with
// JavaScript off; and the screenshots the test takes are PNGs that are
// not blank. Screenshots
// are kept in $PLUMB_CONSOLE_SCREENSHOTS when it names a directory.
func TestConsoleInBrowser(t *testing.T) {
	b := startBrowser(t)
	shots := os.Getenv("PLUMB_CONSOLE_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	s := startServe(t, "")
	if _, errs, code := plumbUser(t, s.Data, "bob-password\n", "add", "bob"); code != 0 {
		t.Fatalf("plumb user add bob: exit %d: %s", code, errs)
	}
	admin := "http://" + s.Addr(t, "admin")

	// The remote server the message's image and script point at: any
	// request to it is content the console should have blocked.
	var images, scripts atomic.Int32
	remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/script-ran") {
			scripts.Add(1)
		} else {
			images.Add(1)
		}
		w.Header().Set("Content-Type", "image/gif")
		w.Write([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
	}))
	defer remote.Close()

	b.open(admin + "/mail/bob/INBOX")
	if title := b.text(`return document.title`); !strings.Contains(title, "INBOX") {
		t.Fatalf("the message list's title is %q; page:\n%s", title, b.text(`return document.body.innerText`))
	}
	testkit.Eventually(t, 15*time.Second, "the list's event stream open", func() bool {
		return b.text(`return document.body.getAttribute("data-live") || ""`) == "open"
	})
	// A reload would lose this.
	b.eval(`window.plumbMarker = "still here"; return null`, nil)

	subject := fmt.Sprintf("live in the browser %d", time.Now().UnixNano())
	html := `<p id="p">static text of the message</p>` +
		`<script>document.getElementById("p").textContent = "SCRIPT RAN"; location.href = "` + remote.URL + `/script-ran";</script>` +
		`<img src="` + remote.URL + `/pixel.gif" alt="remote pixel">`
	sendSMTP(t, s.Addr(t, "smtp"), "shop@example.com", "bob@localhost",
		"From: shop@example.com\r\nTo: bob@localhost\r\nSubject: "+subject+"\r\nMIME-Version: 1.0\r\n"+
			"Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nplain text\r\n"+
			"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"+html+"\r\n--b--\r\n")

	testkit.Eventually(t, 15*time.Second, "the new message's row in the open list", func() bool {
		return strings.Contains(b.text(`return document.querySelector("#messages tbody").innerText`), subject)
	})
	if m := b.text(`return String(window.plumbMarker)`); m != "still here" {
		t.Fatalf("the page was reloaded (marker %q): the row must arrive live", m)
	}
	b.screenshot(shots, "message-list")

	// A change made elsewhere (here a script's POST) redraws the row.
	link := b.text(`return document.querySelector("#messages tbody tr a").getAttribute("href")`)
	rowID := "m" + link[strings.LastIndex(link, "/")+1:]
	if cls := b.text(`return document.getElementById(arguments[0]).className`, rowID); cls != "unseen" {
		t.Fatalf("the new row's class is %q, want unseen", cls)
	}
	resp, err := http.PostForm(admin+link+"/flags", url.Values{"mark": {"read"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK { // the redirect to the message page, followed
		t.Fatalf("POST %s/flags: %s", link, resp.Status)
	}
	testkit.Eventually(t, 15*time.Second, "the row redrawn as read", func() bool {
		return b.text(`var r = document.getElementById(arguments[0]); return r ? r.className : "gone"`, rowID) == ""
	})
	if m := b.text(`return String(window.plumbMarker)`); m != "still here" {
		t.Fatalf("the page was reloaded (marker %q)", m)
	}
	b.open(admin + link) // returns once the page and its frame have loaded
	if got := b.text(`return document.querySelector("h1").textContent`); got != subject {
		t.Fatalf("the message page's heading is %q, want %q", got, subject)
	}
	if sb := b.text(`return document.getElementById("html").getAttribute("sandbox")`); sb != "" {
		t.Errorf("the HTML frame's sandbox attribute is %q, want empty (nothing allowed)", sb)
	}
	b.frame("#html")
	if got := b.text(`return document.body.innerText`); !strings.Contains(got, "static text of the message") || strings.Contains(got, "SCRIPT RAN") {
		t.Errorf("the HTML frame shows %q: the message's script ran, or its HTML is not shown", got)
	}
	b.parent()
	b.screenshot(shots, "message-view")
	if n, m := images.Load(), scripts.Load(); n != 0 || m != 0 {
		t.Fatalf("with remote content blocked the remote server got %d image and %d script requests, want none", n, m)
	}

	// The buttons are plain forms posted from the console's own origin,
	// which its cross-origin check lets through.
	if flags := b.text(`return document.querySelector("dl.summary").innerText`); !strings.Contains(flags, `\Seen`) {
		t.Errorf("the message's summary is %q, want \\Seen among the flags", flags)
	}
	b.click(`form[action$="/flags"] button`)
	testkit.Eventually(t, 15*time.Second, "the message marked unread", func() bool {
		return strings.Contains(b.text(`return document.body.innerText`), "Marked unread.")
	})
	if flags := b.text(`return document.querySelector("dl.summary").innerText`); strings.Contains(flags, `\Seen`) {
		t.Errorf("after Mark unread the message's summary is %q", flags)
	}

	// The reader asks for remote content: the image loads (which shows
	// the check above could see one), the script still does not run.
	b.open(admin + link + "?remote=1")
	testkit.Eventually(t, 15*time.Second, "the remote image loaded on request", func() bool { return images.Load() > 0 })
	if m := scripts.Load(); m != 0 {
		t.Errorf("with remote content loaded the message's script ran (%d requests)", m)
	}

	// An upload through the file page's form lands in the tree.
	upload := filepath.Join(t.TempDir(), "from-the-browser.txt")
	if err := os.WriteFile(upload, []byte("chosen in Chromium\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.open(admin + "/files/anonymous/")
	b.typeInto(`input[type=file]`, upload)
	b.click(`form.upload button`)
	testkit.Eventually(t, 15*time.Second, "the uploaded file listed", func() bool {
		return strings.Contains(b.text(`return document.getElementById("files").innerText`), "from-the-browser.txt")
	})
	if got, err := os.ReadFile(filepath.Join(s.Data, "files", "anonymous", "from-the-browser.txt")); err != nil || string(got) != "chosen in Chromium\n" {
		t.Errorf("the uploaded file in the data directory: %q, %v", got, err)
	}
	b.screenshot(shots, "files")

	// On a phone's width the list fits without scrolling sideways.
	b.resize(390, 844)
	b.open(admin + "/mail/bob/INBOX")
	var fits bool
	b.eval(`return document.documentElement.scrollWidth <= window.innerWidth`, &fits)
	if !fits {
		t.Errorf("at 390 pixels wide the message list scrolls sideways (%s > %s)",
			b.text(`return String(document.documentElement.scrollWidth)`), b.text(`return String(window.innerWidth)`))
	}
	b.screenshot(shots, "message-list-phone")

	// With JavaScript off the pages read the same, but for the live list.
	nb := startBrowserNoScript(t)
	nb.open(admin + "/mail/bob/INBOX")
	var off bool
	nb.eval(`return document.querySelector("noscript p") !== null`, &off) // parsed as markup only with scripts off
	if !off {
		t.Fatal("the second browser runs the page's JavaScript")
	}
	if got := nb.text(`return document.querySelector("#messages tbody").innerText`); !strings.Contains(got, subject) {
		t.Errorf("with JavaScript off the list shows %q, want the message %q", got, subject)
	}
	nb.open(admin + link)
	if got := nb.text(`return document.body.innerText`); !strings.Contains(got, subject) || !strings.Contains(got, "plain text") || !strings.Contains(got, "Raw source") {
		t.Errorf("with JavaScript off the message page shows:\n%s", got)
	}
	nb.frame("#html")
	if got := nb.text(`return document.body.innerText`); !strings.Contains(got, "static text of the message") {
		t.Errorf("with JavaScript off the HTML frame shows %q", got)
	}
	nb.parent()
	nb.screenshot(shots, "message-view-noscript")
}

// sendSMTP sends one message with net/smtp over plain SMTP on loopback.
func sendSMTP(t *testing.T, addr, from, to, msg string) {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatalf("smtp dial %s: %v", addr, err)
	}
	defer c.Close()
	if err := c.Hello("console-test.localhost"); err != nil {
		t.Fatalf("EHLO: %v", err)
	}
	if err := c.Mail(from); err != nil {
		t.Fatalf("MAIL FROM:<%s>: %v", from, err)
	}
	if err := c.Rcpt(to); err != nil {
		t.Fatalf("RCPT TO:<%s>: %v", to, err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatalf("DATA: %v", err)
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		t.Fatalf("DATA: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("end of DATA: %v", err)
	}
	if err := c.Quit(); err != nil {
		t.Fatalf("QUIT: %v", err)
	}
}
