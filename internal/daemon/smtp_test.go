package daemon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/mta"
	"github.com/plumbnet/plumb/internal/testkit"
	"github.com/plumbnet/plumb/sasl"
	"github.com/plumbnet/plumb/smtp"
)

// startSMTPDaemon runs a daemon with only the SMTP services, on free
// loopback ports, with accounts alice and bob (password "pw-<name>-123").
func startSMTPDaemon(t *testing.T, edit func(*SMTPConfig)) (*Daemon, map[string]string) {
	t.Helper()
	return startSMTPDaemonAt(t, t.TempDir(), edit)
}

// startSMTPDaemonAt is startSMTPDaemon on the data directory data.
func startSMTPDaemonAt(t *testing.T, data string, edit func(*SMTPConfig)) (*Daemon, map[string]string) {
	t.Helper()
	return startSMTPDaemonWith(t, data, func(c *Config) {
		if edit != nil {
			edit(smtpSection.of(c))
		}
	})
}

// startSMTPDaemonWith is startSMTPDaemonAt with an edit of the whole config.
func startSMTPDaemonWith(t *testing.T, data string, edit func(*Config)) (*Daemon, map[string]string) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Data = data
	cfg.Admin.Enabled = false
	cfg.Accounts.FirstUser = ""
	for _, l := range cfg.listeners() {
		l.Enabled = false
	}
	s := smtpSection.of(cfg)
	s.Enabled, s.Addr = true, "127.0.0.1:0"
	s.Submission.Enabled, s.Submission.Addr = true, "127.0.0.1:0"
	s.Submissions.Enabled, s.Submissions.Addr = true, "127.0.0.1:0"
	s.Hostname = "mx.test"
	s.Outbound.Retry = []Duration{{50 * time.Millisecond}}
	db, err := accounts.Open(filepath.Join(cfg.Data, accounts.FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "bob"} {
		if _, ok := db.Lookup(u); ok {
			continue
		}
		if err := db.Add(u, "pw-"+u+"-123"); err != nil {
			t.Fatal(err)
		}
	}
	if edit != nil {
		edit(cfg)
	}
	d := New(cfg, slog.New(slog.DiscardHandler), io.Discard)
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopSMTPDaemon(d) })
	addrs := map[string]string{}
	for _, b := range d.Bound() {
		addrs[b.Name] = b.Addr
	}
	return d, addrs
}

// stopped makes stopping a test daemon idempotent.
var stopped sync.Map // *Daemon -> *sync.Once

func stopSMTPDaemon(d *Daemon) {
	once, _ := stopped.LoadOrStore(d, &sync.Once{})
	once.(*sync.Once).Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d.Shutdown(ctx)
	})
}

func dialSMTP(t *testing.T, addr string) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// inbox returns the messages in user's Maildir new/, waiting up to 5s
// for want of them.
func inbox(t *testing.T, d *Daemon, user string, want int) []string {
	t.Helper()
	var msgs []string
	for deadline := time.Now().Add(5 * time.Second); ; {
		msgs = nil
		ents, _ := os.ReadDir(filepath.Join(d.DataDir(), "mail", user, "new"))
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(d.DataDir(), "mail", user, "new", e.Name()))
			if err == nil {
				msgs = append(msgs, string(b))
			}
		}
		if len(msgs) >= want || time.Now().After(deadline) {
			return msgs
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSMTPLocalDelivery(t *testing.T) {
	d, addrs := startSMTPDaemon(t, func(s *SMTPConfig) {
		s.Aliases = map[string]string{"team": "alice, bob", "boss@mx.test": "bob", "boss": "alice"} // the whole address wins
	})
	c := dialSMTP(t, addrs["smtp"])
	msg := "Subject: hello\r\n\r\nbody\r\n"
	if err := c.SendMail("sender@far.test", []string{"alice+news@localhost", "team@mx.test"}, strings.NewReader(msg), nil); err != nil {
		t.Fatalf("SendMail to alice+news and team = %v", err)
	}
	if err := c.SendMail("sender@far.test", []string{"BOSS@MX.TEST"}, strings.NewReader(msg), nil); err != nil {
		t.Fatalf("SendMail to boss = %v", err)
	}
	err := c.SendMail("sender@far.test", []string{"nobody@localhost"}, strings.NewReader(msg), nil)
	var se *smtp.Error
	if !errors.As(err, &se) || se.Code != 550 || se.EnhancedCode != (smtp.EnhancedCode{5, 1, 1}) {
		t.Errorf("SendMail to nobody = %v, want 550 5.1.1", err)
	}
	err = c.SendMail("sender@far.test", []string{"victim@elsewhere.test"}, strings.NewReader(msg), nil)
	if !errors.As(err, &se) || se.Code != 554 || se.EnhancedCode != (smtp.EnhancedCode{5, 7, 1}) {
		t.Errorf("unauthenticated relay = %v, want 554 5.7.1", err)
	}
	c.Quit()
	// alice once (alice+news and team in one message), bob twice.
	if got := inbox(t, d, "alice", 1); len(got) != 1 || !strings.HasSuffix(got[0], msg) || !strings.HasPrefix(got[0], "Received: from localhost ([127.0.0.1])") {
		t.Errorf("alice's inbox = %q, want one message ending in %q", got, msg)
	}
	if got := inbox(t, d, "bob", 2); len(got) != 2 {
		t.Errorf("bob's inbox has %d messages, want 2", len(got))
	}
}

// TestSMTPPostmaster: postmaster, in any case, bare or at a local
// domain, is accepted (RFC 5321 section 4.5.1) and goes to
// smtp.postmaster, by default the first-start account; an alias for it
// still wins.
func TestSMTPPostmaster(t *testing.T) {
	rcpts := []string{"postmaster", "POSTMASTER@mx.test", "PostMaster@localhost", "postmaster@[127.0.0.1]"}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"default", func(c *Config) { c.Accounts.FirstUser = "alice" }, "alice"},
		{"configured", func(c *Config) { smtpSection.of(c).Postmaster = "bob" }, "bob"},
		{"alias", func(c *Config) {
			c.Accounts.FirstUser = "alice"
			smtpSection.of(c).Aliases = map[string]string{"postmaster": "bob"}
		}, "bob"},
	} {
		d, addrs := startSMTPDaemonWith(t, t.TempDir(), tc.edit)
		c := dialSMTP(t, addrs["smtp"])
		for _, r := range rcpts {
			if err := c.SendMail("someone@far.test", []string{r}, strings.NewReader("Subject: hi\r\n\r\nx\r\n"), nil); err != nil {
				t.Errorf("%s: SendMail(to %s) = %v, want nil", tc.name, r, err)
			}
		}
		c.Quit()
		if got := inbox(t, d, tc.want, len(rcpts)); len(got) != len(rcpts) {
			t.Errorf("%s: %s's inbox has %d messages, want %d", tc.name, tc.want, len(got), len(rcpts))
		}
		stopSMTPDaemon(d)
	}
}

