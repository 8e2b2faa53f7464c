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
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/mailstore"
	"github.com/plumbnet/plumb/internal/testkit"
	"github.com/plumbnet/plumb/pop3"
	"github.com/plumbnet/plumb/sasl"
)

// dovecotMailUID owns the Maildirs Dovecot serves: Dovecot refuses to
// access mail as root.
const dovecotMailUID = 65534

// startDovecotPOP3 runs Dovecot's POP3 server from a temporary config
// on a free loopback port, with STLS, the user alice (password
// "dove-pw") and msgs in her Maildir. It returns the address and the
// Maildir and stops Dovecot by its PID when the test ends.
func startDovecotPOP3(t *testing.T, msgs []string) (addr, maildir string) {
	t.Helper()
	bin := need(t, "dovecot")
	if _, err := os.Stat("/usr/lib/dovecot/pop3"); err != nil {
		if requirePeers() {
			t.Fatalf("dovecot-pop3d is required (PLUMB_INTEROP=require) but not installed")
		}
		t.Skip("dovecot-pop3d not installed")
	}
	if os.Geteuid() != 0 {
		// Dovecot serves mail as a user of its own and refuses root.
		if requirePeers() {
			t.Fatalf("the Dovecot peer needs root to hand the Maildir to uid %d", dovecotMailUID)
		}
		t.Skipf("the Dovecot peer needs root to hand the Maildir to uid %d", dovecotMailUID)
	}
	dir, err := os.MkdirTemp("", "plumb-dovecot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755) // Dovecot's unprivileged processes must reach the Maildir

	testkit.TLSFiles(t, dir) // cert.pem and key.pem
	home := filepath.Join(dir, "home", "alice")
	maildir = filepath.Join(dir, "mail", "alice")
	os.WriteFile(filepath.Join(dir, "passwd"),
		fmt.Appendf(nil, "alice:{PLAIN}dove-pw:%d:%d::%s::\n", dovecotMailUID, dovecotMailUID, home), 0o644)

	st, err := mailstore.Open(filepath.Join(dir, "mail"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if _, err := st.Deliver(context.Background(), "alice", "", strings.NewReader(m)); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(home, 0o755)
	for _, d := range []string{filepath.Join(dir, "mail"), filepath.Join(dir, "home")} {
		filepath.Walk(d, func(p string, _ os.FileInfo, _ error) error {
			return os.Lchown(p, dovecotMailUID, dovecotMailUID)
		})
	}

	port := dovecotPort(t)
	conf := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
protocols = pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <%[1]s/cert.pem
ssl_key = <%[1]s/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:%[1]s/mail/%%u
pop3_uidl_format = %%08Xu%%08Xv
passdb {
  driver = passwd-file
  args = scheme=PLAIN %[1]s/passwd
}
userdb {
  driver = passwd-file
  args = %[1]s/passwd
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = %[2]d
  }
  inet_listener pop3s {
    port = 0
  }
}
service anvil {
  chroot =
}
`, dir, port)
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
	return addr, maildir
}

func dovecotPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestPOP3ClientDovecot(t *testing.T) {
	addr, maildir := startDovecotPOP3(t, pop3Messages)
	c, err := pop3.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	caps, err := c.Capabilities()
	if err != nil {
		t.Fatalf("Capabilities() = %v", err)
	}
	for _, want := range []string{"STLS", "UIDL", "TOP"} {
		if _, ok := caps[want]; !ok {
			t.Errorf("Dovecot CAPA %v lacks %s", caps, want)
		}
	}
	if err := c.StartTLS(&tls.Config{InsecureSkipVerify: true}); err != nil {
		t.Fatalf("StartTLS = %v", err)
	}
	if err := c.Login("alice", "wrong"); err == nil {
		t.Fatalf("Login with a wrong password succeeded")
	} else if pe := (*pop3.Error)(nil); !errors.As(err, &pe) || pe.Command != "PASS" {
		t.Errorf("Login(wrong) = %v, want a *pop3.Error for PASS", err)
	}
	if err := c.Auth(sasl.NewPlainClient("", "alice", "dove-pw")); err != nil {
		t.Fatalf("Auth(PLAIN) = %v", err)
	}
	n, size, err := c.Stat()
	total := 0
	for _, m := range pop3Messages {
		total += len(wireForm(m))
	}
	if err != nil || n != len(pop3Messages) {
		t.Fatalf("Stat() = %d, %d, %v; want %d messages", n, size, err, len(pop3Messages))
	}
	list, err := c.List()
	if err != nil || len(list) != len(pop3Messages) {
		t.Fatalf("List() = %v, %v", list, err)
	}
	for i, m := range pop3Messages {
		got, err := c.Retr(i + 1)
		if err != nil || string(got) != wireForm(m) {
			t.Errorf("Retr(%d) = %q, %v; want %q", i+1, got, err, wireForm(m))
		}
	}
	top, err := c.Top(2, 1)
	if want := "From: b@example.org\r\nSubject: bare LF\r\n\r\n.a line with a dot\r\n"; err != nil || string(top) != want {
		t.Errorf("Top(2, 1) = %q, %v; want %q", top, err, want)
	}
	uids, err := c.UIDL()
	if err != nil || len(uids) != len(pop3Messages) || uids[0].UID == "" {
		t.Fatalf("UIDL() = %v, %v", uids, err)
	}
	// Fetch skips the first by UID and deletes what it fetched.
	var fetched []string
	got, err := c.Fetch(func(uid string) bool { return uid == uids[0].UID }, true, func(mi pop3.MessageInfo, body []byte) error {
		fetched = append(fetched, string(body))
		return nil
	})
	if err != nil || got != len(pop3Messages)-1 || fetched[0] != wireForm(pop3Messages[1]) {
		t.Fatalf("Fetch = %d, %v; fetched %d messages", got, err, len(fetched))
	}
	if err := c.Quit(); err != nil {
		t.Fatalf("Quit() = %v", err)
	}
	var files int
	for _, sub := range []string{"new", "cur"} {
		ents, _ := os.ReadDir(filepath.Join(maildir, sub))
		files += len(ents)
	}
	if files != 1 {
		t.Errorf("after Fetch with delete and QUIT Dovecot's Maildir holds %d messages, want 1", files)
	}
}
