package telnet

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// TestLoginAndProgram: the hello, a login, the program's output with
// CR LF line ends, and the session ending when the program exits.
func TestLoginAndProgram(t *testing.T) {
	_, addr := startServer(t, nil, nil)
	p := dialPeer(t, addr)
	p.hello()
	p.refuseAll()
	p.login("alice", "secret")
	if got := p.until("$ "); !strings.Contains(got, "welcome alice\r\n") {
		t.Fatalf("after login got %q, want the program's welcome with CR LF", got)
	}
	p.sendString("echo hi there\r\n")
	if got := p.until("$ "); !strings.Contains(got, "said hi there\r\n") {
		t.Fatalf("echo: got %q, want said hi there", got)
	}
	p.sendString("term\r\n")
	if got := p.until("$ "); !strings.Contains(got, "TERM=dumb") {
		t.Fatalf("term without TTYPE: got %q, want TERM=dumb", got)
	}
	p.sendString("exit\r\n")
	if got := p.closed(); !strings.Contains(got, "bye") {
		t.Fatalf("exit: got %q before close, want bye", got)
	}
}

// TestEcho (RFC 857): the server offers WILL ECHO; accepted, it echoes
// the name but not the password; refused, it echoes nothing and the
// terminal's own echo is off so the client's local echo is the only one.
func TestEcho(t *testing.T) {
	_, addr := startServer(t, nil, nil)
	t.Run("accepted", func(t *testing.T) {
		p := dialPeer(t, addr)
		p.hello()
		p.send(IAC, DO, byte(Echo)) // answers WILL ECHO: no reply due
		p.until("login: ")
		p.sendString("alice\r\n")
		if got := p.until("Password: "); got != "alice\r\n" {
			t.Fatalf("name echoed as %q, want %q", got, "alice\r\n")
		}
		p.sendString("secret\r\n")
		if got := p.until("welcome"); got != "\r\n" {
			t.Fatalf("password echoed as %q, want only CR LF", got)
		}
		p.sendString("echo x\r\n")
		if got := p.until("said x"); !strings.Contains(got, "echo x") {
			t.Fatalf("terminal did not echo the command: %q", got)
		}
		if len(p.cmds) != 0 {
			t.Fatalf("server answered an acknowledgement: %v", cmdNames(p.cmds))
		}
	})
	t.Run("refused", func(t *testing.T) {
		p := dialPeer(t, addr)
		p.hello()
		p.send(IAC, DONT, byte(Echo))
		p.login("alice", "secret")
		if got := p.until("welcome"); got != "" {
			t.Fatalf("with ECHO refused the login showed %q, want nothing", got)
		}
		p.until("$ ")
		p.sendString("echo y\r\n")
		if got := p.until("said y"); strings.Contains(got, "echo y") {
			t.Fatalf("terminal echoed %q with the client echoing", got)
		}
	})
	t.Run("client cannot echo for us", func(t *testing.T) {
		p := dialPeer(t, addr)
		p.hello()
		p.send(IAC, WILL, byte(Echo))
		p.expectCmd(DONT, Echo)
	})
}

// TestEchoChangesWhileRunning: ECHO turned off and on again after the
// program started sets the terminal's echo to match, so each key is
// shown once: by the client or by the terminal.
func TestEchoChangesWhileRunning(t *testing.T) {
	_, addr := startServer(t, nil, nil)
	p := dialPeer(t, addr)
	p.hello()
	p.send(IAC, DO, byte(Echo))
	p.login("alice", "secret")
	p.until("$ ")
	p.send(IAC, DONT, byte(Echo))
	p.expectCmd(WONT, Echo)
	p.sendString("echo off\r\n")
	if got := p.until("said off"); strings.Contains(got, "echo off") {
		t.Fatalf("with ECHO turned off the terminal still echoed: %q", got)
	}
	p.until("$ ")
	p.send(IAC, DO, byte(Echo))
	p.expectCmd(WILL, Echo)
	p.sendString("echo on\r\n")
	if got := p.until("said on"); !strings.Contains(got, "echo on") {
		t.Fatalf("with ECHO turned on again the terminal did not echo: %q", got)
	}
}

