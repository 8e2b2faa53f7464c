package ftp

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSessionCommands(t *testing.T) {
	ts := startServer(t, nil)
	c := dialT(t, ts.addr)
	steps := []struct {
		line string
		code int
		has  string // a substring the reply must hold
	}{
		{"SYST", 215, "UNIX"},
		{"NOOP", 200, ""},
		{"noop", 200, ""},
		{"FEAT", 211, "\n MLST type*;size*;modify*;perm*;unique*;\n"},
		{"FEAT", 211, "\n EPSV\n"},
		{"FEAT", 211, "\n UTF8\n"},
		{"FEAT", 211, "\n REST STREAM\n"},
		{"HELP", 214, "RETR"},
		{"HELP RETR", 214, "RETR <file>"},
		{"HELP BOGUS", 502, ""},
		{"BOGUS", 500, "Unknown"},
		{"", 500, ""},
		{"PWD", 530, "log in"},
		{"RETR x", 530, ""},
		{"PASS secret", 503, "USER first"},
		{"AUTH TLS", 502, ""},
		{"AUTH KERBEROS", 504, ""},
		{"PBSZ 0", 503, ""},
		{"PROT P", 503, ""},
		{"CCC", 534, ""},
		{"HOST example.org", 220, ""},
		{"OPTS UTF8 ON", 200, ""},
		{"OPTS UTF8 OFF", 504, ""},
		{"OPTS BOGUS", 501, ""},
		{"USER", 501, ""},
		{"USER alice", 331, ""},
		{"HOST example.org", 503, ""},
		{"PASS wrong", 530, "incorrect"},
		{"USER alice", 331, ""},
		{"PASS secret", 230, ""},
		{"PASS secret", 230, "Already"},
		{"ACCT x", 202, ""},
		{"PWD", 257, `"/"`},
		{"PWD x", 501, ""},
		{"TYPE A", 200, "ASCII"},
		{"TYPE A N", 200, "ASCII"},
		{"TYPE I", 200, "Binary"},
		{"TYPE L 8", 200, "Binary"},
		{"TYPE E", 504, ""},
		{"TYPE A T", 504, ""},
		{"TYPE Z", 501, ""},
		{"MODE S", 200, ""},
		{"MODE B", 504, ""},
		{"STRU F", 200, ""},
		{"STRU R", 504, ""},
		{"REST -1", 501, ""},
		{"REST abc", 501, ""},
		{"REST 10", 350, "10"},
		{"OPTS MLST type;size;", 200, "type;size;"},
		{"FEAT", 211, " MLST type*;size*;modify;perm;unique;"},
		{"STAT", 211, "Logged in"},
		{"ABOR", 225, ""},
		{"SITE HELP", 214, "CHMOD"},
		{"SITE BOGUS", 500, ""},
		{"SITE CHMOD 999 x", 501, ""},
		{"QUIT", 221, ""},
	}
	for _, st := range steps {
		code, msg := c.Cmd(st.line)
		if code != st.code || !strings.Contains(msg, st.has) {
			t.Fatalf("%s = %d %q, want %d with %q", st.line, code, msg, st.code, st.has)
		}
	}
}

func TestFileCommands(t *testing.T) {
	ts := startServer(t, nil)
	ts.home.WriteFile("dir/a.txt", []byte("hello"))
	ts.home.WriteFile("naïve file.txt", []byte("utf8"))
	c := dialT(t, ts.addr)
	c.login("alice", "secret")
	steps := []struct {
		line string
		code int
		has  string
	}{
		{"CWD dir", 250, ""},
		{"PWD", 257, `"/dir"`},
		{"CDUP", 250, ""},
		{"PWD", 257, `"/"`},
		{"CWD ../../..", 250, ""},
		{"PWD", 257, `"/"`},
		{"CWD nowhere", 550, "No such"},
		{"CWD dir/a.txt", 550, "Not a directory"},
		{"XCWD /dir", 250, ""},
		{"XPWD", 257, `"/dir"`},
		{"CWD", 250, ""},
		{"SIZE dir/a.txt", 213, "5"},
		{"SIZE /naïve file.txt", 213, "4"},
		{"SIZE dir", 550, ""},
		{"SIZE none", 550, "No such"},
		{"MDTM dir/a.txt", 213, time.Now().UTC().Format("2006")},
		{"MLST dir/a.txt", 250, "type=file;size=5;"},
		{"MLST dir/a.txt", 250, " /dir/a.txt\n"},
		{"MLST", 250, "type=dir;"},
		{`MKD new "quoted" dir`, 257, `"/new ""quoted"" dir" created`},
		{`MKD new "quoted" dir`, 550, "exists"},
		{`RMD new "quoted" dir`, 250, ""},
		{"RMD new", 550, ""},
		{"XMKD sub", 257, ""},
		{"RMD /", 550, ""},
		{"RMD dir", 550, ""},
		{"DELE dir", 550, "RMD"},
		{"DELE none", 550, "No such"},
		{"RNTO x", 503, "RNFR"},
		{"RNFR none", 550, ""},
		{"RNFR dir/a.txt", 350, ""},
		{"RNTO sub/b.txt", 250, ""},
		{"SIZE sub/b.txt", 213, "5"},
		{"RNFR sub/b.txt", 350, ""},
		{"NOOP", 200, ""},
		{"RNTO c.txt", 503, "RNFR"},
		{"SITE CHMOD 600 sub/b.txt", 200, ""},
		{"STAT sub", 213, "-rw------- 1 ftp ftp            5 "},
		{"STAT sub", 213, " b.txt\n"},
		{"STAT -la sub", 213, " b.txt\n"},
		{"STAT none", 550, ""},
		{"DELE sub/b.txt", 250, ""},
		{"XRMD sub", 250, ""},
		{"DELE naïve file.txt", 250, ""},
	}
	for _, st := range steps {
		code, msg := c.Cmd(st.line)
		if code != st.code || !strings.Contains(msg, st.has) {
			t.Fatalf("%s = %d %q, want %d with %q", st.line, code, msg, st.code, st.has)
		}
	}
}

