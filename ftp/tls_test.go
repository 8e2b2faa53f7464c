package ftp

import (
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

func TestAuthTLSAndProtectedData(t *testing.T) {
	ts := startServer(t, func(s *Server) { s.TLSConfig, _ = testkit.TLS(t) })
	ts.home.WriteFile("a.txt", []byte("private data"))
	c := dialT(t, ts.addr)
	if msg := c.Do("FEAT", 211); !strings.Contains(msg, "\n AUTH TLS\n") || !strings.Contains(msg, "\n PROT\n") {
		t.Fatalf("FEAT with TLS = %q, want AUTH TLS and PROT", msg)
	}
	c.Do("PROT P", 503)
	c.authTLS()
	c.Do("AUTH TLS", 503)
	c.Do("PROT P", 503) // PBSZ first
	c.Do("PBSZ 0", 200)
	c.Do("PROT S", 536)
	c.Do("PROT P", 200)
	c.login("alice", "secret")
	c.Do("CCC", 534)

	// A data connection that resumes the control connection's session.
	d := c.secureData(c.epsv(), c.tlsc)
	c.Do("RETR a.txt", 150)
	d.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(d)
	if err != nil {
		t.Fatalf("reading TLS data: %v", err)
	}
	if code, msg := c.Reply(); code != 226 || string(got) != "private data" {
		t.Fatalf("PROT P RETR = %d %q %q, want 226 %q", code, msg, got, "private data")
	}
	if !d.ConnectionState().DidResume {
		t.Fatal("data connection did not resume the session")
	}

	// Upload under PROT P.
	d = c.secureData(c.epsv(), c.tlsc)
	c.Do("STOR up.txt", 150)
	io.WriteString(d, "sent privately")
	d.Close()
	if code, msg := c.Reply(); code != 226 {
		t.Fatalf("PROT P STOR = %d %q, want 226", code, msg)
	}
	if b, _ := ts.home.ReadFile("up.txt"); string(b) != "sent privately" {
		t.Fatalf("up.txt = %q, want %q", b, "sent privately")
	}

	// A data connection with a fresh TLS session (another client's, say) is refused.
	fresh := clientTLS(t)
	d = c.secureData(c.epsv(), fresh)
	c.Do("RETR a.txt", 150)
	d.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, _ := io.ReadAll(d); len(b) > 0 {
		t.Fatalf("a data connection without session reuse received %q", b)
	}
	if code, msg := c.Reply(); code != 425 || !strings.Contains(msg, "reuse") {
		t.Fatalf("RETR over a data connection without reuse = %d %q, want 425", code, msg)
	}

	// Plain data after PROT C.
	c.Do("PROT C", 200)
	if got := c.retr("RETR a.txt"); got != "private data" {
		t.Fatalf("PROT C RETR = %q, want %q", got, "private data")
	}
}

func TestSessionOfAnotherControlConnectionRefused(t *testing.T) {
	ts := startServer(t, func(s *Server) { s.TLSConfig, _ = testkit.TLS(t) })
	ts.home.WriteFile("a.txt", []byte("x"))
	other := dialT(t, ts.addr)
	other.authTLS() // a session this server issued, to another control connection
	c := dialT(t, ts.addr)
	c.authTLS()
	c.Do("PBSZ 0", 200)
	c.Do("PROT P", 200)
	c.login("alice", "secret")
	d := c.secureData(c.epsv(), other.tlsc)
	c.Do("RETR a.txt", 150)
	d.SetReadDeadline(time.Now().Add(5 * time.Second))
	io.ReadAll(d)
	if code, msg := c.Reply(); code != 425 {
		t.Fatalf("data connection resuming another session's ticket = %d %q, want 425", code, msg)
	}
}

func TestAllowDataSessionChange(t *testing.T) {
	ts := startServer(t, func(s *Server) { s.TLSConfig, _ = testkit.TLS(t); s.AllowDataSessionChange = true })
	ts.home.WriteFile("a.txt", []byte("x"))
	c := dialT(t, ts.addr)
	c.authTLS()
	c.Do("PBSZ 0", 200)
	c.Do("PROT P", 200)
	c.login("alice", "secret")
	d := c.secureData(c.epsv(), clientTLS(t))
	c.Do("RETR a.txt", 150)
	got, _ := io.ReadAll(d)
	if code, _ := c.Reply(); code != 226 || string(got) != "x" {
		t.Fatalf("RETR with AllowDataSessionChange = %d %q, want 226 %q", code, got, "x")
	}
}

func TestImplicitTLS(t *testing.T) {
	ts := startServerWith(t, func(s *Server) { s.TLSConfig, _ = testkit.TLS(t); s.LoginTLS = TLSRequired }, (*Server).ServeTLS)
	cfg := clientTLS(t)
	c := dialImplicit(t, ts.addr, cfg)
	c.Do("AUTH TLS", 503)
	c.Do("PBSZ 0", 200)
	c.Do("PROT P", 200)
	c.login("alice", "secret")
	ts.home.WriteFile("a.txt", []byte("implicit"))
	for i := range 3 { // each data connection resumes the session of the one before
		d := c.secureData(c.epsv(), cfg)
		c.Do("RETR a.txt", 150)
		got, _ := io.ReadAll(d)
		if code, msg := c.Reply(); code != 226 || string(got) != "implicit" {
			t.Fatalf("implicit FTPS RETR #%d = %d %q %q, want 226 %q", i+1, code, msg, got, "implicit")
		}
	}
	// Another implicit session's ticket is not this one's.
	other := clientTLS(t)
	dialImplicit(t, ts.addr, other).Do("NOOP", 200)
	d := c.secureData(c.epsv(), other)
	c.Do("RETR a.txt", 150)
	io.ReadAll(d)
	if code, msg := c.Reply(); code != 425 {
		t.Fatalf("implicit FTPS data connection resuming another session = %d %q, want 425", code, msg)
	}
}

// A listener of the user's own that hands out *tls.Conn makes the
// connections TLS; its tickets carry no mark, so PROT P data
// connections are refused, by a 425 that names the setting to change.
func TestServeTLSConnFromOwnListener(t *testing.T) {
	cfg, _ := testkit.TLS(t)
	ts := startServerWith(t, func(s *Server) {
		s.TLSConfig, s.LoginTLS, s.SessionReuseSetting = cfg, TLSRequired, "require_session_reuse"
	}, func(s *Server, ln net.Listener) error { return s.Serve(tls.NewListener(ln, cfg)) })
	ts.home.WriteFile("a.txt", []byte("x"))
	ccfg := clientTLS(t)
	c := dialImplicit(t, ts.addr, ccfg)
	c.Do("PBSZ 0", 200)
	c.Do("PROT P", 200)
	c.login("alice", "secret") // TLSRequired: the connection counts as TLS
	d := c.secureData(c.epsv(), ccfg)
	c.Do("RETR a.txt", 150)
	io.ReadAll(d)
	if code, msg := c.Reply(); code != 425 || !strings.Contains(msg, "require_session_reuse") {
		t.Fatalf("RETR over an unmarked session = %d %q, want 425 naming require_session_reuse", code, msg)
	}
}

// claimsTLS is a plain connection that says it completed a handshake.
type claimsTLS struct{ net.Conn }

func claimTLS(c net.Conn) net.Conn { return claimsTLS{c} }

func (claimsTLS) ConnectionState() tls.ConnectionState {
	return tls.ConnectionState{HandshakeComplete: true, Version: tls.VersionTLS13}
}

// Only a *tls.Conn is TLS: a plain connection, whatever it claims, gets
// no login under TLSRequired, no PBSZ, and no "TLS" in STAT.
func TestPlainConnectionNeverTLS(t *testing.T) {
	ts := startServerWith(t, func(s *Server) { s.TLSConfig, _ = testkit.TLS(t); s.LoginTLS = TLSRequired },
		func(s *Server, ln net.Listener) error { return s.Serve(testkit.Listener{Listener: ln, Wrap: claimTLS}) })
	c := dialT(t, ts.addr)
	if code, msg := c.Cmd("USER alice"); code != 530 {
		t.Errorf("USER on a plain connection under TLSRequired = %d %q, want 530", code, msg)
	}
	c.Do("PBSZ 0", 503)
	if msg := c.Do("STAT", 211); strings.Contains(msg, "TLS") {
		t.Errorf("STAT on a plain connection = %q, want no TLS in it", msg)
	}
	c.authTLS() // and AUTH TLS still works on it
	c.login("alice", "secret")
}

func TestLoginTLSPolicy(t *testing.T) {
	ts := startServer(t, func(s *Server) { s.TLSConfig, _ = testkit.TLS(t); s.LoginTLS = TLSRequired })
	c := dialT(t, ts.addr)
	if code, msg := c.Cmd("USER alice"); code != 530 || !strings.Contains(msg, "TLS") {
		t.Fatalf("USER in the clear with TLSRequired = %d %q, want 530", code, msg)
	}
	c.login("anonymous", "x") // anonymous needs no TLS
	c2 := dialT(t, ts.addr)
	c2.authTLS()
	c2.login("alice", "secret")

	// The default policy lets loopback clients log in in the clear.
	ts2 := startServer(t, nil)
	c3 := dialT(t, ts2.addr)
	c3.login("alice", "secret")
}

func TestPlaintextAfterAUTHRefused(t *testing.T) {
	ts := startServer(t, func(s *Server) { s.TLSConfig, _ = testkit.TLS(t) })
	c := dialT(t, ts.addr)
	// A command injected behind AUTH in the same packet must never run.
	c.Send("AUTH TLS\r\nUSER alice")
	c.Conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest, _ := io.ReadAll(c.R)
	if strings.Contains(string(rest), "331") {
		t.Fatalf("a command pipelined after AUTH TLS was run: %q", rest)
	}
}

// Under TLS 1.2 the session mark comes from tls-unique: data connections
// resume the control connection's session, and a session of another
// control connection is refused.
func TestTLS12SessionReuse(t *testing.T) {
	ts := startServer(t, func(s *Server) {
		s.TLSConfig, _ = testkit.TLS(t)
		s.TLSConfig.MaxVersion = tls.VersionTLS12
	})
	ts.home.WriteFile("a.txt", []byte("twelve"))
	other := dialT(t, ts.addr)
	other.authTLS()
	c := dialT(t, ts.addr)
	c.authTLS()
	c.Do("PBSZ 0", 200)
	c.Do("PROT P", 200)
	c.login("alice", "secret")
	for i := range 2 {
		d := c.secureData(c.epsv(), c.tlsc)
		c.Do("RETR a.txt", 150)
		got, _ := io.ReadAll(d)
		if code, msg := c.Reply(); code != 226 || string(got) != "twelve" {
			t.Fatalf("TLS 1.2 RETR #%d = %d %q %q, want 226 %q", i+1, code, msg, got, "twelve")
		}
		if v := d.ConnectionState().Version; v != tls.VersionTLS12 {
			t.Fatalf("data connection version = %x, want TLS 1.2", v)
		}
	}
	d := c.secureData(c.epsv(), other.tlsc)
	c.Do("RETR a.txt", 150)
	io.ReadAll(d)
	if code, msg := c.Reply(); code != 425 {
		t.Fatalf("TLS 1.2 data connection resuming another session = %d %q, want 425", code, msg)
	}
}