// TestSuppressGoAhead (RFC 858): offered by the server, and accepted
// from the client.
func TestSuppressGoAhead(t *testing.T) {
	_, addr := startServer(t, nil, nil)
	p := dialPeer(t, addr)
	p.hello()
	p.send(IAC, DO, byte(SuppressGoAhead), IAC, WILL, byte(SuppressGoAhead))
	p.expectCmd(DO, SuppressGoAhead)
	p.noCmds("login: ")
}

// TestTerminalType (RFC 1091): WILL TTYPE is answered with SEND, and
// the name reaches the program, lowercased, as TERM.
func TestTerminalType(t *testing.T) {
	_, addr := startServer(t, nil, nil)
	p := dialPeer(t, addr)
	p.hello()
	p.send(IAC, WILL, byte(TerminalType))
	tok := p.expectCmd(SB, TerminalType)
	if string(tok.Sub) != "\x01" {
		t.Fatalf("TTYPE subnegotiation %q, want SEND", tok.Sub)
	}
	p.send(AppendSub(nil, TerminalType, termTypeIs("XTERM-256color"))...)
	p.login("alice", "secret")
	p.until("$ ")
	p.sendString("term\r\n")
	if got := p.until("$ "); !strings.Contains(got, "TERM=xterm-256color") {
		t.Fatalf("term: got %q, want TERM=xterm-256color", got)
	}
}

// TestTerminalTypeBad: a name with control characters is ignored.
func TestTerminalTypeBad(t *testing.T) {
	_, addr := startServer(t, nil, nil)
	p := dialPeer(t, addr)
	p.hello()
	p.send(IAC, WILL, byte(TerminalType))
	p.expectCmd(SB, TerminalType)
	p.send(AppendSub(nil, TerminalType, []byte("\x00vt\x1b[2J"))...)
	p.login("alice", "secret")
	p.until("$ ")
	p.sendString("term\r\n")
	if got := p.until("$ "); !strings.Contains(got, "TERM=dumb") {
		t.Fatalf("term after a bad name: got %q, want TERM=dumb", got)
	}
}

// TestNAWS (RFC 1073): the window size sets the pseudo-terminal's, and
// a change while the program runs reaches it.
func TestNAWS(t *testing.T) {
	_, addr := startServer(t, nil, nil)
	p := dialPeer(t, addr)
	p.hello()
	p.send(IAC, WILL, byte(NAWS))
	p.send(AppendSub(nil, NAWS, nawsParams(100, 30))...)
	p.login("alice", "secret")
	p.until("$ ")
	p.sendString("size\r\n")
	if got := p.until("$ "); !strings.Contains(got, "size=100x30") {
		t.Fatalf("size: got %q, want size=100x30", got)
	}
	// 255 columns: the value's IAC byte is doubled on the wire.
	p.send(AppendSub(nil, NAWS, nawsParams(255, 40))...)
	p.until("resized 255x40")
	p.sendString("size\r\n")
	if got := p.until("$ "); !strings.Contains(got, "size=255x40") {
		t.Fatalf("size after resize: got %q, want size=255x40", got)
	}
}

// TestNewEnviron (RFC 1572): SEND on WILL; allowed variables reach the
// program, others (LD_PRELOAD) do not, nor names unfit for an
// environment (control bytes, '=', NUL) even when the pattern matches.
func TestNewEnviron(t *testing.T) {
	_, addr := startServer(t, nil, nil)
	p := dialPeer(t, addr)
	p.hello()
	p.send(IAC, WILL, byte(NewEnviron))
	tok := p.expectCmd(SB, NewEnviron)
	if string(tok.Sub) != "\x01" {
		t.Fatalf("NEW-ENVIRON subnegotiation %q, want SEND", tok.Sub)
	}
	p.send(AppendSub(nil, NewEnviron, environParams(subIS, []EnvVar{
		{Name: "LANG", Value: "C.UTF-8"},
		{Name: "LD_PRELOAD", Value: "/tmp/evil.so", User: true},
		{Name: "LC_\x01X", Value: "quoted"}, // ESC-quoted name byte
		{Name: "LC_A=B", Value: "x"},
		{Name: "LC_\x00", Value: "x"},
		{Name: "LC_TIME", Value: "C"},
		{Name: "TZ", Value: "bad\nvalue"},
	}))...)
	p.login("alice", "secret")
	p.until("$ ")
	p.sendString("envall\r\n")
	if got := p.until("$ "); !strings.Contains(got, "envall=LANG,LC_TIME\r\n") {
		t.Fatalf("envall: got %q, want LANG and LC_TIME only", got)
	}
	p.sendString("env LANG\r\n")
	if got := p.until("$ "); !strings.Contains(got, `env LANG="C.UTF-8" true`) {
		t.Fatalf("env LANG: got %q", got)
	}
}