func TestAnonymousReadOnly(t *testing.T) {
	ts := startServer(t, nil)
	c := dialT(t, ts.addr)
	c.login("anonymous", "guest@example.org")
	if got := c.retr("RETR readme.txt"); got != "welcome\n" {
		t.Fatalf("RETR readme.txt = %q, want %q", got, "welcome\n")
	}
	c.Do("MKD x", 550)
	c.Do("DELE readme.txt", 550)
	d := c.epsv()
	if code, msg := c.Cmd("STOR x"); code != 550 {
		t.Fatalf("anonymous STOR = %d %q, want 550", code, msg)
	}
	d.Close()
	if got := c.retr("MLSD"); !strings.Contains(got, "perm=r;") {
		t.Fatalf("MLSD of a read-only tree = %q, want perm=r", got)
	}
}

func TestLineTooLong(t *testing.T) {
	ts := startServer(t, nil)
	c := dialT(t, ts.addr)
	c.Do("NOOP "+strings.Repeat("x", 2000), 500)
	c.Do("NOOP", 200)
	c.Do("NOOP "+strings.Repeat("y", 1019), 200) // exactly the 1024 limit
	c.Do("NOOP "+strings.Repeat("z", 1020), 500)
	c.Do("NOOP", 200)
}

func TestTelnetInterruptBeforeABOR(t *testing.T) {
	ts := startServer(t, nil)
	c := dialT(t, ts.addr)
	c.login("alice", "secret")
	c.Send("\xff\xf4\xff\xf2ABOR")
	if code, msg := c.Reply(); code != 225 {
		t.Fatalf("IAC IP IAC DM ABOR = %d %q, want 225", code, msg)
	}
}

// timedBackend records when each Login call came.
type timedBackend struct {
	*MemoryBackend
	mu    sync.Mutex
	calls []time.Time
}

func (b *timedBackend) Login(ctx context.Context, info ConnInfo, user, password string) (FS, error) {
	b.mu.Lock()
	b.calls = append(b.calls, time.Now())
	b.mu.Unlock()
	return b.MemoryBackend.Login(ctx, info, user, password)
}

// The server closes a session after MaxLoginFailures and slows no one
// down itself: slowing repeated failures is the Backend's (the daemon
// uses the account database's throttle, the same for every protocol).
func TestLoginFailuresCloseButAreNotSlowedHere(t *testing.T) {
	var be *timedBackend
	ts := startServer(t, func(s *Server) {
		be = &timedBackend{MemoryBackend: s.Backend.(*MemoryBackend)}
		s.Backend = be
	})
	for range 3 {
		c := dialT(t, ts.addr)
		for i := 0; i < 3; i++ {
			c.Do("USER alice", 331)
			c.Do("PASS wrong", 530)
		}
		if code, _ := c.Reply(); code != 421 {
			t.Fatalf("after 3 failed logins reply = %d, want 421 and close", code)
		}
	}
	c := dialT(t, ts.addr)
	c.Do("USER alice", 331)
	start := time.Now()
	c.Do("PASS secret", 230)
	be.mu.Lock()
	last := be.calls[len(be.calls)-1]
	be.mu.Unlock()
	if d := last.Sub(start); d > 150*time.Millisecond {
		t.Fatalf("PASS after 9 failures reached the Backend after %v, want at once (no throttle of the server's own)", d)
	}
}

func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, func(s *Server) { s.IdleTimeout = 200 * time.Millisecond })
	c := dialT(t, ts.addr)
	if code, _ := c.Reply(); code != 421 {
		t.Fatalf("idle session got %d, want 421", code)
	}
}

func TestShutdownClosesIdleSession(t *testing.T) {
	ts := startServer(t, nil)
	c := dialT(t, ts.addr)
	c.login("alice", "secret")
	done := make(chan error, 1)
	go func() { done <- ts.srv.Shutdown(t.Context()) }()
	if code, _ := c.Reply(); code != 421 {
		t.Fatalf("idle session at shutdown got %d, want 421", code)
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
}

// A command line must arrive whole within LineTimeout: a client that
// trickles it (slowloris) is cut off, though each byte comes well within
// IdleTimeout.
func TestLineTimeout(t *testing.T) {
	ts := startServer(t, func(s *Server) { s.LineTimeout = 300 * time.Millisecond })
	c := dialT(t, ts.addr)
	// A byte every 50ms, never a line end, until the server answers.
	stop, stopped := make(chan struct{}), make(chan struct{})
	start := time.Now()
	go func() {
		defer close(stopped)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			if _, err := c.Conn.Write([]byte{"NOOP"[min(i, 3)]}); err != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	code, msg := c.Reply()
	close(stop)
	<-stopped
	if code != 421 {
		t.Fatalf("a command line trickled a byte every 50ms with LineTimeout 300ms = %d %q, want 421", code, msg)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("a trickled command line was cut off after %v, want at least LineTimeout (300ms)", d)
	}
}

// A negative IdleTimeout is none: an idle session stays.
func TestNegativeIdleTimeoutIsNone(t *testing.T) {
	ts := startServer(t, func(s *Server) { s.IdleTimeout = -1 })
	c := dialT(t, ts.addr)
	// Nothing must happen for a while: a session closed at once would be.
	if c.Closed(100 * time.Millisecond) {
		t.Fatal("with IdleTimeout -1 the server closed an idle session, want it kept")
	}
	c.Do("NOOP", 200)
}
