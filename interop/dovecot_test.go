package interop

import (
	"bytes"
	"context"
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
)

// dovecotMailUID owns the Maildirs Dovecot serves: Dovecot refuses to
// access mail as root.
const dovecotMailUID = 65534

// startDovecot runs Dovecot's server of proto ("pop3", "imap") from a
// temporary config on a free loopback port, with STARTTLS/STLS, the user
// alice (password "dove-pw") whose Maildir is mailRoot/alice, handed to
// Dovecot's mail user. mailRoot "" makes a fresh one holding msgs and
// folders. extra is more config. It returns the address and the Maildir
// and stops Dovecot by its PID when the test ends.
func startDovecot(t *testing.T, proto, mailRoot string, msgs, folders []string, extra string) (addr, maildir string) {
	t.Helper()
	bin := need(t, "dovecot")
	if _, err := os.Stat("/usr/lib/dovecot/" + proto); err != nil {
		if requirePeers() {
			t.Fatalf("dovecot-%sd is required (PLUMB_INTEROP=require) but not installed", proto)
		}
		t.Skipf("dovecot-%sd not installed", proto)
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
	os.Chmod(dir, 0o755)     // Dovecot's unprivileged processes must reach the Maildir
	testkit.TLSFiles(t, dir) // cert.pem and key.pem
	home := filepath.Join(dir, "home", "alice")
	os.WriteFile(filepath.Join(dir, "passwd"),
		fmt.Appendf(nil, "alice:{PLAIN}dove-pw:%d:%d::%s::\n", dovecotMailUID, dovecotMailUID, home), 0o644)
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
		for _, f := range folders {
			if err := st.CreateFolder("alice", f); err != nil {
				t.Fatal(err)
			}
		}
	} else {
		// A Maildir of the test's own: the directories down to it below
		// the temporary directory (never that one itself) must be
		// reachable by Dovecot's mail user.
		tmp := filepath.Clean(os.TempDir()) + string(filepath.Separator)
		for p := filepath.Clean(mailRoot); strings.HasPrefix(p, tmp); p = filepath.Dir(p) {
			os.Chmod(p, 0o755)
		}
	}
	os.MkdirAll(home, 0o755)
	for _, d := range []string{mailRoot, filepath.Join(dir, "home")} {
		filepath.Walk(d, func(p string, _ os.FileInfo, _ error) error {
			return os.Lchown(p, dovecotMailUID, dovecotMailUID)
		})
	}
	port := dovecotPort(t)
	conf := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
protocols = %[3]s
listen = 127.0.0.1
ssl = yes
ssl_cert = <%[1]s/cert.pem
ssl_key = <%[1]s/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:%[4]s/%%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN %[1]s/passwd
}
userdb {
  driver = passwd-file
  args = %[1]s/passwd
}
service %[3]s-login {
  inet_listener %[3]s {
    address = 127.0.0.1
    port = %[2]d
  }
  inet_listener %[3]ss {
    port = 0
  }
}
service anvil {
  chroot =
}
`, dir, port, proto, mailRoot) + extra
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
	return addr, filepath.Join(mailRoot, "alice")
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
