package interop

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plumbnet/plumb/imap"
	"github.com/plumbnet/plumb/internal/mailstore"
	"github.com/plumbnet/plumb/internal/testkit"
)

// startDovecotIMAP runs Dovecot's IMAP server from a temporary config on
// a free loopback port (STARTTLS offered), the user alice (password
// "dove-pw") with her Maildir at mailRoot/alice, which it hands to
// Dovecot's mail user. mailRoot "" makes a fresh one holding msgs.
func startDovecotIMAP(t *testing.T, mailRoot string, msgs []string) (addr string) {
	t.Helper()
	bin := need(t, "dovecot")
	if _, err := os.Stat("/usr/lib/dovecot/imap"); err != nil {
		if requirePeers() {
			t.Fatalf("dovecot-imapd is required (PLUMB_INTEROP=require) but not installed")
		}
		t.Skip("dovecot-imapd not installed")
	}
	if os.Geteuid() != 0 {
		if requirePeers() {
			t.Fatalf("the Dovecot peer needs root to hand the Maildir to uid %d", dovecotMailUID)
		}
		t.Skipf("the Dovecot peer needs root to hand the Maildir to uid %d", dovecotMailUID)
	}
	dir, err := os.MkdirTemp("", "plumb-dovecot-imap-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	testkit.TLSFiles(t, dir)
	home := filepath.Join(dir, "home", "alice")
	if mailRoot == "" {
		mailRoot = filepath.Join(dir, "mail")
		st, err := mailstore.Open(mailRoot)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if _, err := st.Deliver(context.Background(), "alice", "", strings.NewReader(m)); err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range []string{"Archive", "Trash"} {
			if err := st.CreateFolder("alice", f); err != nil {
				t.Fatal(err)
			}
		}
	}
	os.WriteFile(filepath.Join(dir, "passwd"),
		fmt.Appendf(nil, "alice:{PLAIN}dove-pw:%d:%d::%s::\n", dovecotMailUID, dovecotMailUID, home), 0o644)
	os.MkdirAll(home, 0o755)
	for p := mailRoot; p != "/" && p != "."; p = filepath.Dir(p) {
		os.Chmod(p, 0o755) // Dovecot's mail user must reach the Maildir
		if p == filepath.Dir(filepath.Dir(mailRoot)) {
			break
		}
	}
	for _, d := range []string{mailRoot, filepath.Join(dir, "home")} {
		filepath.Walk(d, func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, dovecotMailUID, dovecotMailUID) })
	}
	port := dovecotPort(t)
	conf := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <%[1]s/cert.pem
