package ftp

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
	"go.uber.org/goleak"
)

func TestPassiveListenerTimeout(t *testing.T) {
	ts := startServer(t, func(s *Server) { s.PassiveTimeout = 100 * time.Millisecond })
	c := dialT(t, ts.addr)
	c.login("alice", "secret")
	msg := c.Do("EPSV", 229)
	port := msg[strings.Index(msg, "|||")+3 : strings.LastIndex(msg, "|")]
	// A connection made while the listener is open waits in its backlog
	// and is dropped with it: no transfer command is pending to take it.
	testkit.Eventually(t, 5*time.Second, "passive port "+port+" closed after PassiveTimeout", func() bool {
		d, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
		if err == nil {
			d.Close()
		}
		return err != nil
	})
	// A transfer command after the timeout cannot get a data connection:
	// 425, and no 150 before it.
	if code, msg := c.Cmd("LIST"); code != 425 {
		t.Fatalf("LIST after the passive timeout = %q, want 425", msg)
	}
}

func TestIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	be := NewMemoryBackend()
	be.AddUser("alice", "secret").WriteFile("a.txt", []byte("over IPv6"))
	c := dialT(t, testkit.Serve(t, &Server{Backend: be}, ln))
	c.login("alice", "secret")
	c.Do("PASV", 425)
	c.Do("EPSV 1", 522)
	c.Do("EPSV 2", 229)
	if got := c.retr("RETR a.txt"); got != "over IPv6" {
		t.Fatalf("RETR over EPSV on IPv6 = %q, want %q", got, "over IPv6")
	}
	al, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer al.Close()
	c.Do(fmt.Sprintf("EPRT |2|::1|%d|", al.Addr().(*net.TCPAddr).Port), 200)
	c.Do("RETR a.txt", 150)
	d, err := al.Accept()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(d)
	d.Close()
	if code, _ := c.Reply(); code != 226 || string(got) != "over IPv6" {
		t.Fatalf("RETR over EPRT on IPv6 = %d %q, want 226 %q", code, got, "over IPv6")
	}
	c.Do("EPRT |1|127.0.0.1|5000|", 504)
}

func TestNoGoroutineLeak(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	be := NewMemoryBackend()
	be.AddUser("alice", "secret").WriteFile("a.txt", []byte("x"))
	srvTLS, _ := testkit.TLS(t)
	srv := &Server{Backend: be, TLSConfig: srvTLS}
	ln := testkit.Listen(t)
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	c := dialT(t, ln.Addr().String())
	c.authTLS()
	c.Do("PBSZ 0", 200)
	c.Do("PROT P", 200)
	c.login("alice", "secret")
	d := c.secureData(c.epsv(), c.tlsc)
	c.Do("RETR a.txt", 150)
	io.ReadAll(d)
	c.Reply()
	c.Do("EPSV", 229) // a passive listener left open
	idle := dialT(t, ln.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	<-done
	c.Conn.Close()
	idle.Conn.Close()
	d.Close()
}
