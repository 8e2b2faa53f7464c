package daemon

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/imap"
	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/testkit"
	"github.com/plumbnet/plumb/internal/webadmin"
	"github.com/plumbnet/plumb/pop3"
)

// nextEvent waits for the next event of kind.
func nextEvent(t *testing.T, ch <-chan webadmin.Event, kind string) webadmin.Event {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev := <-ch:
			if ev.Kind == kind {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event", kind)
		}
	}
}

func TestEventHubDropsForSlowSubscriber(t *testing.T) {
	h := newEventHub()
	slow, stopSlow := h.Subscribe()
	defer stopSlow()
	fast, stopFast := h.Subscribe()
	for i := range eventBuffer + 10 {
		h.posted("nntp", "g", int64(i))
		if ev := <-fast; ev.Number != int64(i) || ev.Time.IsZero() {
			t.Fatalf("fast subscriber got %+v, want number %d with a time", ev, i)
		}
	}
	if n := h.dropped.Load(); n != 10 {
		t.Errorf("dropped = %d, want 10 (the slow subscriber's overflow)", n)
	}
	if len(slow) != eventBuffer {
		t.Errorf("slow subscriber holds %d, want %d", len(slow), eventBuffer)
	}
	stopFast()
	stopFast() // twice is harmless
	h.posted("nntp", "g", 1)
	if len(fast) != 0 {
		t.Error("a stopped subscription still receives")
	}
}

