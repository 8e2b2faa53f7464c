package interop

import (
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// inFingerd is Debian's fingerd (package fingerd), an inetd service.
const inFingerd = "/usr/sbin/in.fingerd"

// startFingerd runs in.fingerd under socat, as inetd would, and
// returns the address; it is stopped with the test.
func startFingerd(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(inFingerd); err != nil {
		if requirePeers() {
			t.Fatalf("peer %s is required (PLUMB_INTEROP=require) but not installed", inFingerd)
		}
		t.Skipf("peer %s not installed (Debian package fingerd)", inFingerd)
	}
	return startInetd(t, "TCP-LISTEN", "", "EXEC:"+inFingerd)
}

// TestFingerClientAgainstFingerd runs plumb finger against Debian's
// fingerd, which describes this machine's own users (root exists on
// every one).
func TestFingerClientAgainstFingerd(t *testing.T) {
	addr := startFingerd(t)
	got := run(t, 20*time.Second, plumbBin, "finger", "root@"+addr)
	for _, want := range []string{"Login: root", "Directory: /root", "Shell: "} {
		if !strings.Contains(got, want) {
			t.Errorf("plumb finger root@%s = %q, want it to hold %q", addr, got, want)
		}
	}
	if got := run(t, 20*time.Second, plumbBin, "finger", "-l", "root@"+addr); !strings.Contains(got, "Login: root") {
		t.Errorf("plumb finger -l root@%s = %q, want root's long entry", addr, got)
	}
	if got := run(t, 20*time.Second, plumbBin, "finger", "@"+addr); !strings.Contains(got, "No one logged on.") && !strings.Contains(got, "Login") {
		t.Errorf("plumb finger @%s = %q, want the list of users logged in", addr, got)
	}
}

// TestFingerClientMakesControlsHarmless: a hostile server's escape
// sequences reach the terminal as caret notation; --raw passes them.
func TestFingerClientMakesControlsHarmless(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 128)
			c.Read(buf)
			c.Write([]byte("Login: evil\r\n\x1b]0;pwned\x07\x1b[2J\x9b6n\xc2\x9b6n tab\there\r\n"))
			c.Close()
		}
	}()
	got := run(t, 20*time.Second, plumbBin, "finger", "evil@"+ln.Addr().String())
	if want := "Login: evil\n^[]0;pwned^G^[[2J\\x9B6n\\xC2\\x9B6n tab\there\n"; got != want {
		t.Errorf("plumb finger of a hostile answer = %q, want %q", got, want)
	}
	if raw := run(t, 20*time.Second, plumbBin, "finger", "--raw", "evil@"+ln.Addr().String()); !strings.Contains(raw, "\x1b[2J") {
		t.Errorf("plumb finger --raw = %q, want the bytes as sent", raw)
	}
}