// TestLinemodeRefused: LINEMODE (and BINARY, and unknown options) are
// refused either way.
func TestLinemodeRefused(t *testing.T) {
	_, addr := startServer(t, nil, nil)
	p := dialPeer(t, addr)
	p.hello()
	for _, o := range []Option{Linemode, Binary, Option(99)} {
		p.send(IAC, WILL, byte(o))
		p.expectCmd(DONT, o)
		p.send(IAC, DO, byte(o))
		p.expectCmd(WONT, o)
	}
	p.noCmds("login: ")
}

// TestNegotiationLoops (RFC 1143): repeated and contradictory requests
// from the client are each answered at most once, and an option already
// in the state asked for gets no reply, so no two peers can loop.
func TestNegotiationLoops(t *testing.T) {
	_, addr := startServer(t, nil, nil)
	p := dialPeer(t, addr)
	p.hello()
	// Answers to our requests: no reply due.
	p.send(IAC, DO, byte(Echo), IAC, DO, byte(SuppressGoAhead), IAC, WILL, byte(NAWS))
	// Repeats of what is already on: still no reply.
	p.send(IAC, DO, byte(Echo), IAC, DO, byte(Echo), IAC, WILL, byte(NAWS))
	// A refused option asked for again: refused again, once per request.
	p.send(IAC, WILL, byte(Linemode), IAC, WILL, byte(Linemode))
	p.expectCmd(DONT, Linemode)
	p.expectCmd(DONT, Linemode)
	// Something already off, turned off again: no reply.
	p.send(IAC, WONT, byte(Linemode), IAC, DONT, byte(Binary))
	// Turning an enabled option off is acknowledged once; on again, once.
	p.send(IAC, DONT, byte(Echo))
	p.expectCmd(WONT, Echo)
	p.send(IAC, DO, byte(Echo))
	p.expectCmd(WILL, Echo)
	p.noCmds("login: ")
	p.sendString("\r\n") // an empty name prompts again
	p.noCmds("login: ")
}

// TestSubnegotiationLimit: an overlong subnegotiation is dropped and
// the session goes on.
func TestSubnegotiationLimit(t *testing.T) {
	_, addr := startServer(t, func(s *Server) { s.MaxSubnegotiation = 64 }, nil)
	p := dialPeer(t, addr)
	p.hello()
	p.send(IAC, WILL, byte(TerminalType))
	p.expectCmd(SB, TerminalType)
	p.send(AppendSub(nil, TerminalType, append([]byte{subIS}, strings.Repeat("X", 5000)...))...)
	p.login("alice", "secret")
	p.until("$ ")
	p.sendString("term\r\n")
	if got := p.until("$ "); !strings.Contains(got, "TERM=dumb") {
		t.Fatalf("term after an overlong TTYPE: got %q, want TERM=dumb", got)
	}
}

