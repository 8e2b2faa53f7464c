package ftp

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestPassiveListenerTimeout(t *testing.T) {
	ts := startServer(t, func(s *Server) { s.PassiveTimeout = 100 * time.Millisecond })
	c := dialT(t, ts.addr)
	c.login("alice", "secret")
	msg := c.expect("EPSV", 229)
	port := msg[strings.Index(msg, "|||")+3 : strings.LastIndex(msg, "|")]
	time.Sleep(400 * time.Millisecond)
	if d, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
		d.Close()
		t.Fatalf("passive port %s still accepts after its timeout", port)
	}
	// A transfer command after the timeout cannot get a data connection.
	if code, _ := c.cmd("LIST"); code != 150 {
		t.Fatalf("LIST = %d, want 150", code)
	}
	if code, _ := c.read(); code != 425 {
		t.Fatalf("LIST after the passive timeout = %d, want 425", code)
	}
}

func TestIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	be := NewMemoryBackend()
	be.AddUser("alice", "secret").WriteFile("a.txt", []byte("over IPv6"))
	srv := &Server{Backend: be}
	go srv.Serve(ln)
	defer srv.Close()
	c := dialT(t, ln.Addr().String())
	c.login("alice", "secret")
	c.expect("PASV", 425)
	c.expect("EPSV 1", 522)
	c.expect("EPSV 2", 229)
	if got := c.retr("RETR a.txt"); got != "over IPv6" {
		t.Fatalf("RETR over EPSV on IPv6 = %q, want %q", got, "over IPv6")
	}
	al, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer al.Close()
	c.expect(fmt.Sprintf("EPRT |2|::1|%d|", al.Addr().(*net.TCPAddr).Port), 200)
	c.expect("RETR a.txt", 150)
	d, err := al.Accept()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(d)
	d.Close()
	if code, _ := c.read(); code != 226 || string(got) != "over IPv6" {
		t.Fatalf("RETR over EPRT on IPv6 = %d %q, want 226 %q", code, got, "over IPv6")
	}
	c.expect("EPRT |1|127.0.0.1|5000|", 504)
}

func TestNoGoroutineLeak(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	be := NewMemoryBackend()
	be.AddUser("alice", "secret").WriteFile("a.txt", []byte("x"))
	srv := &Server{Backend: be, TLSConfig: serverTLS(t)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	c := dialT(t, ln.Addr().String())
	c.authTLS()
	c.expect("PBSZ 0", 200)
	c.expect("PROT P", 200)
	c.login("alice", "secret")
	d := c.secureData(c.epsv(), c.tlsc)
	c.expect("RETR a.txt", 150)
	io.ReadAll(d)
	c.read()
	c.expect("EPSV", 229) // a passive listener left open
	idle := dialT(t, ln.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	<-done
	c.c.Close()
	idle.c.Close()
	d.Close()
}
