package interop

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// startTelnetd runs Debian's inetutils telnetd (inetd-style, one
// process per connection) under socat on a loopback port, with
// program instead of login(1) (-E), and returns its address.
func startTelnetd(t *testing.T, program string) string {
	t.Helper()
	telnetd := "/usr/sbin/telnetd"
	if _, err := os.Stat(telnetd); err != nil {
		need(t, "in.telnetd") // skips, or fails under PLUMB_INTEROP=require
		telnetd, _ = exec.LookPath("in.telnetd")
	}
	return startInetd(t, "TCP-LISTEN", "", "EXEC:"+telnetd+" -h -E "+program)
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

// TestTelnetClientTLS: plumb telnet --tls to plumb serve's telnets,
// checking the daemon's certificate; in line mode with a script on
// standard input it logs in to the console, runs status and quits.
func TestTelnetClientTLS(t *testing.T) {
	s := startServe(t, telnetConfig+"[telnet.telnets]\nenabled = true\naddr = \"127.0.0.1:0\"\n")
	if _, errs, code := plumbUser(t, s.Data, telnetPass+"\n", "add", "alice"); code != 0 {
		t.Fatalf("plumb user add alice: exit %d: %s", code, errs)
	}
	host, port, _ := strings.Cut(s.Addr(t, "telnets"), ":")
	cmd := exec.Command(plumbBin, "telnet", "--tls", "--ca", filepath.Join(s.Data, "tls", "cert.pem"), "--line", host, port)
	// Standard input stays open until the console said bye: its end
	// would half-close the connection, which a telnet server takes for
	// the client leaving.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	var out safeBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(stdin, "alice\n"+telnetPass+"\nstatus\nquit\n")
	testkit.Eventually(t, 10*time.Second, "the console saying bye", func() bool { return strings.Contains(out.String(), "bye") })
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("plumb telnet --tls: %v\n%s", err, out.String())
	}
	if !regexp.MustCompile(`telnets\s+tcp\+tls\s+\S+\s+1\r\n`).MatchString(out.String()) {
		t.Errorf("status lacks telnets with one connection:\n%s", out.String())
	}
	for _, want := range []string{"login: ", "operator console: alice logged in", "Connection closed."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("plumb telnet --tls output lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(s.Stderr(), "tls=true") {
		t.Errorf("daemon did not log a TLS login:\n%s", s.Stderr())
	}
}

// safeBuffer is a bytes.Buffer a command writes while the test reads.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestTelnetClientResize: plumb telnet on a terminal logs in to plumb
// serve's console; the console sees the terminal's 80x24, and 132x50
// once the terminal is resized (SIGWINCH, then NAWS).
func TestTelnetClientResize(t *testing.T) {
	py := needPyModule(t, "pty")
	s, addr := startTelnetServe(t)
	host, port, _ := strings.Cut(addr, ":")
	out := run(t, 30*time.Second, py, "-W", "ignore", "testdata/telnet_resize.py", "alice", telnetPass, "--",
		plumbBin, "telnet", "--term", "xterm", host, port)
	t.Logf("terminal:\n%q", out)
	if strings.Contains(out, telnetPass) {
		t.Errorf("the password showed on the terminal")
	}
	if !strings.Contains(out, "TERM=xterm size=80x24") {
		t.Errorf("terminal lacks TERM=xterm size=80x24")
	}
	if !strings.Contains(s.Stderr(), "telnet: login") {
		t.Errorf("daemon log lacks the login")
	}
}
