package pop3

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
	"github.com/plumbnet/plumb/internal/testkit"
)

func TestConformance(t *testing.T) {
	testkit.Conformance(t, testkit.Target{
		New: func(t *testing.T, gate *testkit.Gate) testkit.StreamServer {
			return &Server{Backend: gatedBackend{newTestBackend(), gate}, Logger: quietLog}
		},
		Greet: func(t *testing.T, c *testkit.Transcript) { c.Expect("+OK POP3 server ready") },
		Busy: func(t *testing.T, c *testkit.Transcript) {
			login(c)
			c.Send("RETR 1")
		},
		Finish: func(t *testing.T, c *testkit.Transcript) {
			c.Expect("+OK 28 octets")
			if got := strings.Join(multi(c), "|"); got != "Subject: one||first body" {
				t.Errorf("RETR 1 = %q, want message one", got)
			}
		},
	})
}

func TestTranscriptTransaction(t *testing.T) {
	ts := startServer(t, nil, nil)
	w := dialPOP(t, ts.addr)
	do(w, "STAT", "-ERR Command not valid in this state")
	login(w)
	for _, tc := range []struct{ cmd, want string }{
		{"STAT", "+OK 2 78"},
		{"LIST 2", "+OK 2 50"},
		{"LIST 3", "-ERR No such message"},
		{"LIST x", "-ERR No such message"},
		{"UIDL 1", "+OK 1 m1"},
	} {
		if got := do(w, tc.cmd, ""); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.cmd, got, tc.want)
		}
	}
	for _, tc := range []struct{ cmd, status, want string }{
		{"LIST", "+OK", "1 28|2 50"},
		{"UIDL", "+OK", "1 m1|2 m2"},
		// A stored bare LF goes out as CRLF; lines starting with "." are stuffed.
		{"RETR 2", "+OK 50 octets", "Subject: two||..dotted line|line 2|line 3|..."},
		{"TOP 2 1", "+OK", "Subject: two||..dotted line"},
		{"TOP 1 0", "+OK", "Subject: one|"},
	} {
		do(w, tc.cmd, tc.status)
		if got := strings.Join(multi(w), "|"); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.cmd, got, tc.want)
		}
	}
	do(w, "TOP 1", "-ERR Syntax")
	do(w, "DELE 1", "+OK Message 1 deleted")
	do(w, "DELE 1", "-ERR Message 1 already deleted")
	do(w, "RETR 1", "-ERR Message 1 already deleted")
	if got := do(w, "STAT", "+OK"); got != "+OK 1 50" {
		t.Errorf("STAT after DELE = %q, want +OK 1 50", got)
	}
	do(w, "LIST", "+OK")
	if got := strings.Join(multi(w), "|"); got != "2 50" {
		t.Errorf("LIST after DELE = %q, want %q", got, "2 50")
	}
	do(w, "RSET", "+OK Maildrop has 2 messages (78 octets)")
	do(w, "DELE 2", "+OK")
	do(w, "NOOP", "+OK")
	do(w, "USER alice", "-ERR Command not valid in this state")
	do(w, "QUIT", "+OK Bye (1 messages left)")
	if got := ts.b.Bodies("alice"); len(got) != 1 || !strings.Contains(got[0], "one") {
		t.Errorf("after QUIT the maildrop holds %q, want only message one", got)
	}
}

func TestKilledSessionDeletesNothing(t *testing.T) {
	ts := startServer(t, nil, nil)
	w := dialPOP(t, ts.addr)
	login(w)
	do(w, "DELE 1", "+OK")
	do(w, "DELE 2", "+OK")
	w.Conn.Close()
	// The lock is released once the server notices; then log in again.
	var c *Client
	testkit.Eventually(t, 5*time.Second, "the maildrop unlocked after a dropped session", func() bool {
		c = dialClient(t, ts.addr)
		if err := c.Login("alice", "secret"); err != nil {
			c.Close()
			return false
		}
		return true
	})
	defer c.Quit()
	if n, _, err := c.Stat(); err != nil || n != 2 {
		t.Errorf("Stat() after a session died with 2 DELEs = %d, %v; want 2", n, err)
	}
}