ssl_key = <%[1]s/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:%[3]s/%%u
namespace inbox {
  inbox = yes
  separator = /
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN %[1]s/passwd
}
userdb {
  driver = passwd-file
  args = %[1]s/passwd
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[2]d
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
`, dir, port, mailRoot)
	cfgFile := filepath.Join(dir, "dovecot.conf")
	if err := os.WriteFile(cfgFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-F", "-c", cfgFile)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	addr = fmt.Sprintf("127.0.0.1:%d", port)
	testkit.Eventually(t, 15*time.Second, "Dovecot listening on "+addr, func() bool {
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
			t.Fatalf("dovecot exited: %s\n%s", out.String(), log)
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	return addr
}

// TestIMAPClientDovecot: our client against Dovecot, command by command.
func TestIMAPClientDovecot(t *testing.T) {
	addr := startDovecotIMAP(t, "", imapMessages)
	ctx := context.Background()
	c, err := imap.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.StartTLS(ctx, &tls.Config{InsecureSkipVerify: true}); err != nil {
		t.Fatalf("StartTLS = %v", err)
	}
	var pe *imap.Error
	if err := c.Login(ctx, "alice", "wrong"); !errors.As(err, &pe) || pe.Type != "NO" || pe.Code != "AUTHENTICATIONFAILED" {
		t.Errorf("Login(wrong) = %v, want NO [AUTHENTICATIONFAILED]", err)
	}
	if err := c.Authenticate(ctx, "alice", "dove-pw"); err != nil {
		t.Fatalf("Authenticate = %v", err)
	}
	var updates []*imap.Response
	c.Untagged = func(r *imap.Response) { updates = append(updates, r) }
	sel, err := c.Select(ctx, "INBOX", false)
	if err != nil || sel.Exists != uint32(len(imapMessages)) || sel.UIDValidity == 0 {
		t.Fatalf("Select = %+v, %v", sel, err)
	}
	var got []*imap.FetchData
	err = c.Fetch(ctx, false, imap.SeqSet{Ranges: []imap.SeqRange{{Start: 1, Stop: 0}}}, "(UID FLAGS RFC822.SIZE ENVELOPE BODYSTRUCTURE BODY.PEEK[])", func(f *imap.FetchData) error {
		got = append(got, f)
		return nil
	})
	if err != nil || len(got) != len(imapMessages) {
		t.Fatalf("Fetch 1:* = %d, %v", len(got), err)
	}
	for i, m := range imapMessages {
		want := strings.ReplaceAll(m, "\n", "\r\n")
		if got[i].Sections["BODY[]"] != want || got[i].Size != int64(len(want)) {
			t.Errorf("message %d: BODY[] = %q (size %d), want %q", i+1, got[i].Sections["BODY[]"], got[i].Size, want)
		}
	}
	if got[0].Subject() != "plan" || got[0].From() != "Alice <alice@example.org>" || len(got[0].BodyStructure) < 3 {
		t.Errorf("message 1: subject %q, from %q, structure %v", got[0].Subject(), got[0].From(), got[0].BodyStructure)
	}
	if n, err := c.Search(ctx, false, `OR FROM bob SUBJECT plan`); err != nil || !slices.Equal(n, []uint32{1, 2}) {
		t.Errorf("Search = %v, %v", n, err)
	}
	if err := c.Store(ctx, false, imap.SeqSetOf(3), "+FLAGS", []string{imap.FlagDeleted}); err != nil {
		t.Fatal(err)
	}
	if cd, err := c.Copy(ctx, true, imap.SeqSetOf(got[0].UID), "Archive"); err != nil || cd == nil {
		t.Errorf("Copy = %+v, %v (want COPYUID)", cd, err)
	}
	if cd, err := c.Move(ctx, false, imap.SeqSetOf(2), "Trash"); err != nil || cd == nil {
		t.Errorf("Move = %+v, %v", cd, err)
	}
	if n, err := c.Expunge(ctx); err != nil || len(n) != 1 {
		t.Errorf("Expunge = %v, %v", n, err)
	}
	big := []byte("Subject: big\r\n\r\n" + strings.Repeat(strings.Repeat("y", 76)+"\r\n", 20000))
	if v, u, err := c.Append(ctx, "Archive", []string{imap.FlagSeen}, time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), big); err != nil || v == 0 || u == 0 {
		t.Errorf("Append = %d %d %v", v, u, err)
	}
	if err := c.Create(ctx, "Réunions"); err != nil {
		t.Fatal(err)
	}
	list, err := c.List(ctx, "", "*")
	if err != nil || !slices.ContainsFunc(list, func(l imap.ListData) bool { return l.Name == "Réunions" }) {
		t.Errorf("List = %+v, %v", list, err)
	}
	st, err := c.Status(ctx, "Archive", "MESSAGES", "UIDNEXT")
	if err != nil || st["MESSAGES"] != 2 {
		t.Errorf("Status(Archive) = %v, %v", st, err)
	}
	if _, err := c.Select(ctx, "Nowhere", false); !errors.As(err, &pe) || pe.Type != "NO" {
		t.Errorf("Select(Nowhere) = %v, want NO", err)
	}
	// IDLE: an APPEND from a second session arrives as EXISTS.
	c2, err := imap.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.InsecureAuth = true
	if err := c2.Login(ctx, "alice", "dove-pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, "INBOX", false); err != nil {
		t.Fatal(err)
	}
	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	exists := make(chan uint32, 4)
	idled := make(chan error, 1)
	go func() {
		idled <- c.Idle(ictx, func(r *imap.Response) {
			if r.Type == "EXISTS" {
				exists <- r.Num
			}
		})
	}()
	// Dovecot may take the append before or after IDLE starts; either
	// way it reports it in IDLE (or at its start).
	if _, _, err := c2.Append(ctx, "INBOX", nil, time.Time{}, []byte("Subject: idle\r\n\r\nx\r\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-exists:
		if n != 2 {
			t.Errorf("EXISTS in IDLE = %d, want 2", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no EXISTS in IDLE within 10s of an APPEND")
	}
	cancel()
	if err := <-idled; err != nil {
		t.Errorf("Idle = %v", err)
	}
	if err := c.Logout(ctx); err != nil {
		t.Errorf("Logout = %v", err)
	}
}
