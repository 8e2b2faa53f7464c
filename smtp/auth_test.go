package smtp

import (
	"crypto/tls"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/plumbnet/plumb/internal/testkit"
)

func plainIR(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
}

func TestAuthPlainAndLogin(t *testing.T) {
	be := &MemoryBackend{Users: map[string]string{"alice": "s3cret"}}
	addr := startServer(t, &Server{Backend: be, AuthRequired: true})
	s := dialSession(t, addr)
	if ehlo := s.cmd("EHLO client.test", "250 "); !strings.Contains(ehlo, "250-AUTH PLAIN LOGIN") {
		t.Errorf("EHLO = %q, want AUTH PLAIN LOGIN offered on loopback", ehlo)
	}
	s.cmd("MAIL FROM:<alice@mx.test>", "530 5.7.0")
	s.cmd("AUTH PLAIN "+plainIR("alice", "wrong"), "535 5.7.8")
	s.cmd("AUTH CRAM-MD5", "504 ")
	s.cmd("AUTH PLAIN !!!", "501 ")
	s.cmd("AUTH PLAIN", "334 ")
	s.cmd("*", "501 ")
	s.cmd("AUTH LOGIN", "334 VXNlcm5hbWU6")
	s.cmd(base64.StdEncoding.EncodeToString([]byte("alice")), "334 UGFzc3dvcmQ6")
	s.cmd(base64.StdEncoding.EncodeToString([]byte("s3cret")), "235 2.7.0")
	s.cmd("AUTH PLAIN "+plainIR("alice", "s3cret"), "503 ")
	s.cmd("MAIL FROM:<alice@mx.test>", "250 ")
	s.cmd("RCPT TO:<x@elsewhere.test>", "250 ")
	s.cmd("DATA", "354 ")
	s.send("x\r\n.\r\n")
	s.expect("250 ")
	m := be.Messages()[0]
	if m.User != "alice" || !strings.Contains(string(m.Data), "with ESMTPA id") {
		t.Errorf("message user = %q, Received: %q; want alice and ESMTPA", m.User, m.Data)
	}

	s2 := dialSession(t, addr)
	s2.cmd("EHLO client.test", "250 ")
	s2.cmd("AUTH PLAIN "+plainIR("alice", "s3cret"), "235 ")
}

func TestAuthRefusedInClearFromAfar(t *testing.T) {
	serverTLS, clientTLS := testkit.TLS(t)
	be := &MemoryBackend{Users: map[string]string{"alice": "s3cret"}}
	addr := startServerOn(t, &Server{Backend: be, TLSConfig: serverTLS, TLSRequired: true, AuthRequired: true}, fromAfar)
	s := dialSession(t, addr)
	ehlo := s.cmd("EHLO client.test", "250 ")
	if strings.Contains(ehlo, "AUTH") || !strings.Contains(ehlo, "STARTTLS") {
		t.Errorf("EHLO from afar without TLS = %q, want STARTTLS and no AUTH", ehlo)
	}
	s.cmd("AUTH PLAIN "+plainIR("alice", "s3cret"), "538 5.7.11")
	s.cmd("MAIL FROM:<alice@mx.test>", "530 5.7.0 Must issue a STARTTLS")
	// STARTTLS, with a command pipelined in clear behind it: the
	// injected RSET must not be answered after the handshake.
	s.send("STARTTLS\r\nRSET\r\n")
	s.expect("220 ")
	tc := tls.Client(s.Conn, clientTLS)
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	s.Transcript = testkit.NewTranscript(t, tc)
	s.cmd("MAIL FROM:<alice@mx.test>", "503 5.5.1") // EHLO forgotten
	ehlo = s.cmd("EHLO client.test", "250 ")
	if !strings.Contains(ehlo, "AUTH PLAIN LOGIN") || strings.Contains(ehlo, "STARTTLS") {
		t.Errorf("EHLO after STARTTLS = %q, want AUTH and no STARTTLS", ehlo)
	}
	s.cmd("STARTTLS", "503 ")
	s.cmd("AUTH PLAIN "+plainIR("alice", "s3cret"), "235 ")
	s.cmd("MAIL FROM:<alice@mx.test>", "250 ")
	s.cmd("RCPT TO:<x@mx.test>", "250 ")
	s.cmd("DATA", "354 ")
	s.send("x\r\n.\r\n")
	s.expect("250 ")
	if m := be.Messages()[0]; !strings.Contains(string(m.Data), "with ESMTPSA id") || !strings.Contains(string(m.Data), "(using TLS") {
		t.Errorf("Received: = %q, want ESMTPSA and the TLS version", m.Data)
	}
}