func TestAuthorization(t *testing.T) {
	ts := startServer(t, nil, func(s *Server) { s.MaxAuthFailures = 2 })
	w := dialPOP(t, ts.addr)
	do(w, "PASS secret", "-ERR Send USER first")
	do(w, "USER alice", "+OK")
	do(w, "PASS wrong", "-ERR [AUTH] Authentication failed")
	do(w, "USER alice", "+OK")
	do(w, "PASS wrong", "-ERR [AUTH] Authentication failed")
	w.Expect("-ERR [AUTH] Too many authentication failures")
	if !w.Closed(2 * time.Second) {
		t.Errorf("connection still open after too many failures")
	}

	// Passwords may contain spaces.
	w = dialPOP(t, ts.addr)
	do(w, "USER bob", "+OK")
	do(w, "PASS pw with spaces", "+OK Logged in, 0 messages")
	do(w, "QUIT", "+OK")

	// The maildrop is locked while a session holds it.
	a := dialPOP(t, ts.addr)
	login(a)
	b := dialPOP(t, ts.addr)
	do(b, "USER alice", "+OK")
	do(b, "PASS secret", "-ERR [IN-USE] Mailbox is locked by another session")
	do(a, "QUIT", "+OK")
}

// refusingBackend refuses every login with err.
type refusingBackend struct{ err error }

func (b refusingBackend) Login(context.Context, ConnInfo, string, string) (Maildrop, error) {
	return nil, b.err
}

func TestBackendChoosesReply(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&Error{Code: "SYS/PERM", Msg: "Account disabled\r\nDELE 1"}, "-ERR [SYS/PERM] Account disabled  DELE 1"},
		{errors.Join(errors.New("db down"), ErrLocked), "-ERR [IN-USE] Mailbox is locked by another session"},
		{errors.New("secret internal detail"), "-ERR [SYS/TEMP] Temporary failure, try again later"},
	} {
		s := &Server{Backend: refusingBackend{tc.err}, Logger: quietLog}
		w := dialPOP(t, testkit.Serve(t, s, nil))
		do(w, "USER alice", "+OK")
		if got := do(w, "PASS x", "-ERR"); got != tc.want {
			t.Errorf("PASS with the backend refusing %q = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestAPOP(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := dialClient(t, ts.addr)
	if err := c.APOP("alice", "wrong"); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("APOP(alice, wrong) = %v, want ErrAuthFailed", err)
	}
	if err := c.APOP("alice", "tanstaafl"); err != nil {
		t.Fatalf("APOP(alice) = %v", err)
	}
	n, size, err := c.Stat()
	if err != nil || n != 2 || size != 78 {
		t.Errorf("Stat() = %d, %d, %v; want 2, 78", n, size, err)
	}
	c.Quit()
}

func TestAuthSASL(t *testing.T) {
	ts := startServer(t, nil, nil)
	w := dialPOP(t, ts.addr)
	do(w, "AUTH", "+OK")
	if got := strings.Join(multi(w), " "); got != "PLAIN LOGIN" {
		t.Errorf("AUTH mechanism list = %q, want %q", got, "PLAIN LOGIN")
	}
	do(w, "AUTH CRAM-MD5", "-ERR Unsupported SASL mechanism")
	// PLAIN with an initial response: "\x00alice\x00secret".
	do(w, "AUTH PLAIN AGFsaWNlAHNlY3JldA==", "+OK Logged in, 2 messages")
	do(w, "QUIT", "+OK")

	w = dialPOP(t, ts.addr)
	do(w, "AUTH LOGIN", "+ VXNlcm5hbWU6")
	do(w, "YWxpY2U=", "+ UGFzc3dvcmQ6")
	do(w, "d3Jvbmc=", "-ERR [AUTH] Authentication failed")
	do(w, "AUTH PLAIN", "+ ")
	do(w, "*", "-ERR Authentication canceled")
	do(w, "AUTH PLAIN", "+ ")
	do(w, "!!!notbase64", "-ERR [AUTH] Malformed")
	do(w, "AUTH PLAIN", "+ ")
	do(w, "AGFsaWNlAHNlY3JldA==", "+OK Logged in")
}

func TestCapa(t *testing.T) {
	server, _ := testkit.TLS(t)
	ts := startServer(t, nil, func(s *Server) { s.TLSConfig = server })
	w := dialPOP(t, ts.addr)
	do(w, "CAPA", "+OK")
	caps := strings.Join(multi(w), "|")
	for _, want := range []string{"TOP", "UIDL", "USER", "SASL PLAIN LOGIN", "STLS", "RESP-CODES", "PIPELINING"} {
		if !strings.Contains("|"+caps+"|", "|"+want+"|") {
			t.Errorf("CAPA = %q, want %q in it", caps, want)
		}
	}
	login(w)
	do(w, "CAPA", "+OK")
	if caps = strings.Join(multi(w), "|"); strings.Contains(caps, "STLS") || strings.Contains(caps, "USER") {
		t.Errorf("CAPA in TRANSACTION = %q, want no STLS or USER", caps)
	}
	do(w, "STLS", "-ERR Command not valid in this state")
}

func TestBadCommandsAndLimits(t *testing.T) {
	ts := startServer(t, nil, func(s *Server) {
		s.MaxBadCommands = 3
		s.MaxLineLength = 64
	})
	w := dialPOP(t, ts.addr)
	do(w, "FOOBAR", "-ERR Syntax error")
	do(w, "HELO", "-ERR Unknown command")
	do(w, "USER "+strings.Repeat("x", 100), "-ERR Line too long")
	w.Expect("-ERR Too many bad commands")
	if !w.Closed(2 * time.Second) {
		t.Errorf("connection open after too many bad commands")
	}
	w = dialPOP(t, ts.addr)
	do(w, "user alice", "+OK") // keywords are case-insensitive
	do(w, "NUL\x00", "-ERR Syntax error")
	w.Write("NOOP\n") // a bare LF ends a line too
	w.Expect("-ERR Command not valid in this state")
}

func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, nil, func(s *Server) { s.IdleTimeout = 200 * time.Millisecond })
	w := dialPOP(t, ts.addr)
	start := time.Now()
	w.Expect("-ERR Disconnected for inactivity")
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("idle session closed after %v, want about 200ms", d)
	}
}

