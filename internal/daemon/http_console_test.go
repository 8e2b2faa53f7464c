package daemon

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/filestore"
	"github.com/plumbnet/plumb/internal/webadmin"
)

// startConsoleDaemon runs HTTP and HTTPS with [http] console = true,
// the accounts alice (a user) and root (an operator), and one message
// in each of alice's and bob's inboxes.
func startConsoleDaemon(t *testing.T) (*Daemon, map[string]string) {
	t.Helper()
	cfg := httpTestConfig(t)
	httpSection.of(cfg).Console = true
	cfg.Admin.Operators = []string{"root"}
	db, err := accounts.OpenWith(filepath.Join(cfg.Data, accounts.FileName), accounts.Options{Cost: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "bob", "root"} {
		if err := db.Add(u, "pw-"+u+"-123"); err != nil {
			t.Fatal(err)
		}
	}
	d := New(cfg, slog.New(slog.DiscardHandler), io.Discard)
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d.Shutdown(ctx)
	})
	ms, err := d.MailStore()
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "bob"} {
		msg := "From: x@example.org\r\nSubject: for " + u + " only\r\n\r\nsecret of " + u + "\r\n"
		if _, err := ms.Deliver(context.Background(), u, "", strings.NewReader(msg)); err != nil {
			t.Fatal(err)
		}
	}
	addrs := map[string]string{}
	for _, b := range d.Bound() {
		addrs[b.Name] = b.Addr
	}
	return d, addrs
}

func consoleGet(t *testing.T, c *http.Client, url, user string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if user != "" {
		req.SetBasicAuth(user, "pw-"+user+"-123")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func TestHTTPConsoleForLoggedInUsers(t *testing.T) {
	d, addrs := startConsoleDaemon(t)
	base := "http://" + addrs["http"] + "/console"
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	if resp, _ := consoleGet(t, c, base+"/mail", ""); resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("GET /console/mail without a login: %d, WWW-Authenticate %q; want 401 with a challenge", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	req, _ := http.NewRequest("GET", base+"/mail", nil)
	req.SetBasicAuth("alice", "wrong")
	if resp, err := c.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /console/mail with a wrong password: %v, %v; want 401", resp.Status, err)
	}

	// alice sees her own mail, not bob's, and neither sessions nor log.
	resp, body := consoleGet(t, c, base+"/mail", "alice")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `href="/console/mail/alice"`) || strings.Contains(body, "bob") {
		t.Fatalf("alice's /console/mail: %d\n%s", resp.StatusCode, body)
	}
	resp, body = consoleGet(t, c, base+"/mail/alice/INBOX", "alice")
	if !strings.Contains(body, "for alice only") || !strings.Contains(body, `href="/console/static/console.css"`) {
		t.Errorf("alice's inbox:\n%s", body)
	}
	// The console's own policy, not the file tree's sandbox, which
	// would stop its script.
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "sandbox") {
		t.Errorf("the console page's Content-Security-Policy on the HTTP service is %q", csp)
	}
	resp, _ = consoleGet(t, c, base+"/mail/alice/INBOX/1/html", "alice")
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "img-src data: cid:") {
		t.Errorf("a message's HTML frame on the HTTP service has Content-Security-Policy %q", csp)
	}
	for _, p := range []string{"/mail/bob", "/mail/bob/INBOX", "/mail/bob/INBOX/1", "/mail/bob/INBOX/1/raw", "/mail/bob/INBOX/events"} {
		resp, body := consoleGet(t, c, base+p, "alice")
		if resp.StatusCode != http.StatusForbidden || strings.Contains(body, "secret of bob") {
			t.Errorf("alice's GET /console%s: %d, want 403", p, resp.StatusCode)
		}
	}
	for _, p := range []string{"/sessions", "/log"} {
		if resp, _ := consoleGet(t, c, base+p, "alice"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("alice's GET /console%s: %d, want 404 (operators only)", p, resp.StatusCode)
		}
	}

	// Her files are her home: an upload lands there.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, _ := mw.CreateFormFile("file", "from-console.txt")
	w.Write([]byte("uploaded in the console"))
	mw.Close()
	req, _ = http.NewRequest("POST", base+"/files/?upload=1", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.SetBasicAuth("alice", "pw-alice-123")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("alice's upload: %d, want 303", resp.StatusCode)
	}
	fstore, _ := d.FileStore()
	home, err := fstore.Home(context.Background(), "alice", filestore.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := home.Open(context.Background(), "from-console.txt")
	if err != nil {
		t.Fatalf("the upload is not in alice's home: %v", err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if string(got) != "uploaded in the console" {
		t.Errorf("alice's home has %q", got)
	}
	_, body = consoleGet(t, c, base+"/files/", "alice")
	if !strings.Contains(body, `href="/console/files/from-console.txt"`) {
		t.Errorf("alice's /console/files/:\n%s", body)
	}

	// bob has no home yet: his files page is empty, not an error.
	if resp, body := consoleGet(t, c, base+"/files/", "bob"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Empty.") {
		t.Errorf("bob's /console/files/ without a home: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := consoleGet(t, c, base, "alice"); resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/console/" {
		t.Errorf("GET /console: %d to %q, want 301 to /console/", resp.StatusCode, resp.Header.Get("Location"))
	}

	// An operator sees every account and the sessions, over HTTPS too.
	_, body = consoleGet(t, c, base+"/mail", "root")
	if !strings.Contains(body, `href="/console/mail/alice"`) || !strings.Contains(body, `href="/console/mail/bob"`) {
		t.Errorf("root's /console/mail:\n%s", body)
	}
	tc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	if resp, _ := consoleGet(t, tc, "https://"+addrs["https"]+"/console/sessions", "root"); resp.StatusCode != http.StatusOK {
		t.Errorf("root's GET https /console/sessions: %d, want 200", resp.StatusCode)
	}
}

// TestHTTPConsoleLiveList: the live list's event stream works through
// the HTTP service (its access log and gzip flush each event).
func TestHTTPConsoleLiveList(t *testing.T) {
	d, addrs := startConsoleDaemon(t)
	req, _ := http.NewRequest("GET", "http://"+addrs["http"]+"/console/mail/alice/INBOX/events", nil)
	req.SetBasicAuth("alice", "pw-alice-123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /console/mail/alice/INBOX/events: %d", resp.StatusCode)
	}
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, ": plumb events") {
		t.Fatalf("the stream began %q, %v; want its opening comment (subscribed)", line, err)
	}
	ms, _ := d.MailStore()
	uid, err := ms.Deliver(context.Background(), "alice", "", strings.NewReader("Subject: arrives live\r\n\r\nx\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	d.events.publish(webadmin.Event{Kind: "delivery"}) // one without a message is passed over
	d.events.delivered("test", []string{"alice"}, []uint32{uid})
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the stream: %v", err)
		}
		if strings.HasPrefix(line, "data: ") && strings.Contains(line, "arrives live") {
			if !strings.Contains(line, `href="/console/mail/alice/INBOX/`) {
				t.Errorf("the live row links elsewhere: %s", line)
			}
			return
		}
	}
}

func TestHTTPConsoleOffByDefault(t *testing.T) {
	if httpSection.of(DefaultConfig()).Console {
		t.Fatal("[http] console is on by default")
	}
	addrs := startHTTPDaemon(t, httpTestConfig(t))
	resp, _ := consoleGet(t, http.DefaultClient, "http://"+addrs["http"]+"/console/mail", "alice")
	if resp.StatusCode == http.StatusOK {
		t.Errorf("GET /console/mail with the console off: 200")
	}
}
