package interop

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// exitCode waits up to timeout for the daemon to exit and returns its status.
func (s *Serve) exitCode(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-s.done:
		return s.cmd.ProcessState.ExitCode()
	case <-time.After(timeout):
		t.Fatalf("plumb serve still running %v after the signal; stderr:\n%s", timeout, s.Stderr())
		return -1
	}
}

// waitLog waits until the daemon's log contains text.
func (s *Serve) waitLog(t *testing.T, text string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(s.Stderr(), text); {
		if time.Now().After(deadline) {
			t.Fatalf("log never said %q; stderr:\n%s", text, s.Stderr())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// smtpInData opens an SMTP session to the first account and leaves it
// in the middle of DATA, a session that is not idle.
func smtpInData(t *testing.T, s *Serve) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr(t, "smtp"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(c)
	expect := func(code string) {
		t.Helper()
		for {
			line, err := r.ReadString('\n')
			if err != nil || !strings.HasPrefix(line, code) {
				t.Fatalf("SMTP reply %q, %v; want %s", line, err, code)
			}
			if len(line) > 3 && line[3] == ' ' {
				return
			}
		}
	}
	expect("220")
	for _, step := range []struct{ cmd, code string }{
		{"EHLO test", "250"}, {"MAIL FROM:<a@far.test>", "250"}, {"RCPT TO:<plumb@localhost>", "250"}, {"DATA", "354"},
	} {
		fmt.Fprintf(c, "%s\r\n", step.cmd)
		expect(step.code)
	}
	return c, r
}

// TestServeSIGTERMDrainsThenExits: on SIGTERM the daemon stops
// accepting, a session in the middle of a message goes on until its
// message is stored and acknowledged, and the daemon then exits 0
// saying every session finished.
func TestServeSIGTERMDrainsThenExits(t *testing.T) {
	s := startServe(t, "")
	c, r := smtpInData(t, s)
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.waitLog(t, "shutting down")
	if nc, err := net.DialTimeout("tcp", s.Addr(t, "smtp"), time.Second); err == nil {
		nc.Close()
		t.Error("a new connection was accepted after SIGTERM")
	}
	fmt.Fprintf(c, "Subject: sent during shutdown\r\n\r\nstill stored\r\n.\r\n")
	if line, err := r.ReadString('\n'); !strings.HasPrefix(line, "250") {
		t.Fatalf("end of DATA during shutdown: %q, %v; want 250", line, err)
	}
	c.Close()
	if code := s.exitCode(t, 10*time.Second); code != 0 {
		t.Errorf("exit status after a drained shutdown = %d, want 0; stderr:\n%s", code, s.Stderr())
	}
	if !strings.Contains(s.Stderr(), "stopped cleanly") {
		t.Errorf("log does not say the shutdown was clean:\n%s", s.Stderr())
	}
	msgs, _ := filepath.Glob(filepath.Join(s.Data, "mail", "plumb", "new", "*"))
	if len(msgs) != 1 {
		t.Errorf("messages in plumb's Maildir after the drained shutdown: %d, want 1", len(msgs))
	}
}

// TestServeSecondSignalForces: a second signal ends open sessions at
// once and the exit status says the shutdown was not clean.
func TestServeSecondSignalForces(t *testing.T) {
	s := startServe(t, "[limits]\nshutdown_grace = \"1m\"\n")
	smtpInData(t, s)
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.waitLog(t, "shutting down")
	s.cmd.Process.Signal(syscall.SIGINT)
	if code := s.exitCode(t, 10*time.Second); code == 0 {
		t.Errorf("exit status after a forced shutdown = 0, want non-zero")
	}
	if !strings.Contains(s.Stderr(), "second signal") {
		t.Errorf("log does not mention the second signal:\n%s", s.Stderr())
	}
}

// runServeFails runs plumb serve expecting it to fail at start, and
// returns its exit status and standard error.
func runServeFails(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(plumbBin, append([]string{"serve"}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("plumb serve %v kept running; want it to fail at start", args)
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}

func TestServePortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	data := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "plumb.toml")
	text := fmt.Sprintf("data = %q\n[admin]\nenabled = false\n", data)
	for _, s := range defaultServices {
		text += fmt.Sprintf("[%s]\naddr = \"127.0.0.1:0\"\n", s)
	}
	text = strings.Replace(text, "[daytime]\naddr = \"127.0.0.1:0\"", fmt.Sprintf("[daytime]\naddr = %q\nudp = false", busy.Addr().String()), 1)
	os.WriteFile(cfg, []byte(text), 0o600)
	code, stderr := runServeFails(t, "--config", cfg)
	if code == 0 {
		t.Fatalf("plumb serve with daytime's port in use exited 0")
	}
	if !strings.Contains(stderr, "daytime") || !strings.Contains(stderr, busy.Addr().String()) {
		t.Errorf("error does not name the service and the address %s:\n%s", busy.Addr(), stderr)
	}
}

func TestServeConfigErrors(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(cfg, []byte("data = \"x\"\n[echo]\nenabled = true\nport = 7\n"), 0o600)
	code, stderr := runServeFails(t, "--config", cfg)
	if code != 2 || !strings.Contains(stderr, "bad.toml:4") || !strings.Contains(stderr, `"echo.port"`) {
		t.Errorf("serve with an unknown key: exit %d, stderr %q; want exit 2 naming bad.toml:4 and \"echo.port\"", code, stderr)
	}
}

// TestServePrintConfigIsLoadable: what --print-config prints is a
// config plumb serve accepts, with comments for a person.
func TestServePrintConfigIsLoadable(t *testing.T) {
	out := run(t, 30*time.Second, plumbBin, "serve", "--print-config", "--listen", "0.0.0.0")
	if !strings.Contains(out, "listen = '0.0.0.0'") && !strings.Contains(out, `listen = "0.0.0.0"`) {
		t.Errorf("--print-config does not show the --listen override:\n%s", out)
	}
	if strings.Count(out, "\n# ") < 20 {
		t.Errorf("--print-config has few comments:\n%s", out)
	}
	cfg := filepath.Join(t.TempDir(), "printed.toml")
	os.WriteFile(cfg, []byte(out), 0o600)
	again := run(t, 30*time.Second, plumbBin, "serve", "--print-config", "--config", cfg)
	if again != out {
		t.Errorf("the printed config read back prints differently")
	}
}