// TestLineTimeout: a client that keeps a byte moving within the idle
// timeout but never ends its line (slowloris) is closed after LineTimeout.
func TestLineTimeout(t *testing.T) {
	ts := startServer(t, nil, func(s *Server) { s.LineTimeout = 300 * time.Millisecond })
	w := dialPOP(t, ts.addr)
	start := time.Now()
	done := make(chan struct{})
	defer close(done)
	go func() {
		for _, b := range "USER alice" {
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := w.Conn.Write([]byte(string(b))); err != nil {
				return
			}
		}
	}()
	w.Expect("-ERR Disconnected for inactivity")
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("trickling session closed after %v, want about 300ms", d)
	}
}

func TestTimeoutFields(t *testing.T) {
	for _, tc := range []struct{ v, want time.Duration }{
		{0, DefaultIdleTimeout},
		{-1, -1},
		{time.Second, time.Second},
	} {
		if got := lifecycle.WireTimeout(tc.v, DefaultIdleTimeout); got != tc.want {
			t.Errorf("lifecycle.WireTimeout(%v, %v) = %v, want %v", tc.v, DefaultIdleTimeout, got, tc.want)
		}
	}
}

func TestPipelining(t *testing.T) {
	ts := startServer(t, nil, nil)
	w := dialPOP(t, ts.addr)
	w.Send("USER alice\r\nPASS secret\r\nSTAT\r\nUIDL 2\r\nNOOP")
	for _, want := range []string{"+OK", "+OK Logged in", "+OK 2 78", "+OK 2 m2", "+OK"} {
		w.Expect(want)
	}
}

// recordingBackend remembers the ConnInfo of each login.
type recordingBackend struct {
	*MemoryBackend
	mu    sync.Mutex
	infos []ConnInfo
}

func (b *recordingBackend) Login(ctx context.Context, c ConnInfo, user, pass string) (Maildrop, error) {
	b.mu.Lock()
	b.infos = append(b.infos, c)
	b.mu.Unlock()
	return b.MemoryBackend.Login(ctx, c, user, pass)
}

func (b *recordingBackend) last() ConnInfo {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.infos[len(b.infos)-1]
}

// claimsTLS is a plain connection that says it completed a handshake:
// only a *tls.Conn from the listener may make a session TLS.
type claimsTLS struct{ net.Conn }

func (claimsTLS) ConnectionState() tls.ConnectionState {
	return tls.ConnectionState{HandshakeComplete: true}
}

