// Package testkit is what the protocol packages' tests share: a test
// certificate, servers started on loopback and stopped with the test, a
// raw transcript client, a polling helper in place of sleeps, and the
// conformance test every stream server runs ([Conformance]).
package testkit

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// A StreamServer is net/http's shape, which every plumb stream server has.
type StreamServer interface {
	Serve(net.Listener) error
	Shutdown(ctx context.Context) error
	Close() error
}

var (
	certOnce sync.Once
	cert     tls.Certificate
	pool     *x509.CertPool
)

// TLS returns a server config with a self-signed certificate for
// localhost, 127.0.0.1 and ::1, and a client config that trusts it. The
// certificate is made once per test binary.
func TLS(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	certOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(1),
			Subject:               pkix.Name{CommonName: "plumb test"},
			NotBefore:             time.Now().Add(-time.Hour),
			NotAfter:              time.Now().Add(24 * time.Hour),
			KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			BasicConstraintsValid: true,
			IsCA:                  true,
			DNSNames:              []string{"localhost"},
			IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			panic(err)
		}
		leaf, err := x509.ParseCertificate(der)
		if err != nil {
			panic(err)
		}
		cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
		pool = x509.NewCertPool()
		pool.AddCert(leaf)
	})
	return &tls.Config{Certificates: []tls.Certificate{cert}},
		&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

// TLSFiles writes TLS's certificate and key as PEM files in dir, for
// peers (vsftpd, Dovecot) that read them from disk.
func TLSFiles(t testing.TB, dir string) (certFile, keyFile string) {
	t.Helper()
	TLS(t)
	kder, err := x509.MarshalECPrivateKey(cert.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// Listen returns a TCP listener on a free loopback port, closed when the
// test ends.
func Listen(t testing.TB) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// Serve serves srv on ln (a fresh loopback listener when ln is nil) until
// the test ends, when it closes srv and waits for Serve to return. It
// returns the listener's address.
func Serve(t testing.TB, srv StreamServer, ln net.Listener) string {
	t.Helper()
	if ln == nil {
		ln = Listen(t)
	}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return ln.Addr().String()
}

// Eventually polls cond every few milliseconds until it is true, and
// fails the test with what when it is still false after timeout.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Within(timeout, cond) {
		t.Fatalf("after %v: still not %s", timeout, what)
	}
}

// Within polls cond, backing off from a millisecond to 50, until it
// holds or timeout passes, and reports whether it held: [Eventually]
// for a caller that has more to say (or do) when it does not.
func Within(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(wait)
	}
}

// A Listener hands Accept's connections to Wrap first, e.g. to make them
// look as if they came from afar ([FromAfar]).
type Listener struct {
	net.Listener
	Wrap func(net.Conn) net.Conn
}

// Accept accepts and wraps.
func (l Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.Wrap(c), nil
}

// FromAfar makes c report a peer at 192.0.2.7 (TEST-NET-1), so a server
// treats it as off loopback; no traffic goes there.
func FromAfar(c net.Conn) net.Conn { return afar{c} }

type afar struct{ net.Conn }

func (afar) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 40000} }