// TestDataEncoding: IAC and CR are encoded both ways (RFC 854).
func TestDataEncoding(t *testing.T) {
	_, addr := startServer(t, nil, nil)
	p := dialPeer(t, addr)
	p.hello()
	p.refuseAll()
	p.login("alice", "secret")
	p.until("$ ")
	p.sendString("bytes\r\n")
	got := p.until("$ ")
	if !strings.Contains(got, "a\xffb\rc\r\n") {
		t.Fatalf("program output decoded as %q, want a 0xff b CR c CR LF", got)
	}
	p.send([]byte("hex \xff\xff\x01\r\x00\r\n")...) // IAC IAC is one 0xff byte; CR NUL is CR
	// The terminal's ICRNL turns the CR into a line end: "hex ÿ\x01" then an empty line.
	if got := p.until("$ "); !strings.Contains(got, "hex ff01\r\n") {
		t.Fatalf("hex: got %q, want hex ff01", got)
	}
}

// TestLoginFailures: a wrong password is refused and asked again;
// MaxLoginAttempts failures close the session.
func TestLoginFailures(t *testing.T) {
	_, addr := startServer(t, func(s *Server) { s.MaxLoginAttempts = 2 }, nil)
	p := dialPeer(t, addr)
	p.hello()
	p.refuseAll()
	p.login("alice", "wrong")
	p.until("Login incorrect\r\n")
	p.login("mallory", "secret")
	if got := p.closed(); !strings.Contains(got, "Too many failed logins") {
		t.Fatalf("after two failures got %q, want Too many failed logins and a close", got)
	}
}

// TestLoginCanonicalName: a name typed in another case logs in as the
// account, and the program sees the account's own name.
func TestLoginCanonicalName(t *testing.T) {
	_, addr := startServer(t, nil, nil)
	p := dialPeer(t, addr)
	p.hello()
	p.refuseAll()
	p.login("ALICE", "secret")
	if got := p.until("$ "); !strings.Contains(got, "welcome alice\r\n") {
		t.Fatalf("after logging in as ALICE got %q, want welcome alice", got)
	}
}

// TestLoginLineLimit: an overlong name is refused and asked again.
func TestLoginLineLimit(t *testing.T) {
	_, addr := startServer(t, func(s *Server) { s.MaxLineLength = 16 }, nil)
	p := dialPeer(t, addr)
	p.hello()
	p.refuseAll()
	p.until("login: ")
	p.sendString(strings.Repeat("a", 100) + "\r\n")
	p.until("Line too long.\r\nlogin: ")
	p.sendString("alice\r\n")
	p.until("Password: ")
	p.sendString("secret\r\n")
	p.until("welcome alice")
}

// TestLoginLineLimitCounts: overlong lines, name or password, count as
// failed attempts (they once re-prompted without end, recursing), and
// lines sent together are each answered.
func TestLoginLineLimitCounts(t *testing.T) {
	_, addr := startServer(t, func(s *Server) { s.MaxLineLength = 16; s.MaxLoginAttempts = 3 }, nil)
	p := dialPeer(t, addr)
	p.hello()
	p.refuseAll()
	p.until("login: ")
	long := strings.Repeat("a", 100) + "\r\n"
	p.sendString(long + long + "alice\r\n" + long + long)
	got := p.closed()
	if n := strings.Count(got, "Line too long."); n != 3 {
		t.Fatalf("got %q: %d refusals, want 3 (then the close)", got, n)
	}
	if !strings.Contains(got, "Password: Line too long.\r\nToo many failed logins") {
		t.Fatalf("got %q, want an overlong password refused as the third failure", got)
	}
}

// TestLoginTimeout: a client that never logs in is closed.
func TestLoginTimeout(t *testing.T) {
	_, addr := startServer(t, func(s *Server) { s.LoginTimeout = 200 * time.Millisecond }, nil)
	p := dialPeer(t, addr)
	if got := p.closed(); !strings.Contains(got, "Login timed out") {
		t.Fatalf("got %q, want Login timed out", got)
	}
}

// TestIdleTimeout: a logged-in client that sends nothing is closed.
func TestIdleTimeout(t *testing.T) {
	_, addr := startServer(t, func(s *Server) { s.IdleTimeout = 300 * time.Millisecond }, nil)
	p := dialPeer(t, addr)
	p.hello()
	p.refuseAll()
	p.login("alice", "secret")
	if got := p.closed(); !strings.Contains(got, "Idle too long") {
		t.Fatalf("got %q, want Idle too long", got)
	}
}

