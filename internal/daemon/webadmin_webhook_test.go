package daemon

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plumbnet/plumb/ftp"
	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/newsstore"
	"github.com/plumbnet/plumb/internal/webadmin"
	"github.com/plumbnet/plumb/nntp"
)

// received is one POST a webhook receiver got.
type received struct {
	kind, signature string
	body            []byte
}

// TestWebhooksSignRetryAndCoverEveryKind: a receiver that fails its
// first POST gets it again; every POST is signed with the HMAC of its
// body; a delivery over SMTP, an upload over FTP, a post over NNTP and
// a failed login each reach it.
func TestWebhooksSignRetryAndCoverEveryKind(t *testing.T) {
	cfg := testConfig(t)
	smtpSection.of(cfg).Enabled, smtpSection.of(cfg).Addr = true, "127.0.0.1:0"
	n := nntpSection.of(cfg)
	n.Enabled, n.Addr, n.Hostname = true, "127.0.0.1:0", "news.test"
	f := ftpSection.of(cfg)
	f.Enabled, f.Addr = true, "127.0.0.1:0"
	db, err := accounts.OpenWith(filepath.Join(cfg.Data, accounts.FileName), accounts.Options{Cost: 4})
	if err != nil {
		t.Fatal(err)
	}
	db.Add("alice", "alice-pw-123")
	newsstore.AddGroup(NewsDir(cfg.Data), newsstore.GroupConfig{Name: "local.test"})
	d := startTest(t, cfg)
	t.Cleanup(func() { d.Close() })

	var posts atomic.Int32
	got := make(chan received, 100)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if posts.Add(1) == 1 {
			http.Error(w, "not yet", http.StatusServiceUnavailable) // the first POST is retried
			return
		}
		got <- received{r.Header.Get("X-Plumb-Event"), r.Header.Get("X-Plumb-Signature"), b}
	}))
	defer recv.Close()

	wcfg, closeWeb := d.webAdminConfig()
	defer closeWeb()
	wcfg.Webhooks = []webadmin.Webhook{{URL: recv.URL + "/hook", Secret: "s3cret",
		Events: []string{"delivery", "upload", "post", "login-failure"}}}
	wcfg.WebhookRetry = 10 * time.Millisecond
	web := webadmin.New(wcfg)
	defer web.Close()

	ctx := context.Background()
	c := dialSMTP(t, addrOf(t, d, "smtp"))
	if err := c.SendMail("a@far.test", []string{"alice@localhost"}, strings.NewReader("Subject: hi\r\n\r\nhi\r\n"), nil); err != nil {
		t.Fatal(err)
	}
	want := map[string]func(webadmin.Event) bool{
		"delivery": func(ev webadmin.Event) bool {
			return ev.Message != nil && ev.Message.User == "alice" && ev.Service == "smtp"
		},
	}
	expect := func() {
		t.Helper()
		for len(want) > 0 {
			select {
			case r := <-got:
				m := hmac.New(sha256.New, []byte("s3cret"))
				m.Write(r.body)
				if sig := "sha256=" + hex.EncodeToString(m.Sum(nil)); r.signature != sig {
					t.Errorf("%s: signature %q, want %q", r.kind, r.signature, sig)
				}
				var ev webadmin.Event
				if err := json.Unmarshal(r.body, &ev); err != nil || ev.Kind != r.kind {
					t.Fatalf("body %s (%v), header kind %s", r.body, err, r.kind)
				}
				if ok := want[ev.Kind]; ok != nil && ok(ev) {
					delete(want, ev.Kind)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("webhook never got %v", want)
			}
		}
	}
	expect()
	if posts.Load() < 2 {
		t.Errorf("%d POSTs, want the failed one and its retry", posts.Load())
	}

	fc, err := ftp.Dial(ctx, addrOf(t, d, "ftp"))
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	if err := fc.Login("alice", "wrong-password"); err == nil {
		t.Fatal("a wrong FTP password logged in")
	}
	if err := fc.Login("alice", "alice-pw-123"); err != nil {
		t.Fatal(err)
	}
	if _, err := fc.Stor("report.txt", strings.NewReader("data\n")); err != nil {
		t.Fatal(err)
	}
	nc, err := nntp.Dial(ctx, addrOf(t, d, "nntp"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.Auth(ctx, "alice", "alice-pw-123"); err != nil {
		t.Fatal(err)
	}
	if err := nc.Post(ctx, strings.NewReader("From: a@b.test\r\nNewsgroups: local.test\r\nSubject: s\r\n\r\nb\r\n")); err != nil {
		t.Fatal(err)
	}
	want = map[string]func(webadmin.Event) bool{
		"login-failure": func(ev webadmin.Event) bool { return ev.User == "alice" && strings.HasPrefix(ev.Remote, "127.0.0.1:") },
		"upload":        func(ev webadmin.Event) bool { return ev.Path == "home/alice/report.txt" && ev.Service == "ftp" },
		"post":          func(ev webadmin.Event) bool { return ev.Group == "local.test" && ev.Number == 1 },
	}
	expect()
}
