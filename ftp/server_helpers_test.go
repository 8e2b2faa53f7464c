package ftp

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testServer is a Server on 127.0.0.1:0 with a MemoryBackend holding user
// "alice" (password "secret") and an anonymous area.
type testServer struct {
	srv  *Server
	addr string
	be   *MemoryBackend
	home *MemoryFS
	anon *MemoryFS
}

func startServer(t *testing.T, configure func(*Server)) *testServer {
	t.Helper()
	return startServerWith(t, configure, (*Server).Serve)
}

// startServerWith is startServer with serve (Serve or ServeTLS, say)
// serving the listener.
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	done := make(chan struct{})
	go func() { serve(ts.srv, ln); close(done) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := ts.srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		<-done
	})
	return ts
}

// tconn is a raw control connection driven by a test.
type tconn struct {
	t    *testing.T
	c    net.Conn
	r    *bufio.Reader
	tlsc *tls.Config // the client config once AUTH TLS or implicit TLS is done
}

func dialT(t *testing.T, addr string) *tconn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tc := &tconn{t: t, c: c, r: bufio.NewReader(c)}
	t.Cleanup(func() { c.Close() })
	if code, msg := tc.read(); code != 220 {
		t.Fatalf("greeting = %d %q, want 220", code, msg)
	}
	return tc
}

// read reads one reply (all lines of a multi-line one).
func (c *tconn) read() (int, string) {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var lines []string
	var code int
	for {
		l, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("reading reply: %v (so far %q)", err, lines)
		}
		if !strings.HasSuffix(l, "\r\n") {
			c.t.Fatalf("reply line %q does not end in CRLF", l)
		}
		l = strings.TrimSuffix(l, "\r\n")
		lines = append(lines, l)
		if len(lines) == 1 {
			if len(l) < 4 {
				c.t.Fatalf("short reply line %q", l)
			}
			code, err = strconv.Atoi(l[:3])
			if err != nil {
				c.t.Fatalf("reply line %q has no code", l)
			}
			if l[3] == ' ' {
				return code, l[4:]
			}
			continue
		}
		if strings.HasPrefix(l, strconv.Itoa(code)+" ") {
			return code, strings.Join(lines, "\n")
		}
	}
}

func (c *tconn) send(line string) {
	c.t.Helper()
	c.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c.c, line+"\r\n"); err != nil {
		c.t.Fatalf("sending %q: %v", line, err)
	}
}

// cmd sends a command and returns its reply.
func (c *tconn) cmd(line string) (int, string) {
	c.t.Helper()
	c.send(line)
	return c.read()
}

// expect sends a command and fails the test unless the reply has code.
func (c *tconn) expect(line string, code int) string {
	c.t.Helper()
	got, msg := c.cmd(line)
	if got != code {
		c.t.Fatalf("%s = %d %q, want %d", line, got, msg, code)
	}
	return msg
}

func (c *tconn) login(user, pass string) {
	c.t.Helper()
	c.expect("USER "+user, 331)
	c.expect("PASS "+pass, 230)
}

// epsv opens a passive data connection (plain, or TLS when the session
// has PROT P and resume is true).
func (c *tconn) epsv() net.Conn {
	c.t.Helper()
	msg := c.expect("EPSV", 229)
	i := strings.Index(msg, "(|||")
	j := strings.LastIndex(msg, "|)")
	if i < 0 || j < i {
		c.t.Fatalf("EPSV reply %q has no port", msg)
	}
	host, _, _ := net.SplitHostPort(c.c.RemoteAddr().String())
	d, err := net.DialTimeout("tcp", net.JoinHostPort(host, msg[i+4:j]), 5*time.Second)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { d.Close() })
	return d
}

// pasv opens a passive data connection with PASV.
func (c *tconn) pasv() net.Conn {
	c.t.Helper()
	msg := c.expect("PASV", 227)
	i, j := strings.Index(msg, "("), strings.Index(msg, ")")
	if i < 0 || j < i {
		c.t.Fatalf("PASV reply %q has no address", msg)
	}
	var h [6]int
	if _, err := fmt.Sscanf(msg[i+1:j], "%d,%d,%d,%d,%d,%d", &h[0], &h[1], &h[2], &h[3], &h[4], &h[5]); err != nil {
		c.t.Fatalf("PASV reply %q: %v", msg, err)
	}
	addr := fmt.Sprintf("%d.%d.%d.%d:%d", h[0], h[1], h[2], h[3], h[4]<<8|h[5])
	d, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { d.Close() })
	return d
}

// retr runs a download command over a new passive connection and
// returns the data; the final reply must be 226.
func (c *tconn) retr(line string) string {
	c.t.Helper()
	d := c.epsv()
	c.expect(line, 150)
	d.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(d)
	if err != nil {
		c.t.Fatalf("%s: reading data: %v", line, err)
	}
	d.Close()
	if code, msg := c.read(); code != 226 {
		c.t.Fatalf("%s: final reply %d %q, want 226", line, code, msg)
	}
	return string(b)
}

// stor runs an upload command with data over a new passive connection
// and returns the final reply.
func (c *tconn) stor(line, data string) (int, string) {
	c.t.Helper()
	d := c.epsv()
	c.expect(line, 150)
	d.SetWriteDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(d, data)
	d.Close()
	return c.read()
}

var (
	certOnce sync.Once
	testCert tls.Certificate
	certPool *x509.CertPool
)

// serverTLS returns a TLS config with a self-signed certificate for 127.0.0.1.
func serverTLS(t *testing.T) *tls.Config {
	t.Helper()
	certOnce.Do(func() {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
			KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		testCert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
		cert, _ := x509.ParseCertificate(der)
		certPool = x509.NewCertPool()
		certPool.AddCert(cert)
	})
	return &tls.Config{Certificates: []tls.Certificate{testCert}}
}

func clientTLS() *tls.Config {
	return &tls.Config{RootCAs: certPool, ServerName: "127.0.0.1", ClientSessionCache: tls.NewLRUClientSessionCache(8)}
}

// authTLS secures the control connection with AUTH TLS.
func (c *tconn) authTLS() {
	c.t.Helper()
	c.expect("AUTH TLS", 234)
	c.tlsc = clientTLS()
	tc := tls.Client(c.c, c.tlsc)
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("AUTH TLS handshake: %v", err)
	}
	c.c, c.r = tc, bufio.NewReader(tc)
}

// secureData makes d a TLS data connection with config cfg.
func (c *tconn) secureData(d net.Conn, cfg *tls.Config) *tls.Conn {
	tc := tls.Client(d, cfg)
	c.t.Cleanup(func() { tc.Close() })
	return tc
}
