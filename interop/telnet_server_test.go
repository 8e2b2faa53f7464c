package interop

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// telnetConfig turns on telnet (off by default) on a free port, with
// alice as the operator.
const telnetConfig = `
[telnet]
enabled = true
addr = "127.0.0.1:0"
operators = ["alice"]
`

const telnetPass = "alice-telnet-pw"

func startTelnetServe(t *testing.T) (*Serve, string) {
	t.Helper()
	s := startServe(t, telnetConfig)
	if _, errs, code := plumbUser(t, s.Data, telnetPass+"\n", "add", "alice"); code != 0 {
		t.Fatalf("plumb user add alice: exit %d: %s", code, errs)
	}
	return s, s.Addr(t, "telnet")
}

// TestTelnetlibConsole: Python's telnetlib (which refuses every option,
// so the server does not echo and the terminal's echo is off) logs in to
// plumb serve and runs console commands.
func TestTelnetlibConsole(t *testing.T) {
	py := needPyModule(t, "telnetlib")
	s, addr := startTelnetServe(t)
	host, port, _ := strings.Cut(addr, ":")
	out := run(t, 30*time.Second, py, "-W", "ignore", "testdata/telnet_telnetlib.py", host, port, "alice", telnetPass,
		"status", "sessions", "users", "log 50", "kill 999999")
	var got struct {
		Banner, Welcome, End string
		Commands             map[string]string
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("telnetlib output %q: %v", out, err)
	}
	t.Logf("telnetlib saw %+v", got)
	if !strings.Contains(got.Welcome, "operator console: alice logged in") {
		t.Errorf("welcome = %q, want the console's greeting", got.Welcome)
	}
	if strings.Contains(got.Welcome, telnetPass) {
		t.Errorf("the password was echoed: %q", got.Welcome)
	}
	checks := map[string]*regexp.Regexp{
		"status":      regexp.MustCompile(`telnet\s+tcp\s+` + regexp.QuoteMeta(addr) + `\s+1\r\n`),
		"sessions":    regexp.MustCompile(`\d+\s+telnet\s+127\.0\.0\.1:\d+ \(you\)`),
		"users":       regexp.MustCompile(`alice\s+\d{4}-\d\d-\d\d\s+yes`),
		"log 50":      regexp.MustCompile(`INFO\s+telnet: login .*user=alice`),
		"kill 999999": regexp.MustCompile(`no open session 999999`),
	}
	for cmd, re := range checks {
		if o := got.Commands[cmd]; !re.MatchString(o) {
			t.Errorf("console %q showed %q, want %v", cmd, o, re)
		} else if strings.Contains(o, cmd+"\r\n") {
			t.Errorf("console %q: the terminal echoed the command to a client that echoes itself: %q", cmd, o)
		}
	}
	if !strings.Contains(got.End, "bye") {
		t.Errorf("after quit: %q, want bye", got.End)
	}
	if st := s.Stderr(); !strings.Contains(st, "telnet: login") {
		t.Errorf("daemon log lacks the login:\n%s", st)
	}
}

// tmuxSession runs a command in a detached tmux of the test's own
// (its own socket), on a 100x30 window.
type tmuxSession struct {
	t    *testing.T
	tmux string
	sock string
}

func newTmux(t *testing.T, args ...string) *tmuxSession {
	t.Helper()
	tm := &tmuxSession{t: t, tmux: need(t, "tmux"), sock: filepath.Join(t.TempDir(), "tmux.sock")}
	// remain-on-exit keeps the pane, and what the command printed last,
	// after the command ends.
	tm.run(append(append([]string{"new-session", "-d", "-x", "100", "-y", "30"}, args...), ";", "set-option", "-g", "remain-on-exit", "on")...)
	t.Cleanup(func() { exec.Command(tm.tmux, "-S", tm.sock, "kill-server").Run() })
	return tm
}

func (tm *tmuxSession) run(args ...string) string {
	tm.t.Helper()
	return run(tm.t, 10*time.Second, tm.tmux, append([]string{"-S", tm.sock, "-f", "/dev/null"}, args...)...)
}

// screen returns what the pane shows now, or "" once it is gone.
func (tm *tmuxSession) screen() string {
	out, _ := exec.Command(tm.tmux, "-S", tm.sock, "capture-pane", "-p", "-J", "-S", "-100").Output()
	return string(out)
}

// waitFor waits until the pane shows text count times.
func (tm *tmuxSession) waitFor(text string, count int) {
	tm.t.Helper()
	if !tm.shows(text, count, 10*time.Second) {
		tm.t.Fatalf("tmux pane never showed %q (%d times); it shows:\n%s", text, count, tm.screen())
	}
}

// shows reports whether the pane shows text count times within d.
func (tm *tmuxSession) shows(text string, count int, d time.Duration) bool {
	return testkit.Within(d, func() bool { return strings.Count(tm.screen(), text) >= count })
}

func (tm *tmuxSession) keys(keys ...string) {
	tm.t.Helper()
	tm.run(append([]string{"send-keys"}, keys...)...)
}

// TestDebianTelnetConsole drives the Debian telnet client under tmux:
// it logs in to the console (the server echoes, the password does not
// show), the terminal type and the 100x30 window reach the console, a
// resize reaches it too, and quit ends the connection.
func TestDebianTelnetConsole(t *testing.T) {
	telnetBin := need(t, "telnet")
	_, addr := startTelnetServe(t)
	host, port, _ := strings.Cut(addr, ":")
	tm := newTmux(t, telnetBin, host, port)
	tm.waitFor("login: ", 1)
	tm.keys("alice", "Enter")
	tm.waitFor("Password: ", 1)
	tm.keys(telnetPass, "Enter")
	tm.waitFor("plumb> ", 1)
	if sc := tm.screen(); strings.Contains(sc, telnetPass) || !strings.Contains(sc, "login: alice") {
		t.Fatalf("login as seen on the terminal: want the name echoed and not the password:\n%s", sc)
	}
	tm.keys("term", "Enter")
	tm.waitFor("plumb> ", 2)
	sc := tm.screen()
	if m := regexp.MustCompile(`TERM=(\S+) size=100x30`).FindStringSubmatch(sc); m == nil || m[1] == "dumb" {
		t.Fatalf("term: want the terminal type from TTYPE and size=100x30 from NAWS; screen:\n%s", sc)
	}
	tm.run("resize-window", "-x", "120", "-y", "35")
	// telnet sends NAWS when its SIGWINCH is handled, which may come
	// after it has passed on the keys typed next: ask again until then.
	resized := false
	for i := 0; i < 10 && !resized; i++ {
		tm.keys("term", "Enter")
		resized = tm.shows("size=120x35", 1, time.Second)
	}
	if !resized {
		t.Fatalf("the resized window never reached the console:\n%s", tm.screen())
	}
	tm.keys("status", "Enter")
	tm.waitFor("SERVICE", 1)
	tm.keys("quit", "Enter")
	tm.waitFor("Connection closed by foreign host.", 1)
}