// TestNoTLSOffLoopback: a client from afar without TLS is refused
// before any password is asked for; with TLS it may log in.
func TestNoTLSOffLoopback(t *testing.T) {
	afar := func(ln net.Listener) net.Listener { return testkit.Listener{Listener: ln, Wrap: testkit.FromAfar} }
	_, addr := startServer(t, nil, afar)
	p := dialPeer(t, addr)
	if got := p.closed(); !strings.Contains(got, "use telnets") || strings.Contains(got, "login") {
		t.Fatalf("plain client from afar got %q, want a refusal naming telnets and no prompt", got)
	}

	srvTLS, cliTLS := testkit.TLS(t)
	_, addr = startServer(t, nil, func(ln net.Listener) net.Listener {
		return tlsListener(afar(ln), srvTLS)
	})
	c, err := (&Dialer{TLSConfig: cliTLS}).DialTLS(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p = newPeer(t, c.Conn())
	p.hello()
	p.refuseAll()
	p.login("alice", "secret")
	p.until("welcome alice")
}

// TestAreYouThere: AYT is answered; IP reaches the terminal as ^C.
func TestAreYouThere(t *testing.T) {
	_, addr := startServer(t, nil, nil)
	p := dialPeer(t, addr)
	p.hello()
	p.refuseAll()
	p.until("login: ")
	p.send(IAC, AYT)
	p.until("[yes]")
}

// TestShutdownEndsPrograms: Shutdown ends a running program's session
// with a goodbye.
func TestShutdownEndsPrograms(t *testing.T) {
	s, addr := startServer(t, nil, nil)
	p := dialPeer(t, addr)
	p.hello()
	p.refuseAll()
	p.login("alice", "secret")
	p.until("$ ")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if got := p.closed(); !strings.Contains(got, "Server shutting down") {
		t.Fatalf("got %q, want Server shutting down", got)
	}
}

// TestCommandProgram runs an executable on the terminal.
func TestCommandProgram(t *testing.T) {
	sh := "/bin/sh"
	be := &MemoryBackend{Program: Command{Path: sh, Args: []string{"-c", `stty size; echo "TERM=$TERM USER=$USER"; read x; echo "got $x"`}}}
	be.AddUser("alice", "secret")
	s := &Server{Backend: be, Logger: testLogger(t)}
	addr := testkit.Serve(t, s, nil)
	p := dialPeer(t, addr)
	p.hello()
	p.send(IAC, WILL, byte(NAWS))
	p.send(AppendSub(nil, NAWS, nawsParams(91, 27))...)
	p.send(IAC, WILL, byte(TerminalType))
	p.expectCmd(SB, TerminalType)
	p.send(AppendSub(nil, TerminalType, termTypeIs("VT100"))...)
	p.login("alice", "secret")
	p.until("27 91\r\n")
	p.until("TERM=vt100 USER=alice\r\n")
	p.sendString("hello\r\n")
	p.until("got hello\r\n")
	p.closed()
}

// TestConformance runs the shared lifecycle checks; the busy session is
// a login the backend is still checking.
func TestConformance(t *testing.T) {
	testkit.Conformance(t, testkit.Target{
		New: func(t *testing.T, gate *testkit.Gate) testkit.StreamServer {
			be := &MemoryBackend{Program: shellProgram()}
			be.AddUser("alice", "secret")
			return &Server{Backend: gatedBackend{be, gate}, Logger: testLogger(t)}
		},
		Greet: func(t *testing.T, c *testkit.Transcript) {
			readTo(t, c, "login: ")
		},
		Busy: func(t *testing.T, c *testkit.Transcript) {
			c.Write("alice\r\n")
			readTo(t, c, "Password: ")
			c.Write("secret\r\n")
		},
		Finish: func(t *testing.T, c *testkit.Transcript) {
			got := readTo(t, c, "Server shutting down.")
			if strings.Contains(got, "incorrect") {
				t.Fatalf("busy login: got %q, want it to succeed", got)
			}
		},
	})
}

type gatedBackend struct {
	Backend
	gate *testkit.Gate
}

func (b gatedBackend) Login(ctx context.Context, c ConnInfo, user, pass string) (Program, error) {
	if err := b.gate.Wait(ctx); err != nil {
		return nil, err
	}
	return b.Backend.Login(ctx, c, user, pass)
}

// readTo reads a transcript's raw bytes until text.
func readTo(t *testing.T, c *testkit.Transcript, text string) string {
	t.Helper()
	var got []byte
	for !strings.Contains(string(got), text) {
		b, err := c.R.ReadByte()
		if err != nil {
			t.Fatalf("reading for %q: %v after %q", text, err, got)
		}
		got = append(got, b)
	}
	return string(got)
}

// TestTypeahead: a client that sends its name, password and first
// commands at once (a script) loses none of them.
func TestTypeahead(t *testing.T) {
	_, addr := startServer(t, nil, nil)
	p := dialPeer(t, addr)
	p.hello()
	p.refuseAll()
	p.sendString("alice\r\nwrong\r\nalice\r\nsecret\r\necho one\r\necho two\r\n")
	p.until("Login incorrect")
	p.until("said one\r\n")
	p.until("said two\r\n")
}

// TestCommandMissing: a command that cannot start is logged and the
// client told so, not silently cut off.
func TestCommandMissing(t *testing.T) {
	be := &MemoryBackend{Program: Command{Path: "/nonexistent/program"}}
	be.AddUser("alice", "secret")
	addr := testkit.Serve(t, &Server{Backend: be, Logger: testLogger(t), NegotiationWait: -1}, nil)
	p := dialPeer(t, addr)
	p.hello()
	p.refuseAll()
	p.login("alice", "secret")
	if got := p.closed(); !strings.Contains(got, "could not run") {
		t.Fatalf("got %q, want could not run", got)
	}
}

// TestInterrupt: IAC IP and IAC BRK reach the program's terminal as ^C,
// which the line discipline turns into SIGINT for the command.
func TestInterrupt(t *testing.T) {
	be := &MemoryBackend{Program: Command{Path: "/bin/sh", Args: []string{"-c",
		`trap 'echo interrupted; exit 0' INT; echo ready; while :; do read x; done`}}}
	be.AddUser("alice", "secret")
	addr := testkit.Serve(t, &Server{Backend: be, Logger: testLogger(t), NegotiationWait: -1}, nil)
	for _, verb := range []byte{IP, BRK} {
		c, err := Dial(context.Background(), addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Conn().SetDeadline(time.Now().Add(20 * time.Second))
		r := &clientReader{t: t, c: c}
		r.until("login: ")
		c.Write([]byte("alice\r\nsecret\r\n"))
		r.until("ready")
		if verb == IP {
			c.Interrupt()
		} else {
			c.Break()
		}
		r.until("interrupted")
		c.Close()
	}
}

// TestClientStopsReading: a client that stops reading while its program
// writes has its session ended once a write times out, and the program
// is stopped, rather than both waiting on a full terminal until the
// idle timeout.
func TestClientStopsReading(t *testing.T) {
	stopped := make(chan error, 1)
	be := &MemoryBackend{Program: ProgramFunc(func(ctx context.Context, t *Terminal) error {
		line := []byte(strings.Repeat("flood ", 100) + "\n")
		for ctx.Err() == nil {
			if _, err := t.TTY.Write(line); err != nil {
				break
			}
		}
		stopped <- ctx.Err()
		return nil
	})}
	be.AddUser("alice", "secret")
	s := &Server{Backend: be, Logger: testLogger(t), NegotiationWait: 50 * time.Millisecond,
		WriteTimeout: 200 * time.Millisecond}
	addr := testkit.Serve(t, s, testkit.Listen(t))
	p := dialPeer(t, addr)
	p.hello()
	p.refuseAll()
	p.login("alice", "secret")
	p.until("flood") // the program runs; from here the client reads nothing
	select {
	case err := <-stopped:
		if err == nil {
			t.Fatalf("the program stopped without its context ending")
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("the program still runs with the client not reading")
	}
}