// TestSMTPPostmasterOffSite: smtp.postmaster (like an alias) may name
// an address elsewhere; mail to postmaster from anyone is then queued
// for it, which is not relaying: a remote recipient given by the client
// still is refused.
func TestSMTPPostmasterOffSite(t *testing.T) {
	_, addrs := startSMTPDaemonWith(t, t.TempDir(), func(c *Config) {
		s := smtpSection.of(c)
		s.Postmaster = "admin@example.org"
		s.Outbound.Smarthost = "127.0.0.1:1" // nothing listens: the message stays queued
	})
	c := dialSMTP(t, addrs["smtp"])
	if err := c.SendMail("someone@far.test", []string{"postmaster@mx.test"}, strings.NewReader("Subject: hi\r\n\r\nx\r\n"), nil); err != nil {
		t.Errorf("SendMail(to postmaster, forwarded to admin@example.org) = %v, want nil", err)
	}
	if err := c.SendMail("someone@far.test", []string{"admin@example.org"}, strings.NewReader("Subject: hi\r\n\r\nx\r\n"), nil); err == nil || !strings.Contains(err.Error(), "5.7.1") {
		t.Errorf("SendMail(to admin@example.org) without AUTH = %v, want 5.7.1 relay access denied", err)
	}
	c.Quit()
}

func TestSMTPCatchAll(t *testing.T) {
	d, addrs := startSMTPDaemon(t, func(s *SMTPConfig) { s.CatchAll = "bob" })
	c := dialSMTP(t, addrs["smtp"])
	if err := c.SendMail("app@dev.test", []string{"anyone@anywhere.example", "x@localhost"}, strings.NewReader("Subject: c\r\n\r\nx\r\n"), nil); err != nil {
		t.Fatalf("SendMail under catch_all = %v", err)
	}
	if got := inbox(t, d, "bob", 1); len(got) != 1 {
		t.Errorf("bob's inbox has %d messages, want 1", len(got))
	}
}

func TestSMTPSubmissionNeedsAuth(t *testing.T) {
	_, addrs := startSMTPDaemon(t, nil)
	c := dialSMTP(t, addrs["submission"])
	err := c.Mail("alice@mx.test", nil)
	var se *smtp.Error
	if !errors.As(err, &se) || se.Code != 530 {
		t.Errorf("MAIL before AUTH on submission = %v, want 530", err)
	}
	if err := c.Auth(sasl.NewPlainClient("", "alice", "wrong-password")); !errors.As(err, &se) || se.Code != 535 {
		t.Errorf("AUTH with a wrong password = %v, want 535", err)
	}
}

// startSmarthost runs an SMTP server on loopback whose recipients' fate
// a test decides (MemoryBackend.SetVerdict).
func startSmarthost(t *testing.T) (*smtp.MemoryBackend, string) {
	t.Helper()
	h := &smtp.MemoryBackend{}
	srv := &smtp.Server{Backend: h, Hostname: "relay.test", Logger: slog.New(slog.DiscardHandler)}
	return h, testkit.Serve(t, srv, nil)
}

