package interop

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fingerConfig runs finger on addr with the listing of users on.
func fingerConfig(addr string) string {
	return "[finger]\naddr = \"" + addr + "\"\nlist_users = true\n"
}

// startFinger starts plumb serve with finger on addr and the account
// alice: full name, the .plan of testdata (escape sequences in it) and a
// .project; and bob, who opted out with .nofinger.
func startFinger(t *testing.T, addr string) *Serve {
	t.Helper()
	s := startServe(t, fingerConfig(addr))
	for _, u := range []string{"alice", "bob"} {
		if _, errs, code := plumbUser(t, s.Data, u+"-password\n", "add", u, "--full-name", strings.ToUpper(u[:1])+u[1:]+" Example"); code != 0 {
			t.Fatalf("plumb user add %s: exit %d: %s", u, code, errs)
		}
	}
	plan, err := os.ReadFile(filepath.Join("testdata", "finger_plan.txt"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"alice/.plan": string(plan), "alice/.project": "Interop", "bob/.nofinger": "", "bob/.plan": "hidden"}
	for name, body := range files {
		p := filepath.Join(s.Data, "files", "home", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestFingerDebianClient runs the Debian (BSD netkit) finger client
// against plumb's server. That client has no port option: it connects
// to port 79 from /etc/services, so the test needs 127.0.0.1:79, which
// only root can bind; elsewhere it skips, except under
// PLUMB_INTEROP=require, where the peer must run.
func TestFingerDebianClient(t *testing.T) {
	fingerBin := need(t, "finger")
	ln, err := net.Listen("tcp", "127.0.0.1:79")
	if err != nil {
		if requirePeers() {
			t.Fatalf("PLUMB_INTEROP=require: the Debian finger client only connects to port 79, and 127.0.0.1:79 cannot be bound here (%v): run as root with the port free", err)
		}
		t.Skipf("the Debian finger client only connects to port 79, and 127.0.0.1:79 cannot be bound here (%v): run as root with the port free", err)
	}
	ln.Close()
	startFinger(t, "127.0.0.1:79")

	got := run(t, 20*time.Second, fingerBin, "alice@127.0.0.1")
	for _, want := range []string{"Login: alice", "Name: Alice Example", "Never logged in.", "No unread mail.",
		"Plan:", "answer ^[[5mevery^[[0m finger.", "^[]0;owned title^G"} {
		if !strings.Contains(got, want) {
			t.Errorf("finger alice@127.0.0.1 = %q, want it to hold %q", got, want)
		}
	}
	if strings.ContainsAny(got, "\x1b\x07") || strings.Contains(got, "Interop") {
		t.Errorf("finger alice@127.0.0.1 = %q: a raw control character, or the /W-only project", got)
	}
	// -l sends /W: the long form has the project.
	if got := run(t, 20*time.Second, fingerBin, "-l", "alice@127.0.0.1"); !strings.Contains(got, "Project: Interop") {
		t.Errorf("finger -l alice@127.0.0.1 = %q, want the project of the long form", got)
	}
	bob, nobody := run(t, 20*time.Second, fingerBin, "bob@127.0.0.1"), run(t, 20*time.Second, fingerBin, "nobody@127.0.0.1")
	if strings.ReplaceAll(bob, "bob", "X") != strings.ReplaceAll(nobody, "nobody", "X") || strings.Contains(bob, "hidden") {
		t.Errorf("finger bob (opted out) = %q and nobody = %q, want the same answer", bob, nobody)
	}
	if got := run(t, 20*time.Second, fingerBin, "@127.0.0.1"); !strings.Contains(got, "No one logged on.") {
		t.Errorf("finger @127.0.0.1 = %q, want No one logged on.", got)
	}
}

// TestFingerOurClientOurServer runs plumb finger against plumb serve,
// on a free port: the CLI's view of everything the server offers.
func TestFingerOurClientOurServer(t *testing.T) {
	s := startFinger(t, "127.0.0.1:0")
	addr := s.Addr(t, "finger")
	got := run(t, 20*time.Second, plumbBin, "finger", "-l", "alice@"+addr)
	for _, want := range []string{"Login: alice", "Name: Alice Example", "Project: Interop", "^[[5mevery^[[0m"} {
		if !strings.Contains(got, want) {
			t.Errorf("plumb finger -l alice@%s = %q, want it to hold %q", addr, got, want)
		}
	}
	if got := run(t, 20*time.Second, plumbBin, "finger", "alice@127.0.0.1@"+addr); !strings.Contains(got, "forwarding is refused") {
		t.Errorf("plumb finger alice@127.0.0.1@%s = %q, want forwarding refused", addr, got)
	}
}
