package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
	"github.com/plumbnet/plumb/sasl"
)

// claimsTLS is a plaintext connection that says it is TLS, as a
// misconfigured listener wrapper might.
type claimsTLS struct{ net.Conn }

func (claimsTLS) ConnectionState() tls.ConnectionState {
	return tls.ConnectionState{HandshakeComplete: true, Version: tls.VersionTLS13}
}

// infoBackend records the ConnInfo of every session.
type infoBackend struct {
	MemoryBackend
	mu    sync.Mutex
	infos []ConnInfo
}

func (b *infoBackend) NewSession(ctx context.Context, c *Conn) (Session, error) {
	b.mu.Lock()
	b.infos = append(b.infos, c.Info())
	b.mu.Unlock()
	return b.MemoryBackend.NewSession(ctx, c)
}

func (b *infoBackend) last() ConnInfo {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.infos[len(b.infos)-1]
}

// TestPlainConnNeverTLS: only a *tls.Conn the server handshook itself
// counts as TLS; a plaintext connection from afar that claims TLS gets
// no AUTH, even with a TLS config on the server.
func TestPlainConnNeverTLS(t *testing.T) {
	serverTLS, _ := testkit.TLS(t)
	be := &infoBackend{MemoryBackend: MemoryBackend{Users: map[string]string{"alice": "s3cret"}}}
	srv := &Server{Backend: be, TLSConfig: serverTLS, AuthRequired: true}
	addr := startServerOn(t, srv, func(c net.Conn) net.Conn { return claimsTLS{testkit.FromAfar(c)} })
	s := dialSession(t, addr)
	if ehlo := s.cmd("EHLO client.test", "250 "); strings.Contains(ehlo, "AUTH") || !strings.Contains(ehlo, "STARTTLS") {
		t.Errorf("EHLO on a plain conn claiming TLS = %q, want STARTTLS offered and no AUTH", ehlo)
	}
	s.cmd("AUTH PLAIN "+plainIR("alice", "s3cret"), "538 5.7.11")
	if info := be.last(); info.TLS != nil || info.RemoteAddr.String() != "192.0.2.7:40000" || info.LocalAddr == nil {
		t.Errorf("Conn.Info() = %+v, want no TLS state and the remote address", info)
	}
}

func TestImplicitTLS(t *testing.T) {
	serverTLS, clientTLS := testkit.TLS(t)
	be := &infoBackend{MemoryBackend: MemoryBackend{Users: map[string]string{"alice": "s3cret"}}}
	srv := &Server{Backend: be, TLSConfig: serverTLS, AuthRequired: true, TLSRequired: true}
	addr := startServerOn(t, srv, func(c net.Conn) net.Conn { return tls.Server(testkit.FromAfar(c), serverTLS) })
	d := Dialer{TLSConfig: clientTLS}
	c, err := d.DialTLS(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		t.Error("STARTTLS offered on an implicit-TLS connection")
	}
	if err := c.StartTLS(nil); err == nil {
		t.Error("StartTLS(nil) over implicit TLS = nil, want an error")
	}
	if info := be.last(); info.TLS == nil || !info.TLS.HandshakeComplete {
		t.Errorf("Conn.Info().TLS = %+v, want the handshake's state", info.TLS)
	}
	if err := c.Auth(sasl.NewPlainClient("", "alice", "s3cret")); err != nil {
		t.Fatalf("Auth over implicit TLS from afar = %v, want nil", err)
	}
	if err := c.SendMail("alice@mx.test", []string{"bob@far.test"}, strings.NewReader("Subject: t\r\n\r\nhi\r\n"), nil); err != nil {
		t.Fatalf("SendMail = %v", err)
	}
	if err := c.Quit(); err != nil {
		t.Errorf("Quit = %v", err)
	}
	if m := be.Messages(); len(m) != 1 || !strings.Contains(string(m[0].Data), "with ESMTPSA") {
		t.Errorf("messages = %d, want 1 received with ESMTPSA", len(m))
	}
}

// TestImplicitTLSHandshakeTimeout: a client that connects to an
// implicit-TLS listener and says nothing is dropped at the write timeout.
func TestImplicitTLSHandshakeTimeout(t *testing.T) {
	serverTLS, _ := testkit.TLS(t)
	srv := &Server{Backend: &MemoryBackend{}, WriteTimeout: 100 * time.Millisecond}
	addr := startServerOn(t, srv, func(c net.Conn) net.Conn { return tls.Server(c, serverTLS) })
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("silent client on implicit TLS: Read = %d, %v; want the server to close", n, err)
	}
}