func TestWebAdminMailAdapter(t *testing.T) {
	d, addrs := startSMTPDaemon(t, nil)
	events, stop := d.Events().Subscribe()
	defer stop()
	cfg, closeWeb := d.webAdminConfig()
	defer closeWeb()
	mail := cfg.Mail
	ctx := context.Background()

	c := dialSMTP(t, addrs["smtp"])
	for i, subj := range []string{"first", "password reset", "third"} {
		msg := "From: Shop <shop@far.test>\r\nTo: alice@mx.test\r\nX-Test: n" + string(rune('0'+i)) + "\r\nSubject: " + subj + "\r\n\r\nyour code is 12" + string(rune('0'+i)) + "\r\n"
		if err := c.SendMail("shop@far.test", []string{"alice@mx.test"}, strings.NewReader(msg), nil); err != nil {
			t.Fatal(err)
		}
		ev := nextEvent(t, events, "delivery")
		if ev.Message == nil || ev.Message.User != "alice" || ev.Message.Folder != "INBOX" || ev.Message.UID == 0 {
			t.Fatalf("delivery event %+v, want alice's INBOX and a UID", ev)
		}
	}
	list, total, err := mail.List(ctx, "alice", "INBOX", webadmin.Query{}, 0, 2)
	if err != nil || total != 3 || len(list) != 2 || list[0].Subject != "third" || list[1].Subject != "password reset" {
		t.Fatalf("List = %+v, %d, %v; want the 2 newest of 3", list, total, err)
	}
	if list[0].From != `"Shop" <shop@far.test>` && !strings.Contains(list[0].From, "shop@far.test") {
		t.Errorf("From = %q", list[0].From)
	}
	for _, q := range []webadmin.Query{{Text: "CODE IS 121"}, {Subject: "reset"}, {Header: map[string]string{"x-test": "N1"}}, {From: "shop@", Unseen: true}} {
		got, n, err := mail.List(ctx, "alice", "inbox", q, 0, 10)
		if err != nil || (q.From == "" && (n != 1 || got[0].Subject != "password reset")) || (q.From != "" && n != 3) {
			t.Errorf("List(%+v) = %+v, %d, %v", q, got, n, err)
		}
	}
	if got, n, err := mail.List(ctx, "ALICE", "inbox", webadmin.Query{}, 0, 1); err != nil || n != 3 || got[0].User != "alice" || got[0].Folder != "INBOX" {
		t.Errorf("List(ALICE, inbox) = %+v, %d, %v; want alice's INBOX", got, n, err)
	}
	if rc, _, err := mail.Open(ctx, webadmin.MessageRef{User: "Alice", Folder: "Inbox", UID: list[0].UID}); err != nil {
		t.Errorf("Open in other cases: %v", err)
	} else {
		rc.Close()
	}
	ref := list[1].MessageRef
	flags, err := mail.SetFlags(ctx, ref, []string{`\Seen`}, nil)
	if err != nil || len(flags) != 1 || flags[0] != `\Seen` {
		t.Fatalf("SetFlags = %v, %v", flags, err)
	}
	nextEvent(t, events, "mail-change")
	if _, n, _ := mail.List(ctx, "alice", "INBOX", webadmin.Query{Unseen: true}, 0, 10); n != 2 {
		t.Errorf("unseen after marking one = %d, want 2", n)
	}
	if _, err := mail.SetFlags(ctx, ref, []string{`\Bogus`}, nil); err == nil {
		t.Error("SetFlags with an unknown flag succeeded")
	}
	rc, sum, err := mail.Open(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(rc)
	rc.Close()
	if !strings.Contains(string(raw), "your code is 121") || sum.Subject != "password reset" {
		t.Errorf("Open = %q, %+v", raw, sum)
	}
	ms, _ := d.MailStore()
	if err := ms.CreateFolder("alice", "Archive"); err != nil {
		t.Fatal(err)
	}
	moved, err := mail.Move(ctx, ref, "Archive")
	if err != nil || moved.Folder != "Archive" {
		t.Fatalf("Move = %+v, %v", moved, err)
	}
	if _, n, _ := mail.List(ctx, "alice", "INBOX", webadmin.Query{}, 0, 10); n != 2 {
		t.Errorf("INBOX after the move holds %d, want 2", n)
	}
	if got, n, _ := mail.List(ctx, "alice", "Archive", webadmin.Query{}, 0, 10); n != 1 || got[0].Subject != "password reset" || len(got[0].Flags) != 1 {
		t.Errorf("Archive = %+v, want the moved message, still \\Seen", got)
	}
	if err := mail.Delete(ctx, moved); err != nil {
		t.Fatal(err)
	}
	if _, _, err := mail.Open(ctx, moved); err == nil {
		t.Error("a deleted message still opens")
	}
	if err := mail.Release(ctx, list[0].MessageRef, []string{"bob@mx.test"}); err != nil {
		t.Fatalf("Release = %v", err)
	}
	ev := nextEvent(t, events, "delivery")
	if ev.Message.User != "bob" {
		t.Errorf("release delivered to %+v, want bob", ev.Message)
	}
	testkit.Eventually(t, 5*time.Second, "the released message in bob's inbox", func() bool {
		got, n, _ := mail.List(ctx, "bob", "INBOX", webadmin.Query{}, 0, 1)
		return n == 1 && got[0].Subject == "third"
	})
	if _, err := d.Accounts().Authenticate(ctx, "alice", "wrong-password", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 9)}); err == nil {
		t.Fatal("a wrong password authenticated")
	}
	if ev := nextEvent(t, events, "login-failure"); ev.User != "alice" || !strings.HasPrefix(ev.Remote, "127.0.0.9") {
		t.Errorf("login-failure event %+v", ev)
	}
}

