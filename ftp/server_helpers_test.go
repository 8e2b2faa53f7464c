package ftp

import (
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// testServer is a Server on a loopback port with a MemoryBackend holding
// user "alice" (password "secret") and an anonymous area.
type testServer struct {
	srv  *Server
	addr string
	be   *MemoryBackend
	home *MemoryFS
	anon *MemoryFS
}

func startServer(t *testing.T, configure func(*Server)) *testServer {
	t.Helper()
	return startServerWith(t, configure, nil)
}

// startServerWith is startServer with serve (ServeTLS, or Serve on a
// wrapped listener, say) serving the listener; nil is Serve.
func startServerWith(t *testing.T, configure func(*Server), serve func(*Server, net.Listener) error) *testServer {
	t.Helper()
	be := NewMemoryBackend()
	ts := &testServer{be: be, home: be.AddUser("alice", "secret"), anon: NewMemoryFS()}
	ts.anon.WriteFile("readme.txt", []byte("welcome\n"))
	ts.anon.SetReadOnly(true)
	be.SetAnonymous(ts.anon)
	ts.srv = &Server{Backend: be, Logger: slog.New(slog.DiscardHandler)}
	if configure != nil {
		configure(ts.srv)
	}
	var srv testkit.StreamServer = ts.srv
	if serve != nil {
		srv = servedBy{ts.srv, serve}
	}
	ts.addr = testkit.Serve(t, srv, nil)
	return ts
}

// servedBy is a Server whose Serve is serve.
type servedBy struct {
	*Server
	serve func(*Server, net.Listener) error
}

func (s servedBy) Serve(ln net.Listener) error { return s.serve(s.Server, ln) }

// clientTLS is testkit's client config with a session cache, which a
// PROT P data connection needs to resume its control connection's session.
func clientTLS(t testing.TB) *tls.Config {
	_, c := testkit.TLS(t)
	c.ClientSessionCache = tls.NewLRUClientSessionCache(8)
	return c
}

// tconn is a raw control connection: a Transcript with FTP's data
// connections and AUTH TLS on top.
type tconn struct {
	*testkit.Transcript
	t    *testing.T
	tlsc *tls.Config // the client config once AUTH TLS or implicit TLS is done
}

// dialT connects to addr and reads the greeting.
func dialT(t *testing.T, addr string) *tconn {
	t.Helper()
	c := &tconn{Transcript: testkit.Dial(t, addr), t: t}
	c.StrictCRLF = true // FTP's replies end in CRLF
	c.greeting()
	return c
}

// dialImplicit connects to an implicit-FTPS server and reads the greeting.
func dialImplicit(t *testing.T, addr string, cfg *tls.Config) *tconn {
	t.Helper()
	c := &tconn{t: t, tlsc: cfg}
	c.use(tls.Client(testkit.Dial(t, addr).Conn, cfg))
	c.greeting()
	return c
}

// use makes conn (a TLS client, say) the control connection.
func (c *tconn) use(conn net.Conn) {
	c.Transcript = testkit.NewTranscript(c.t, conn)
	c.StrictCRLF = true
}

func (c *tconn) greeting() {
	c.t.Helper()
	if code, text := c.Reply(); code != 220 {
		c.t.Fatalf("greeting = %q, want 220", text)
	}
}

func (c *tconn) login(user, pass string) {
	c.t.Helper()
	c.Do("USER "+user, 331)
	c.Do("PASS "+pass, 230)
}

// authTLS secures the control connection with AUTH TLS.
func (c *tconn) authTLS() {
	c.t.Helper()
	c.Do("AUTH TLS", 234)
	c.tlsc = clientTLS(c.t)
	tc := tls.Client(c.Conn, c.tlsc)
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("AUTH TLS handshake = %v, want nil", err)
	}
	c.use(tc)
}

// epsv opens a passive data connection with EPSV.
func (c *tconn) epsv() net.Conn {
	c.t.Helper()
	msg := c.Do("EPSV", 229)
	i := strings.Index(msg, "(|||")
	j := strings.LastIndex(msg, "|)")
	if i < 0 || j < i {
		c.t.Fatalf("EPSV reply %q has no port", msg)
	}
	host, _, _ := net.SplitHostPort(c.Conn.RemoteAddr().String())
	return c.dialData(net.JoinHostPort(host, msg[i+4:j]))
}

// pasv opens a passive data connection with PASV.
func (c *tconn) pasv() net.Conn {
	c.t.Helper()
	msg := c.Do("PASV", 227)
	i, j := strings.Index(msg, "("), strings.Index(msg, ")")
	if i < 0 || j < i {
		c.t.Fatalf("PASV reply %q has no address", msg)
	}
	var h [6]int
	if _, err := fmt.Sscanf(msg[i+1:j], "%d,%d,%d,%d,%d,%d", &h[0], &h[1], &h[2], &h[3], &h[4], &h[5]); err != nil {
		c.t.Fatalf("PASV reply %q: %v", msg, err)
	}
	return c.dialData(fmt.Sprintf("%d.%d.%d.%d:%d", h[0], h[1], h[2], h[3], h[4]<<8|h[5]))
}

// dialData connects a data connection, closed when the test ends.
func (c *tconn) dialData(addr string) net.Conn {
	c.t.Helper()
	d, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		c.t.Fatalf("dialing the data connection %s = %v, want nil", addr, err)
	}
	c.t.Cleanup(func() { d.Close() })
	return d
}

// retr runs a download command over a new passive connection and
// returns the data; the final reply must be 226.
func (c *tconn) retr(line string) string {
	c.t.Helper()
	d := c.epsv()
	c.Do(line, 150)
	d.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(d)
	if err != nil {
		c.t.Fatalf("%s: reading data: %v", line, err)
	}
	d.Close()
	if code, text := c.Reply(); code != 226 {
		c.t.Fatalf("%s: final reply = %q, want 226", line, text)
	}
	return string(b)
}

// activeRetr runs a download command in active mode (EPRT to a
// listener of the test's) and returns the data and the final reply.
func (c *tconn) activeRetr(line string) (string, int, string) {
	c.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		c.t.Fatal(err)
	}
	defer ln.Close()
	c.Do("EPRT |1|127.0.0.1|"+portOf(ln.Addr())+"|", 200)
	c.Do(line, 150)
	d, err := ln.Accept()
	if err != nil {
		c.t.Fatal(err)
	}
	d.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, _ := io.ReadAll(d)
	d.Close()
	code, text := c.Reply()
	return string(b), code, text
}

// stor runs an upload command with data over a new passive connection
// and returns the final reply.
func (c *tconn) stor(line, data string) (int, string) {
	c.t.Helper()
	d := c.epsv()
	c.Do(line, 150)
	d.SetWriteDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(d, data)
	d.Close()
	return c.Reply()
}

// secureData makes d a TLS data connection with config cfg.
func (c *tconn) secureData(d net.Conn, cfg *tls.Config) *tls.Conn {
	tc := tls.Client(d, cfg)
	c.t.Cleanup(func() { tc.Close() })
	return tc
}
