package interop

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// startTelnetd runs Debian's inetutils telnetd (inetd-style, one
// process per connection) under socat on a free loopback port, with
// program instead of login(1) (-E), and returns its address.
func startTelnetd(t *testing.T, program string) string {
	t.Helper()
	telnetd := "/usr/sbin/telnetd"
	if _, err := os.Stat(telnetd); err != nil {
		need(t, "in.telnetd") // skips, or fails under PLUMB_INTEROP=require
		telnetd, _ = exec.LookPath("in.telnetd")
	}
	socat := need(t, "socat")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(socat, "TCP-LISTEN:"+strconv.Itoa(port)+",bind=127.0.0.1,reuseaddr,fork",
		"EXEC:"+telnetd+" -h -E "+program)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its children go with it
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	testkit.Eventually(t, 10*time.Second, "socat listening for telnetd", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return addr
}

// TestTelnetClientAgainstTelnetd: plumb telnet, on a terminal, against
// inetutils telnetd: telnetd's own requests (AUTHENTICATION, ENCRYPT,
// TSPEED, XDISPLOC, OLD-ENVIRON) are refused and the session goes on;
// the terminal type (TTYPE) becomes the program's TERM, the 80x24
// window (NAWS) its terminal's size; telnetd echoes (the client does
// not echo too) and data goes both ways; the escape prompt shows the
// options in force and closes the connection.
func TestTelnetClientAgainstTelnetd(t *testing.T) {
	py := needPyModule(t, "pty")
	script := filepath.Join(t.TempDir(), "peer.sh")
	body := "#!/bin/sh\necho \"TERM=$TERM\"\nread x\necho \"read $x\"\nstty size\nexec cat\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	addr := startTelnetd(t, script)
	host, port, _ := strings.Cut(addr, ":")
	screen, code := ptySession(t, py, []string{
		"expect:TERM=vt100",
		`send:first line\r`,
		"expect:read first line",
		"expect:24 80", // NAWS, sent once telnetd said DO NAWS
		`send:hello-plumb\r`,
		"expect:hello-plumb", // telnetd's terminal echoes
		"expect:hello-plumb", // cat sends it back
		`send:\x1d`,
		"expect:telnet> ",
		`send:status\r`,
		"expect:local echo",
		`send:\x1d`,
		"expect:telnet> ",
		`send:close\r`,
	}, "telnet", "--term", "vt100", host, port)
	t.Logf("terminal:\n%q", screen)
	if code != 0 {
		t.Fatalf("plumb telnet: exit %d, want 0", code)
	}
	if strings.Count(screen, "first line") != 2 {
		t.Errorf("typed line shown %d times, want twice (telnetd's echo, then read's output): %q", strings.Count(screen, "first line"), screen)
	}
	for _, want := range []string{"server echo true", "go-ahead suppressed true", "window size sent true", "terminal type sent true", "local echo false", "Connection closed."} {
		if !strings.Contains(screen, want) {
			t.Errorf("terminal lacks %q", want)
		}
	}
}

// TestTelnetClientLineMode: plumb telnet --line with piped input, as to
// a text protocol: our own echo service through plumb serve gets CR LF
// lines and sends them back.
func TestTelnetClientLineMode(t *testing.T) {
	s := startServe(t, "")
	host, port, _ := strings.Cut(s.Addr(t, "echo"), ":")
	cmd := exec.Command(plumbBin, "telnet", "--line", host, port)
	cmd.Stdin = strings.NewReader("HELO there\nsecond\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("plumb telnet --line: %v", err)
	}
	if string(out) != "HELO there\r\nsecond\r\n" {
		t.Fatalf("plumb telnet --line through echo = %q, want the lines back with CR LF", out)
	}
}
