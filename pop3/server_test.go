package pop3

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

// testServer runs a Server with a MemoryBackend holding alice
// (password "secret", APOP secret "tanstaafl") and two messages.
type testServer struct {
	*Server
	b    *MemoryBackend
	addr string
}

func startServer(t *testing.T, configure func(*Server)) *testServer {
	t.Helper()
	b := NewMemoryBackend()
	b.AddUser("alice", "secret", "tanstaafl")
	b.AddUser("bob", "pw with spaces", "")
	b.Deliver("alice", "Subject: one\r\n\r\nfirst body\r\n")
	b.Deliver("alice", "Subject: two\n\n.dotted line\nline 2\nline 3\n..\n")
	s := &Server{Backend: b}
	if configure != nil {
		configure(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.Serve(ln); close(done) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		<-done
	})
	return &testServer{Server: s, b: b, addr: ln.Addr().String()}
}

// wire is a raw client connection for transcripts.
type wire struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialWire(t *testing.T, addr string) *wire {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	w := &wire{t: t, c: c, br: bufio.NewReader(c)}
	w.expect("+OK POP3 server ready")
	return w
}

func (w *wire) line() string {
	w.t.Helper()
	l, err := w.br.ReadString('\n')
	if err != nil {
		w.t.Fatalf("reading reply: %v (so far %q)", err, l)
	}
	if !strings.HasSuffix(l, "\r\n") {
		w.t.Fatalf("reply %q does not end in CRLF", l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

// expect reads one line and checks it starts with prefix.
func (w *wire) expect(prefix string) string {
	w.t.Helper()
	l := w.line()
	if !strings.HasPrefix(l, prefix) {
		w.t.Fatalf("reply = %q, want it to start with %q", l, prefix)
	}
	return l
}

func (w *wire) send(line string) {
	w.t.Helper()
	if _, err := w.c.Write([]byte(line + "\r\n")); err != nil {
		w.t.Fatal(err)
	}
}

// do sends a command and checks the first reply line.
func (w *wire) do(cmd, prefix string) string {
	w.t.Helper()
	w.send(cmd)
	return w.expect(prefix)
}

// multi reads a multi-line body up to ".", returning the raw lines.
func (w *wire) multi() []string {
	w.t.Helper()
	var out []string
	for {
		l := w.line()
		if l == "." {
			return out
		}
		out = append(out, l)
	}
}

func (w *wire) login() {
	w.t.Helper()
	w.do("USER alice", "+OK")
	w.do("PASS secret", "+OK Logged in, 2 messages")
}

func TestTranscriptTransaction(t *testing.T) {
	ts := startServer(t, nil)
	w := dialWire(t, ts.addr)
	w.do("STAT", "-ERR Command not valid in this state")
	w.login()
	if got := w.do("STAT", "+OK"); got != "+OK 2 78" {
		t.Errorf("STAT = %q, want +OK 2 78", got)
	}
	w.do("LIST", "+OK")
	if got := strings.Join(w.multi(), "|"); got != "1 28|2 50" {
		t.Errorf("LIST = %q, want 1 28|2 50", got)
	}
	if got := w.do("LIST 2", "+OK"); got != "+OK 2 50" {
		t.Errorf("LIST 2 = %q", got)
	}
	w.do("LIST 3", "-ERR No such message")
	w.do("LIST x", "-ERR No such message")
	w.do("UIDL", "+OK")
	if got := strings.Join(w.multi(), "|"); got != "1 m1|2 m2" {
		t.Errorf("UIDL = %q, want 1 m1|2 m2", got)
	}
	if got := w.do("UIDL 1", "+OK"); got != "+OK 1 m1" {
		t.Errorf("UIDL 1 = %q", got)
	}
	// A stored bare LF goes out as CRLF; lines starting with "." are stuffed.
	w.do("RETR 2", "+OK 50 octets")
	want := []string{"Subject: two", "", "..dotted line", "line 2", "line 3", "..."}
	if got := w.multi(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("RETR 2 = %q, want %q", got, want)
	}
	w.do("TOP 2 1", "+OK")
	if got := w.multi(); strings.Join(got, "|") != "Subject: two||..dotted line" {
		t.Errorf("TOP 2 1 = %q", got)
	}
	w.do("TOP 1 0", "+OK")
	if got := w.multi(); strings.Join(got, "|") != "Subject: one|" {
		t.Errorf("TOP 1 0 = %q", got)
	}
	w.do("TOP 1", "-ERR Syntax")
	w.do("DELE 1", "+OK Message 1 deleted")
	w.do("DELE 1", "-ERR Message 1 already deleted")
	w.do("RETR 1", "-ERR Message 1 already deleted")
	if got := w.do("STAT", "+OK"); got != "+OK 1 50" {
		t.Errorf("STAT after DELE = %q, want +OK 1 50", got)
	}
	w.do("LIST", "+OK")
	if got := strings.Join(w.multi(), "|"); got != "2 50" {
		t.Errorf("LIST after DELE = %q", got)
	}
	w.do("RSET", "+OK Maildrop has 2 messages (78 octets)")
	w.do("DELE 2", "+OK")
	w.do("NOOP", "+OK")
	w.do("USER alice", "-ERR Command not valid in this state")
	w.do("QUIT", "+OK Bye (1 messages left)")
	if got := ts.b.Bodies("alice"); len(got) != 1 || !strings.Contains(got[0], "one") {
		t.Errorf("after QUIT the maildrop holds %q, want only message one", got)
	}
}

func TestKilledSessionDeletesNothing(t *testing.T) {
	ts := startServer(t, nil)
	w := dialWire(t, ts.addr)
	w.login()
	w.do("DELE 1", "+OK")
	w.do("DELE 2", "+OK")
	w.c.Close()
	// The lock is released once the server notices; then log in again.
	var c *Client
	deadline := time.Now().Add(5 * time.Second)
	for {
		var err error
		c, err = Dial(ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		err = c.Login("alice", "secret")
		if err == nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("Login after a dropped session = %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	defer c.Quit()
	if n, _, err := c.Stat(); err != nil || n != 2 {
		t.Errorf("Stat() after a session died with 2 DELEs = %d, %v; want 2", n, err)
	}
}

func TestAuthorization(t *testing.T) {
	ts := startServer(t, func(s *Server) { s.MaxAuthFailures = 2 })
	w := dialWire(t, ts.addr)
	w.do("PASS secret", "-ERR Send USER first")
	w.do("USER alice", "+OK")
	w.do("PASS wrong", "-ERR [AUTH] Authentication failed")
	w.do("USER alice", "+OK")
	w.do("PASS wrong", "-ERR [AUTH] Authentication failed")
	w.expect("-ERR [AUTH] Too many authentication failures")
	if _, err := w.br.ReadString('\n'); err == nil {
		t.Errorf("connection still open after too many failures")
	}

	// Passwords may contain spaces.
	w = dialWire(t, ts.addr)
	w.do("USER bob", "+OK")
	w.do("PASS pw with spaces", "+OK Logged in, 0 messages")
	w.do("QUIT", "+OK")

	// The maildrop is locked while a session holds it.
	a := dialWire(t, ts.addr)
	a.login()
	b := dialWire(t, ts.addr)
	b.do("USER alice", "+OK")
	b.do("PASS secret", "-ERR [IN-USE]")
	a.do("QUIT", "+OK")
}

func TestAPOP(t *testing.T) {
	ts := startServer(t, nil)
	c, err := Dial(ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.APOP("alice", "wrong"); err == nil {
		t.Fatal("APOP with a wrong secret succeeded")
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

// fakeServer plays a scripted server on one end of a pipe: for each
// expected client line it sends the given reply.
func fakeServer(t *testing.T, greeting string, script [][2]string) *Client {
	t.Helper()
	cs, ss := net.Pipe()
	go func() {
		defer ss.Close()
		br := bufio.NewReader(ss)
		ss.Write([]byte(greeting + "\r\n"))
		for _, step := range script {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if got := strings.TrimSuffix(l, "\r\n"); got != step[0] {
				t.Errorf("client sent %q, want %q", got, step[0])
				return
			}
			ss.Write([]byte(step[1]))
		}
	}()
	c, err := NewClient(cs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestClientAPOPDigest(t *testing.T) {
	// RFC 1939 section 7's timestamp and secret; the digest as Python's hashlib computes it.
	c := fakeServer(t, "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>", [][2]string{
		{"APOP mrose a6f0dd348916c9ee9539661f94c75203", "+OK maildrop has 1 message (369 octets)\r\n"},
	})
	if err := c.APOP("mrose", "tanstaafl"); err != nil {
		t.Errorf("APOP(mrose) = %v", err)
	}
}

func TestAuthSASL(t *testing.T) {
	ts := startServer(t, nil)
	w := dialWire(t, ts.addr)
	w.do("AUTH", "+OK")
	if got := strings.Join(w.multi(), " "); got != "PLAIN LOGIN" {
		t.Errorf("AUTH mechanism list = %q", got)
	}
	w.do("AUTH CRAM-MD5", "-ERR Unsupported SASL mechanism")
	// PLAIN with an initial response: "\x00alice\x00secret".
	w.do("AUTH PLAIN AGFsaWNlAHNlY3JldA==", "+OK Logged in, 2 messages")
	w.do("QUIT", "+OK")

	w = dialWire(t, ts.addr)
	w.do("AUTH LOGIN", "+ VXNlcm5hbWU6")
	w.do("YWxpY2U=", "+ UGFzc3dvcmQ6")
	w.do("d3Jvbmc=", "-ERR [AUTH] Authentication failed")
	w.do("AUTH PLAIN", "+ ")
	w.do("*", "-ERR Authentication canceled")
	w.do("AUTH PLAIN", "+ ")
	w.do("!!!notbase64", "-ERR [AUTH] Malformed")
	w.do("AUTH PLAIN", "+ ")
	w.do("AGFsaWNlAHNlY3JldA==", "+OK Logged in")
}

func TestCapa(t *testing.T) {
	ts := startServer(t, func(s *Server) { s.TLSConfig = testTLSConfig(t) })
	w := dialWire(t, ts.addr)
	w.do("CAPA", "+OK")
	caps := strings.Join(w.multi(), "|")
	for _, want := range []string{"TOP", "UIDL", "USER", "SASL PLAIN LOGIN", "STLS", "RESP-CODES", "PIPELINING"} {
		if !strings.Contains("|"+caps+"|", "|"+want+"|") {
			t.Errorf("CAPA = %q, want %q in it", caps, want)
		}
	}
	w.login()
	w.do("CAPA", "+OK")
	caps = strings.Join(w.multi(), "|")
	if strings.Contains(caps, "STLS") || strings.Contains(caps, "USER") {
		t.Errorf("CAPA in TRANSACTION = %q, want no STLS or USER", caps)
	}
	w.do("STLS", "-ERR Command not valid in this state")
}

func TestBadCommandsAndLimits(t *testing.T) {
	ts := startServer(t, func(s *Server) {
		s.MaxBadCommands = 3
		s.MaxLineLength = 64
	})
	w := dialWire(t, ts.addr)
	w.do("FOOBAR", "-ERR Syntax error")
	w.do("HELO", "-ERR Unknown command")
	w.do("USER "+strings.Repeat("x", 100), "-ERR Line too long")
	w.expect("-ERR Too many bad commands")
	if _, err := w.br.ReadString('\n'); err == nil {
		t.Errorf("connection open after too many bad commands")
	}
	w = dialWire(t, ts.addr)
	w.do("user alice", "+OK") // keywords are case-insensitive
	w.do("NUL\x00", "-ERR Syntax error")
}

func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, func(s *Server) { s.IdleTimeout = 200 * time.Millisecond })
	w := dialWire(t, ts.addr)
	start := time.Now()
	w.expect("-ERR Disconnected for inactivity")
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("idle session closed after %v, want about 200ms", d)
	}
}

func TestPipelining(t *testing.T) {
	ts := startServer(t, nil)
	w := dialWire(t, ts.addr)
	w.send("USER alice\r\nPASS secret\r\nSTAT\r\nUIDL 2\r\nNOOP")
	w.expect("+OK")
	w.expect("+OK Logged in")
	w.expect("+OK 2 78")
	w.expect("+OK 2 m2")
	w.expect("+OK")
}

// remoteListener makes every connection look as if it came from a
// non-loopback address, to test the plaintext refusal.
type remoteListener struct{ net.Listener }

type remoteConn struct{ net.Conn }

func (l remoteListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return remoteConn{c}, nil
}

func (remoteConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 4000}
}

func TestPlaintextRefusedOffLoopback(t *testing.T) {
	b := NewMemoryBackend()
	b.AddUser("alice", "secret", "")
	s := &Server{Backend: b, TLSConfig: testTLSConfig(t)}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go s.Serve(remoteListener{ln})
	defer s.Close()
	w := dialWire(t, ln.Addr().String())
	w.do("CAPA", "+OK")
	caps := strings.Join(w.multi(), "|")
	if strings.Contains(caps, "USER") || strings.Contains(caps, "SASL") || !strings.Contains(caps, "STLS") {
		t.Errorf("CAPA without TLS off loopback = %q, want STLS and no USER or SASL", caps)
	}
	w.do("USER alice", "-ERR [AUTH] Plaintext authentication disallowed")
	w.do("AUTH PLAIN AGFsaWNlAHNlY3JldA==", "-ERR [AUTH] Plaintext")

	// After STLS the same commands work.
	c, err := Dial(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.InsecureAuth = true // the client's own check would stop it first
	if err := c.Login("alice", "secret"); err == nil {
		t.Fatalf("Login before STLS succeeded")
	}
	if err := c.StartTLS(&tls.Config{InsecureSkipVerify: true}); err != nil {
		t.Fatalf("StartTLS = %v", err)
	}
	if err := c.Login("alice", "secret"); err != nil {
		t.Fatalf("Login after STLS = %v", err)
	}
}

func TestSTLSRefusesInjectedCommands(t *testing.T) {
	ts := startServer(t, func(s *Server) { s.TLSConfig = testTLSConfig(t) })
	w := dialWire(t, ts.addr)
	// Commands sent in the clear after STLS must not run under TLS.
	w.send("STLS\r\nUSER alice")
	w.expect("+OK Begin TLS")
	tc := tls.Client(w.c, &tls.Config{InsecureSkipVerify: true})
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := tc.Handshake(); err == nil {
		if _, err := bufio.NewReader(tc).ReadString('\n'); err == nil {
			t.Errorf("server answered after a plaintext injection following STLS")
		}
	}
}

func testTLSConfig(t testing.TB) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}