func TestSMTPOutboundQueue(t *testing.T) {
	h, hostAddr := startSmarthost(t)
	h.SetVerdict(func(rcpt string) error {
		switch {
		case strings.HasPrefix(rcpt, "gone@"):
			return smtp.ErrNoSuchUser
		case strings.HasPrefix(rcpt, "later@"):
			return &smtp.Error{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Msg: "try later"}
		}
		return nil
	})
	d, addrs := startSMTPDaemon(t, func(s *SMTPConfig) { s.Outbound.Smarthost = hostAddr })
	c := dialSMTP(t, addrs["submission"])
	if err := c.Auth(sasl.NewPlainClient("", "alice", "pw-alice-123")); err != nil {
		t.Fatalf("Auth = %v", err)
	}
	msg := "Subject: out\r\nFrom: alice@mx.test\r\n\r\nto the world\r\n"
	if err := c.SendMail("alice@mx.test", []string{"friend@far.test", "gone@far.test", "later@far.test", "bob@mx.test"}, strings.NewReader(msg), nil); err != nil {
		t.Fatalf("SendMail = %v", err)
	}
	c.Quit()
	// bob gets his copy at once; the friend through the smarthost.
	if got := inbox(t, d, "bob", 1); len(got) != 1 {
		t.Errorf("bob's inbox has %d messages, want 1", len(got))
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(h.Messages()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if m := h.Messages(); len(m) != 1 || strings.Join(m[0].To, ",") != "friend@far.test" || !strings.HasSuffix(string(m[0].Data), msg) {
		t.Fatalf("smarthost got %d messages, want one to friend@far.test", len(m))
	}
	// gone@ bounces to alice with a DSN naming it.
	bounces := inbox(t, d, "alice", 1)
	if len(bounces) != 1 || !strings.Contains(bounces[0], "Final-Recipient: rfc822; gone@far.test") ||
		!strings.Contains(bounces[0], "Status: 5.1.1") || !strings.Contains(bounces[0], "Subject: out") {
		t.Fatalf("alice's inbox = %q, want one DSN for gone@far.test quoting the header", bounces)
	}
	// later@ is retried; once the smarthost takes it, the queue empties.
	h.SetVerdict(func(string) error { return nil })
	q := queueOf(t, d)
	for q.Len() > 0 && time.Now().Before(deadline.Add(5*time.Second)) {
		time.Sleep(20 * time.Millisecond)
	}
	if q.Len() != 0 {
		t.Fatalf("queue holds %d messages, want 0", q.Len())
	}
	if m := h.Messages(); len(m) != 2 || m[1].To[0] != "later@far.test" {
		t.Errorf("smarthost messages = %d, want the retried one to later@far.test", len(m))
	}
	if ents, _ := os.ReadDir(filepath.Join(d.DataDir(), "queue")); len(ents) != 0 {
		t.Errorf("queue directory still holds %d files", len(ents))
	}
}

func netListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

// TestSMTPNotifyNeverSuppressesBounce: RFC 3461 NOTIFY=NEVER on a
// recipient means no failure DSN for it; the other one still bounces.
func TestSMTPNotifyNeverSuppressesBounce(t *testing.T) {
	h, hostAddr := startSmarthost(t)
	h.SetVerdict(func(rcpt string) error { return smtp.ErrNoSuchUser })
	d, addrs := startSMTPDaemon(t, func(s *SMTPConfig) { s.Outbound.Smarthost = hostAddr })
	c := dialSMTP(t, addrs["submission"])
	if err := c.Auth(sasl.NewPlainClient("", "alice", "pw-alice-123")); err != nil {
		t.Fatalf("Auth = %v", err)
	}
	if err := c.Mail("alice@mx.test", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("quiet@far.test", &smtp.RcptOptions{Notify: []string{"NEVER"}}); err != nil {
		t.Fatalf("Rcpt(NOTIFY=NEVER) = %v", err)
	}
	if err := c.Rcpt("loud@far.test", nil); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "Subject: both fail\r\n\r\nbody\r\n")
	if err := w.Close(); err != nil {
		t.Fatalf("end of DATA = %v", err)
	}
	c.Quit()
	bounces := inbox(t, d, "alice", 1)
	if len(bounces) != 1 || !strings.Contains(bounces[0], "Final-Recipient: rfc822; loud@far.test") {
		t.Fatalf("alice's inbox = %q, want one DSN for loud@far.test", bounces)
	}
	if strings.Contains(bounces[0], "quiet@far.test") {
		t.Errorf("the DSN names quiet@far.test, whose RCPT said NOTIFY=NEVER")
	}
}

// queueOf returns the daemon's outbound queue.
func queueOf(t *testing.T, d *Daemon) *mta.Queue {
	t.Helper()
	for _, c := range d.components {
		if q, ok := c.Component.(*mta.Queue); ok {
			return q
		}
	}
	t.Fatalf("daemon components = %v, want an *mta.Queue", d.components)
	return nil
}