// TestWebAdminSummariesPersist: a search's summaries are kept in the
// summary file and a new adapter (a restarted daemon) takes them from
// there rather than reading the messages again.
func TestWebAdminSummariesPersist(t *testing.T) {
	d, _ := startSMTPDaemon(t, nil)
	ms, _ := d.MailStore()
	ctx := context.Background()
	for _, subj := range []string{"alpha", "beta"} {
		if _, err := ms.Deliver(ctx, "alice", "", strings.NewReader("Subject: "+subj+"\r\n\r\nbody\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	w := newWebMail(d, ms)
	if got, n, err := w.List(ctx, "alice", "INBOX", webadmin.Query{Subject: "beta"}, 0, 10); err != nil || n != 1 || got[0].Subject != "beta" {
		t.Fatalf("List = %+v, %d, %v", got, n, err)
	}
	w.close()
	// Rewrite the files in place: a Maildir file never changes, so the
	// cache is believed over them.
	mb, _ := ms.Mailbox(ctx, "alice", "INBOX")
	msgs, _ := mb.Messages(ctx)
	for _, m := range msgs {
		if err := os.WriteFile(m.Path, []byte("Subject: changed\r\n\r\nx\r\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	w = newWebMail(d, ms)
	defer w.close()
	got, n, err := w.List(ctx, "alice", "INBOX", webadmin.Query{Text: "alpha"}, 0, 10)
	if err != nil || n != 1 || got[0].Subject != "alpha" {
		t.Errorf("after a restart List = %+v, %d, %v; want alpha from the summary file", got, n, err)
	}
}

// TestIMAPChangesPublished: an IMAP client's APPEND and STORE are
// mail-change events, so the console's open list follows them.
func TestIMAPChangesPublished(t *testing.T) {
	cfg := testConfig(t)
	i := imapSection.of(cfg)
	i.Enabled, i.Addr = true, "127.0.0.1:0"
	db, err := accounts.OpenWith(filepath.Join(cfg.Data, accounts.FileName), accounts.Options{Cost: 4})
	if err != nil {
		t.Fatal(err)
	}
	db.Add("alice", "alice-pw-123")
	d := startTest(t, cfg)
	t.Cleanup(func() { d.Close() })
	events, stop := d.Events().Subscribe()
	defer stop()
	ctx := context.Background()
	c, err := imap.Dial(ctx, addrOf(t, d, "imap"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(ctx, "alice", "alice-pw-123"); err != nil {
		t.Fatal(err)
	}
	_, uid, err := c.Append(ctx, "INBOX", nil, time.Now(), []byte("Subject: x\r\n\r\ny\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, events, "mail-change"); ev.Message == nil || *ev.Message != (webadmin.MessageRef{User: "alice", Folder: "INBOX", UID: uid}) || ev.Service != "imap" {
		t.Errorf("APPEND's event %+v", ev)
	}
	if _, err := c.Select(ctx, "INBOX", false); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(ctx, true, imap.SeqSetOf(uid), "+FLAGS", []string{`\Seen`}); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, events, "mail-change"); ev.Message == nil || ev.Message.UID != uid {
		t.Errorf("STORE's event %+v", ev)
	}
}

// TestAdminServesTLSOffLoopback: the admin listener that serves TLS
// (as it does off loopback) answers HTTPS with the daemon's certificate
// and not plain HTTP.
func TestAdminServesTLSOffLoopback(t *testing.T) {
	defer func(f func(net.Addr) bool) { adminTLS = f }(adminTLS)
	adminTLS = func(net.Addr) bool { return true }
	d := startTest(t, testConfig(t))
	defer d.Close()
	addr := addrOf(t, d, "admin")
	pool := x509.NewCertPool()
	pem, err := os.ReadFile(filepath.Join(d.DataDir(), "tls", "cert.pem"))
	if err != nil || !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("the daemon's certificate: %v", err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get("https://" + addr + "/api/services")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET over HTTPS from loopback = %s", resp.Status)
	}
	if resp, err := http.Get("http://" + addr + "/api/services"); err == nil && resp.StatusCode == 200 {
		t.Error("plain HTTP was answered on a TLS admin listener")
	}
	for _, b := range d.Bound() {
		if b.Name == "admin" && b.Net != "https" {
			t.Errorf("the table shows the admin listener as %q, want https", b.Net)
		}
	}
}

// TestPOP3DeletionPublished: a POP3 client's DELE, done at QUIT, is a
// mail-change event.
func TestPOP3DeletionPublished(t *testing.T) {
	cfg := testConfig(t)
	p := pop3Section.of(cfg)
	p.Enabled, p.Addr = true, "127.0.0.1:0"
	db, err := accounts.OpenWith(filepath.Join(cfg.Data, accounts.FileName), accounts.Options{Cost: 4})
	if err != nil {
		t.Fatal(err)
	}
	db.Add("alice", "alice-pw-123")
	d := startTest(t, cfg)
	t.Cleanup(func() { d.Close() })
	ms, _ := d.MailStore()
	uid, err := ms.Deliver(context.Background(), "alice", "", strings.NewReader("Subject: x\r\n\r\ny\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	events, stop := d.Events().Subscribe()
	defer stop()
	c, err := pop3.Dial(context.Background(), addrOf(t, d, "pop3"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("alice", "alice-pw-123"); err != nil {
		t.Fatal(err)
	}
	if err := c.Dele(1); err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, events, "mail-change"); ev.Message == nil || *ev.Message != (webadmin.MessageRef{User: "alice", Folder: "INBOX", UID: uid}) || ev.Service != "pop3" {
		t.Errorf("DELE's event %+v", ev)
	}
}
