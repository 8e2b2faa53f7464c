package daemon

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/telnet"
)

// telnetDaemon starts a daemon with only telnet on a free port, the
// operator alice and the account bob, and returns the telnet address.
func telnetDaemon(t *testing.T, edit func(*TelnetConfig)) (*Daemon, string) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Data = t.TempDir()
	cfg.Admin.Enabled = false
	cfg.Accounts.FirstUser = ""
	for _, l := range cfg.listeners() {
		l.Enabled = false
	}
	tc := telnetSection.of(cfg)
	tc.Enabled, tc.Addr, tc.Operators = true, "127.0.0.1:0", []string{"alice"}
	if edit != nil {
		edit(tc)
	}
	db, err := accounts.OpenWith(filepath.Join(cfg.Data, accounts.FileName), accounts.Options{Cost: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "bob"} {
		if err := db.Add(u, u+"-password"); err != nil {
			t.Fatal(err)
		}
	}
	d := New(cfg, slog.New(slog.DiscardHandler), io.Discard)
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	for _, b := range d.Bound() {
		if b.Name == "telnet" {
			return d, b.Addr
		}
	}
	t.Fatalf("telnet not bound: %v", d.Bound())
	return nil, ""
}

// telnetSession is a logged-in telnet.Client with a reader.
type telnetSession struct {
	t   *testing.T
	c   *telnet.Client
	got bytes.Buffer
}

func dialTelnet(t *testing.T, addr string) *telnetSession {
	t.Helper()
	c, err := telnet.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.Conn().SetDeadline(time.Now().Add(20 * time.Second))
	c.TermType = "vt220"
	c.SetWindowSize(132, 43)
	if err := c.Negotiate(); err != nil {
		t.Fatal(err)
	}
	return &telnetSession{t: t, c: c}
}

func (s *telnetSession) until(text string) string {
	s.t.Helper()
	buf := make([]byte, 4096)
	for !strings.Contains(s.got.String(), text) {
		n, err := s.c.Read(buf)
		s.got.Write(buf[:n])
		if err != nil {
			s.t.Fatalf("waiting for %q: %v; got %q", text, err, s.got.String())
		}
	}
	all := s.got.String()
	i := strings.Index(all, text) + len(text)
	s.got.Reset()
	s.got.WriteString(all[i:])
	return all[:i]
}

func (s *telnetSession) login(user, pass string) {
	s.t.Helper()
	s.until("login: ")
	s.c.Write([]byte(user + "\r\n"))
	s.until("Password: ")
	s.c.Write([]byte(pass + "\r\n"))
}

// cmd runs a console command and returns its output.
func (s *telnetSession) cmd(line string) string {
	s.t.Helper()
	s.c.Write([]byte(line + "\r\n"))
	out := s.until("plumb> ")
	return strings.TrimSuffix(out, "plumb> ")
}

// TestTelnetConsole: an operator logs in over telnet and uses the
// console: status, sessions with ids, closing another session, the
// accounts, recent log lines, the terminal's type and size.
func TestTelnetConsole(t *testing.T) {
	d, addr := telnetDaemon(t, nil)
	other := dialTelnet(t, addr)
	other.until("login: ")

	s := dialTelnet(t, addr)
	s.login("alice", "alice-password")
	s.until("plumb> ")
	if out := s.cmd("status"); !regexp.MustCompile(`telnet\s+tcp\s+` + regexp.QuoteMeta(addr) + `\s+2`).MatchString(out) {
		t.Errorf("status = %q, want the telnet row with 2 connections", out)
	}
	out := s.cmd("sessions")
	var otherID string
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 3 && f[1] == "telnet" && f[2] == other.c.Conn().LocalAddr().String() {
			otherID = f[0]
		}
	}
	if otherID == "" || !strings.Contains(out, s.c.Conn().LocalAddr().String()+" (you)") {
		t.Fatalf("sessions = %q, want both connections, ours marked", out)
	}
	if out := s.cmd("kill " + otherID); !strings.Contains(out, "closed session "+otherID) {
		t.Errorf("kill = %q", out)
	}
	buf := make([]byte, 100)
	for {
		if _, err := other.c.Read(buf); err != nil {
			break // closed by the operator
		}
	}
	if n := len(d.Sessions()); n != 1 {
		t.Errorf("after kill %d sessions, want 1", n)
	}
	if out := s.cmd("kill 999999"); !strings.Contains(out, "no open session") {
		t.Errorf("kill of a missing id = %q", out)
	}
	if out := s.cmd("users"); !regexp.MustCompile(`alice\s+\S+\s+yes`).MatchString(out) || !strings.Contains(out, "bob") {
		t.Errorf("users = %q, want alice as operator and bob", out)
	}
	if out := s.cmd("log 50"); !strings.Contains(out, "telnet: login") || !strings.Contains(out, "session closed by an operator") {
		t.Errorf("log = %q, want the login and the kill", out)
	}
	if out := s.cmd("term"); !strings.Contains(out, "TERM=vt220 size=132x43") {
		t.Errorf("term = %q, want TERM=vt220 size=132x43", out)
	}
	if out := s.cmd("frobnicate"); !strings.Contains(out, "unknown command") {
		t.Errorf("unknown command = %q", out)
	}
	if out := s.cmd("help"); !strings.Contains(out, "sessions") || !strings.Contains(out, "kill ID") {
		t.Errorf("help = %q", out)
	}
	s.c.Write([]byte("quit\r\n"))
	s.until("bye")
}

// TestTelnetNotOperator: an account that is not an operator is refused
// without a command, and runs the command when one is set.
func TestTelnetNotOperator(t *testing.T) {
	_, addr := telnetDaemon(t, nil)
	s := dialTelnet(t, addr)
	s.login("bob", "bob-password")
	s.until("no program here")
	s.login("bob", "wrong")
	s.until("Login incorrect")

	_, addr = telnetDaemon(t, func(c *TelnetConfig) {
		c.Command = []string{"/bin/sh", "-c", `echo "user=$PLUMB_USER term=$TERM"`}
	})
	s = dialTelnet(t, addr)
	s.login("bob", "bob-password")
	s.until("user=bob term=vt220")
}

func TestTelnetConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		edit func(*TelnetConfig)
		want string
	}{
		{func(c *TelnetConfig) { c.Command = []string{"bash"} }, "telnet.command"},
		{func(c *TelnetConfig) { c.Operators = []string{"a b"} }, "telnet.operators"},
		{func(c *TelnetConfig) { c.Telnets.Enabled, c.Telnets.Addr = true, "nowhere" }, "telnet.telnets.addr"},
	} {
		cfg := DefaultConfig()
		tc.edit(telnetSection.of(cfg))
		if err := cfg.validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("validate = %v, want an error naming %s", err, tc.want)
		}
	}
}

func TestLogRing(t *testing.T) {
	r := newLogRing(3)
	log := slog.New(r.tee(slog.DiscardHandler)).With("service", "x")
	for _, m := range []string{"a", "b", "c", "d"} {
		log.Info(m, "n", 1)
	}
	log.Debug("hidden")
	got := r.last(10)
	if len(got) != 3 || !strings.HasSuffix(got[0], "b service=x n=1") || !strings.HasSuffix(got[2], "d service=x n=1") {
		t.Fatalf("last = %q, want b, c, d with their attributes", got)
	}
}
