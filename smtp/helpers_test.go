package smtp

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

// startServer serves srv on a loopback port until the test ends.
func startServer(t *testing.T, srv *Server) string {
	t.Helper()
	return startServerOn(t, srv, nil)
}

// startServerOn is startServer with the accepted connections wrapped,
// e.g. to make them look as if they came from afar.
func startServerOn(t *testing.T, srv *Server, wrap func(net.Conn) net.Conn) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if srv.Hostname == "" {
		srv.Hostname = "mx.test"
	}
	var ln net.Listener = l
	if wrap != nil {
		ln = wrapListener{l, wrap}
	}
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return l.Addr().String()
}

type wrapListener struct {
	net.Listener
	wrap func(net.Conn) net.Conn
}

func (w wrapListener) Accept() (net.Conn, error) {
	c, err := w.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return w.wrap(c), nil
}

// remoteConn reports a non-loopback peer address.
type remoteConn struct{ net.Conn }

func (remoteConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 40000} }

func fromAfar(c net.Conn) net.Conn { return remoteConn{c} }

// session is a raw client for transcript tests.
type session struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialSession(t *testing.T, addr string) *session {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	s := &session{t: t, conn: c, r: bufio.NewReader(c)}
	s.expect("220 ")
	return s
}

// send writes raw text (add CRLF yourself).
func (s *session) send(text string) {
	s.t.Helper()
	if _, err := s.conn.Write([]byte(text)); err != nil {
		s.t.Fatalf("write %q: %v", text, err)
	}
}

// reply reads one whole reply and returns its lines joined with "\n".
func (s *session) reply() string {
	s.t.Helper()
	var lines []string
	for {
		l, err := s.r.ReadString('\n')
		if err != nil {
			s.t.Fatalf("reading reply after %q: %v", lines, err)
		}
		l = strings.TrimRight(l, "\r\n")
		lines = append(lines, l)
		if len(l) < 4 || l[3] != '-' {
			return strings.Join(lines, "\n")
		}
	}
}

// expect reads a reply and fails unless its last line starts with prefix.
func (s *session) expect(prefix string) string {
	s.t.Helper()
	r := s.reply()
	last := r[strings.LastIndexByte(r, '\n')+1:]
	if !strings.HasPrefix(last, prefix) {
		s.t.Fatalf("reply = %q, want %q...", r, prefix)
	}
	return r
}

// cmd sends one command line and expects a reply starting with prefix.
func (s *session) cmd(line, prefix string) string {
	s.t.Helper()
	s.send(line + "\r\n")
	return s.expect(prefix)
}

// closed reports whether the server closed the connection.
func (s *session) closed() bool {
	s.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := s.r.ReadByte()
	return err != nil
}

// testTLS returns a server config with a fresh self-signed certificate
// for 127.0.0.1 and a client config trusting it.
func testTLS(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true, DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	client = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	return server, client
}

// body returns a stored message without the Received: header the server added.
func body(t *testing.T, data []byte) string {
	t.Helper()
	s := string(data)
	if !strings.HasPrefix(s, "Received: from ") {
		t.Fatalf("message does not start with a Received: header: %q", s)
	}
	// The header's continuation lines start with a tab.
	i := 0
	for {
		j := strings.Index(s[i:], "\r\n")
		if j < 0 {
			t.Fatalf("unterminated Received: header in %q", s)
		}
		i += j + 2
		if i >= len(s) || s[i] != '\t' {
			return s[i:]
		}
	}
}