// TestTLSContract: a *tls.Conn from the listener is the only thing that
// makes a session TLS; a plain connection from afar never is, whatever
// it claims, so USER/PASS are refused on it.
func TestTLSContract(t *testing.T) {
	server, client := testkit.TLS(t)
	fromAfar := func(c net.Conn) net.Conn { return claimsTLS{testkit.FromAfar(c)} }

	// Plain, from afar, with STLS on offer: no password, no TLS.
	b := &recordingBackend{MemoryBackend: newTestBackend()}
	s := &Server{Backend: b, TLSConfig: server, Logger: quietLog}
	addr := testkit.Serve(t, s, testkit.Listener{Listener: testkit.Listen(t), Wrap: fromAfar})
	w := dialPOP(t, addr)
	do(w, "CAPA", "+OK")
	if caps := strings.Join(multi(w), "|"); strings.Contains(caps, "USER") || strings.Contains(caps, "SASL") || !strings.Contains(caps, "STLS") {
		t.Errorf("CAPA on a plain connection from afar = %q, want STLS and no USER or SASL", caps)
	}
	do(w, "USER alice", "-ERR [AUTH] Plaintext authentication disallowed")
	do(w, "PASS secret", "-ERR [AUTH] Plaintext authentication disallowed")
	do(w, "AUTH PLAIN AGFsaWNlAHNlY3JldA==", "-ERR [AUTH] Plaintext")

	// After STLS the same login works, and the backend sees TLS.
	c := dialClient(t, addr)
	c.InsecureAuth = true // the client's own check would stop it first
	if err := c.Login("alice", "secret"); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("Login before STLS = %v, want an [AUTH] refusal", err)
	}
	if err := c.StartTLS(client); err != nil {
		t.Fatalf("StartTLS = %v", err)
	}
	if err := c.Login("alice", "secret"); err != nil {
		t.Fatalf("Login after STLS = %v", err)
	}
	if st := b.last().TLS; st == nil || !st.HandshakeComplete {
		t.Errorf("ConnInfo.TLS after STLS = %v, want the handshake's state", st)
	}
	c.Quit()

	// Plain on loopback: a login, and ConnInfo.TLS is nil.
	b = &recordingBackend{MemoryBackend: newTestBackend()}
	c = dialClient(t, testkit.Serve(t, &Server{Backend: b, Logger: quietLog}, nil))
	if err := c.Login("alice", "secret"); err != nil {
		t.Fatalf("Login on loopback = %v", err)
	}
	if b.last().TLS != nil {
		t.Errorf("ConnInfo.TLS of a plain session = %v, want nil", b.last().TLS)
	}
	c.Quit()

	// Implicit TLS, from afar: the listener's *tls.Conn is TLS.
	b = &recordingBackend{MemoryBackend: newTestBackend()}
	ln := tls.NewListener(testkit.Listener{Listener: testkit.Listen(t), Wrap: testkit.FromAfar}, server)
	c, err := DialTLS(context.Background(), testkit.Serve(t, &Server{Backend: b, Logger: quietLog}, ln), client)
	if err != nil {
		t.Fatalf("DialTLS = %v", err)
	}
	defer c.Close()
	if err := c.Login("alice", "secret"); err != nil {
		t.Fatalf("Login over implicit TLS from afar = %v", err)
	}
	if st := b.last().TLS; st == nil || !st.HandshakeComplete || !c.TLS() {
		t.Errorf("ConnInfo.TLS over implicit TLS = %v, want the handshake's state", st)
	}
}

func TestSTLSRefusesInjectedCommands(t *testing.T) {
	server, client := testkit.TLS(t)
	ts := startServer(t, nil, func(s *Server) { s.TLSConfig = server })
	w := dialPOP(t, ts.addr)
	// Commands sent in the clear after STLS must not run under TLS.
	w.Send("STLS\r\nUSER alice")
	w.Expect("+OK Begin TLS")
	tc := tls.Client(w.Conn, client)
	if err := tc.Handshake(); err == nil {
		if r := testkit.NewTranscript(t, tc); !r.Closed(2 * time.Second) {
			t.Errorf("server answered after a plaintext injection following STLS")
		}
	}
}

// TestShutdownEndsTLSHandshake: a client that connects to an implicit
// TLS listener and never starts its handshake holds no command, so
// Shutdown ends it at once rather than after DefaultTLSTimeout.
func TestShutdownEndsTLSHandshake(t *testing.T) {
	server, _ := testkit.TLS(t)
	s := &Server{Backend: newTestBackend(), Logger: quietLog}
	reading := make(chan struct{})
	var once sync.Once
	ln := testkit.Listener{Listener: testkit.Listen(t), Wrap: func(c net.Conn) net.Conn {
		return readHook{c, func() { once.Do(func() { close(reading) }) }}
	}}
	addr := testkit.Serve(t, s, tls.NewListener(ln, server))
	c := testkit.Dial(t, addr)
	select {
	case <-reading: // the handshake waits for the ClientHello
	case <-time.After(5 * time.Second):
		t.Fatalf("the server never started its TLS handshake")
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with a client stalled before its handshake = %v, want nil", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Shutdown took %v with a stalled handshake, want it prompt", d)
	}
	if !c.Closed(2 * time.Second) {
		t.Errorf("stalled TLS session still open after Shutdown")
	}
}

// readHook calls hook before each Read.
type readHook struct {
	net.Conn
	hook func()
}

func (r readHook) Read(p []byte) (int, error) {
	r.hook()
	return r.Conn.Read(p)
}
