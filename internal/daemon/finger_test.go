package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/finger"
	"github.com/plumbnet/plumb/ftp"
	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/mailstore"
	"github.com/plumbnet/plumb/internal/testkit"
	"github.com/plumbnet/plumb/pop3"
	"github.com/plumbnet/plumb/sasl"
)

// startFingerDaemon runs finger and POP3 over one data directory with
// alice (full name, a .plan, two messages, one of them seen) and bob
// (opted out with .nofinger).
func startFingerDaemon(t *testing.T, edit func(*FingerConfig)) *Daemon {
	t.Helper()
	cfg := testConfig(t)
	fc := fingerSection.of(cfg)
	fc.Enabled, fc.Addr = true, "127.0.0.1:0"
	if edit != nil {
		edit(fc)
	}
	pc := pop3Section.of(cfg)
	pc.Enabled, pc.Addr = true, "127.0.0.1:0"
	db, err := accounts.OpenWith(filepath.Join(cfg.Data, accounts.FileName), accounts.Options{Cost: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "bob"} {
		if err := db.Add(u, u+"-password"); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetFullName("alice", "Alice Liddell"); err != nil {
		t.Fatal(err)
	}
	home := func(u string) string { return filepath.Join(cfg.Data, "files", "home", u) }
	for u, files := range map[string]map[string]string{
		"alice": {".plan": "Down the \x1b[5mrabbit\x1b[0m hole.\n", ".project": "Tea party"},
		"bob":   {".nofinger": "", ".plan": "secret plans"},
	} {
		if err := os.MkdirAll(home(u), 0o750); err != nil {
			t.Fatal(err)
		}
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(home(u), name), []byte(body), 0o640); err != nil {
				t.Fatal(err)
			}
		}
	}
	store, err := mailstore.Open(filepath.Join(cfg.Data, "mail"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := store.Deliver(context.Background(), "alice", "", strings.NewReader(fmt.Sprintf("Subject: %d\r\n\r\nhi\r\n", i))); err != nil {
			t.Fatal(err)
		}
	}
	mb, err := store.Mailbox(context.Background(), "alice", mailstore.Inbox)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := mb.Messages(context.Background())
	if err != nil || len(msgs) != 3 {
		t.Fatalf("alice's inbox = %d messages, %v; want 3", len(msgs), err)
	}
	if err := mb.SetFlags(context.Background(), msgs[0].UID, mailstore.NewFlags("S")); err != nil {
		t.Fatal(err)
	}
	d := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func fingerOf(t *testing.T, d *Daemon, query string) string {
	t.Helper()
	q, err := finger.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	b, err := finger.Finger(context.Background(), addrOf(t, d, "finger"), q)
	if err != nil {
		t.Fatalf("finger %q: %v", query, err)
	}
	return string(b)
}

func TestFingerUser(t *testing.T) {
	d := startFingerDaemon(t, nil)
	got := fingerOf(t, d, "alice")
	for _, want := range []string{"Login: alice", "Name: Alice Liddell", "Never logged in.", "2 unread messages.",
		"Plan:\r\nDown the ^[[5mrabbit^[[0m hole.\r\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("finger alice = %q, want it to hold %q", got, want)
		}
	}
	if strings.Contains(got, "Tea party") {
		t.Errorf("finger alice = %q, shows .project without /W", got)
	}
	if got := fingerOf(t, d, "/W alice"); !strings.Contains(got, "Project: Tea party\r\n") {
		t.Errorf("finger /W alice = %q, want the .project", got)
	}
	// Opted out and unknown: one answer, the name aside.
	bob, nobody := fingerOf(t, d, "bob"), fingerOf(t, d, "nobody")
	if strings.ReplaceAll(bob, "bob", "X") != strings.ReplaceAll(nobody, "nobody", "X") || !strings.Contains(bob, "no such user") {
		t.Errorf("finger bob (opted out) = %q, finger nobody = %q; want the same answer", bob, nobody)
	}
	if got := fingerOf(t, d, ""); !strings.Contains(got, "not offered") {
		t.Errorf("empty query with list_users off = %q, want a refusal", got)
	}
	if got := fingerOf(t, d, "alice@127.0.0.1"); !strings.Contains(got, "forwarding is refused") {
		t.Errorf("alice@127.0.0.1 with forward off = %q, want a refusal", got)
	}
}

func TestFingerFieldsConfigurable(t *testing.T) {
	d := startFingerDaemon(t, func(c *FingerConfig) { c.Fields = []string{"plan"}; c.MaxPlanBytes = 8 })
	got := fingerOf(t, d, "/W alice")
	if want := "Login: alice\r\nPlan:\r\nDown the\r\n[cut at 8 bytes]\r\n"; got != want {
		t.Errorf("finger /W alice with fields = [plan], 8 bytes = %q, want %q", got, want)
	}
}

func TestFingerSeesLogins(t *testing.T) {
	d := startFingerDaemon(t, func(c *FingerConfig) { c.ListUsers = true })
	if got := fingerOf(t, d, ""); got != "No one logged on.\r\n" {
		t.Errorf("empty query before any login = %q", got)
	}
	c, err := pop3.Dial(context.Background(), addrOf(t, d, "pop3"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login("alice", "alice-password"); err != nil {
		t.Fatal(err)
	}
	if got := fingerOf(t, d, "/W alice"); !strings.Contains(got, "Last login ") || !strings.Contains(got, "over pop3") || !strings.Contains(got, "On since ") {
		t.Errorf("finger /W alice during a POP3 session = %q, want its last login and the session", got)
	}
	if got := fingerOf(t, d, ""); !strings.Contains(got, "alice") || !strings.Contains(got, "Alice Liddell") || !strings.Contains(got, "pop3") {
		t.Errorf("empty query during alice's POP3 session = %q, want alice listed", got)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 5*time.Second, "alice off the list after QUIT", func() bool {
		return fingerOf(t, d, "") == "No one logged on.\r\n"
	})
	if got := fingerOf(t, d, "alice"); !strings.Contains(got, "over pop3") {
		t.Errorf("finger alice after the session = %q, want the last login kept", got)
	}
	// The last login is written when the daemon stops, and read back.
	d.Close()
	p := openPresence(filepath.Join(d.DataDir(), presenceFile), slog.Default())
	if l, ok := p.Last("alice"); !ok || l.Protocol != "pop3" || time.Since(l.Time) > time.Hour {
		t.Errorf("presence read back after stop: alice = %+v, %v; want a recent pop3 login", l, ok)
	}
}

// TestPresenceFloodWritesOnce: logins do not write; the record is
// written once per delay, and at Stop.
func TestPresenceFloodWritesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), presenceFile)
	p := openPresence(path, slog.New(slog.DiscardHandler))
	p.delay = time.Hour
	for i := range 10000 {
		p.Login(fmt.Sprintf("user%d", i%100), "smtp")()
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("presence file after 10000 logins within the delay: %v, want none written yet", err)
	}
	if n := len(p.Sessions("")); n != 0 {
		t.Errorf("sessions after every end() = %d, want 0", n)
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	var last map[string]lastLogin
	if err != nil || json.Unmarshal(b, &last) != nil || len(last) != 100 {
		t.Fatalf("presence file after Stop: %d users, %v; want 100", len(last), err)
	}
	// A login after Stop is written at once.
	p.Login("late", "ftp")
	if again := openPresence(path, slog.Default()); func() bool { _, ok := again.Last("late"); return !ok }() {
		t.Error("a login after Stop was not written at once")
	}
}

func TestFingerConfigChecks(t *testing.T) {
	for _, bad := range []FingerConfig{{Fields: []string{"shoe_size"}}, {MaxPlanBytes: -1}, {MaxPlanBytes: 1 << 30}} {
		if err := bad.check(nil); err == nil {
			t.Errorf("check(%+v) = nil, want an error", bad)
		}
	}
	if _, err := LoadConfig(fingerConfigFile(t, "[finger]\nfields = [\"name\", \"shoe_size\"]\n")); err == nil || !strings.Contains(err.Error(), "finger.fields") {
		t.Errorf("LoadConfig(fields with shoe_size) = %v, want an error naming finger.fields", err)
	}
	cfg, err := LoadConfig(fingerConfigFile(t, "[finger]\nlist_users = true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if fc := fingerSection.of(cfg); !fc.ListUsers || fc.Forward || len(fc.Fields) != len(fingerFields) || fc.MaxPlanBytes != 4096 {
		t.Errorf("[finger] with list_users = true over the defaults = %+v", fc)
	}
}

func fingerConfigFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "plumb.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPresenceRecordsFTPAndSMTP: logins over FTP and SMTP AUTH are
// recorded too, and their sessions leave the record when they end.
func TestPresenceRecordsFTPAndSMTP(t *testing.T) {
	d, addrs := startSMTPDaemonWith(t, t.TempDir(), func(c *Config) {
		f := ftpSection.of(c)
		f.Enabled, f.Addr = true, "127.0.0.1:0"
	})
	p := d.Presence()
	c := dialSMTP(t, addrs["submission"])
	if err := c.Auth(sasl.NewPlainClient("", "alice", "pw-alice-123")); err != nil {
		t.Fatalf("Auth = %v", err)
	}
	if l, ok := p.Last("alice"); !ok || l.Protocol != "smtp" || len(p.Sessions("alice")) != 1 {
		t.Errorf("after SMTP AUTH: Last(alice) = %+v, %v, sessions %v; want smtp and one session", l, ok, p.Sessions("alice"))
	}
	c.Quit()
	testkit.Eventually(t, 5*time.Second, "alice's SMTP session gone", func() bool { return len(p.Sessions("alice")) == 0 })

	fc, err := ftp.Dial(context.Background(), addrOf(t, d, "ftp"))
	if err != nil {
		t.Fatal(err)
	}
	if err := fc.Login("bob", "pw-bob-123"); err != nil {
		t.Fatalf("FTP Login(bob) = %v", err)
	}
	if l, ok := p.Last("bob"); !ok || l.Protocol != "ftp" || len(p.Sessions("bob")) != 1 {
		t.Errorf("after FTP login: Last(bob) = %+v, %v, sessions %v; want ftp and one session", l, ok, p.Sessions("bob"))
	}
	fc.Quit()
	testkit.Eventually(t, 5*time.Second, "bob's FTP session gone", func() bool { return len(p.Sessions("bob")) == 0 })
}

// TestPresenceRecordsIMAPAndNNTP: logins over IMAP and NNTP reach the
// presence record (finger's "last login over any protocol"), and each
// session leaves it when its connection ends.
func TestPresenceRecordsIMAPAndNNTP(t *testing.T) {
	cfg := testConfig(t)
	ic := imapSection.of(cfg)
	ic.Enabled, ic.Addr = true, "127.0.0.1:0"
	nc := nntpSection.of(cfg)
	nc.Enabled, nc.Addr = true, "127.0.0.1:0"
	db, err := accounts.OpenWith(filepath.Join(cfg.Data, accounts.FileName), accounts.Options{Cost: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "bob"} {
		if err := db.Add(u, u+"-password"); err != nil {
			t.Fatal(err)
		}
	}
	d := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	p := d.Presence()

	ic2 := imapLogin(t, addrOf(t, d, "imap"))
	if l, ok := p.Last("alice"); !ok || l.Protocol != "imap" || len(p.Sessions("alice")) != 1 {
		t.Errorf("after IMAP LOGIN: Last(alice) = %+v, %v, sessions %v; want imap and one session", l, ok, p.Sessions("alice"))
	}
	ic2.Conn.Close()
	testkit.Eventually(t, 5*time.Second, "alice's IMAP session gone", func() bool { return len(p.Sessions("alice")) == 0 })

	nt := testkit.Dial(t, addrOf(t, d, "nntp"))
	nt.Expect("20")
	nt.Send("AUTHINFO USER bob")
	nt.Expect("381")
	nt.Send("AUTHINFO PASS bob-password")
	nt.Expect("281")
	if l, ok := p.Last("bob"); !ok || l.Protocol != "nntp" || len(p.Sessions("bob")) != 1 {
		t.Errorf("after AUTHINFO: Last(bob) = %+v, %v, sessions %v; want nntp and one session", l, ok, p.Sessions("bob"))
	}
	nt.Send("QUIT")
	nt.Expect("205")
	testkit.Eventually(t, 5*time.Second, "bob's NNTP session gone", func() bool { return len(p.Sessions("bob")) == 0 })
}
