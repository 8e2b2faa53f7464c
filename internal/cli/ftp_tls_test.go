package cli

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbnet/plumb/ftp"
	"github.com/plumbnet/plumb/internal/testkit"
)

// startFTPForCLI serves a MemoryBackend with user bob (password "pw"),
// with TLS when withTLS is set, and returns its address.
func startFTPForCLI(t *testing.T, withTLS bool) string {
	t.Helper()
	be := ftp.NewMemoryBackend()
	be.AddUser("bob", "pw").WriteFile("f.txt", []byte("data\n"))
	be.SetAnonymous(ftp.NewMemoryFS())
	srv := &ftp.Server{Backend: be}
	if withTLS {
		srv.TLSConfig, _ = testkit.TLS(t)
		srv.LoginTLS = ftp.TLSRequired
	}
	return testkit.Serve(t, srv, nil)
}

// connectForCLI runs ftpConnect as plumb get would, with flags f.
func connectForCLI(t *testing.T, raw string, f transferFlags) (*ftp.Client, string, error) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if f.timeout == 0 {
		f.timeout = 5 * time.Second
	}
	var stderr bytes.Buffer
	c, err := ftpConnect(context.Background(), u, ftpDialOptions{flags: &f, stdin: strings.NewReader(""), stderr: &stderr})
	if c != nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, stderr.String(), err
}

// pretendAfar makes the peer look off loopback and standard error a
// terminal, and lets the plain-text warning be given again.
func pretendAfar(t *testing.T) {
	loop, term := ftpPeerLoopback, ftpStderrTerminal
	ftpPeerLoopback = func(*ftp.Client) bool { return false }
	ftpStderrTerminal = func(io.Writer) bool { return true }
	ftpPlainWarning = sync.Once{}
	t.Cleanup(func() { ftpPeerLoopback, ftpStderrTerminal, ftpPlainWarning = loop, term, sync.Once{} })
}

// Without --ssl-reqd, plumb still uses AUTH TLS where the server offers
// it (the server here refuses logins in the clear); on loopback plumb
// serve's self-signed certificate needs no --ca.
func TestFTPConnectTriesTLS(t *testing.T) {
	addr := startFTPForCLI(t, true)
	c, stderr, err := connectForCLI(t, "ftp://bob:pw@"+addr+"/f.txt", transferFlags{})
	if err != nil {
		t.Fatalf("ftpConnect(TLS server, no --ssl-reqd) = %v, want a TLS session", err)
	}
	if !c.IsTLS() || stderr != "" {
		t.Errorf("ftpConnect(TLS server): IsTLS() = %v, stderr %q; want TLS and no warning", c.IsTLS(), stderr)
	}
	var buf bytes.Buffer
	if _, err := c.Retr("f.txt", &buf); err != nil || buf.String() != "data\n" {
		t.Errorf("Retr(f.txt) over the TLS session = %q, %v; want %q", buf.String(), err, "data\n")
	}
	// Anonymous logins stay in the clear, as lftp's do.
	if c, _, err := connectForCLI(t, "ftp://"+addr+"/", transferFlags{}); err != nil || c.IsTLS() {
		t.Errorf("ftpConnect(anonymous) = IsTLS %v, %v; want a plain session", c != nil && c.IsTLS(), err)
	}
}

// A server with no TLS: plain text, without a word on loopback.
func TestFTPConnectPlainOnLoopback(t *testing.T) {
	addr := startFTPForCLI(t, false)
	c, stderr, err := connectForCLI(t, "ftp://bob:pw@"+addr+"/", transferFlags{})
	if err != nil || c.IsTLS() || stderr != "" {
		t.Fatalf("ftpConnect(plain server) = IsTLS %v, stderr %q, %v; want plain, silent, no error", c != nil && c.IsTLS(), stderr, err)
	}
}

// Off loopback: plain text is warned about once per run, on a terminal;
// a certificate that fails the check is an error with advice, and --ca
// makes it pass.
func TestFTPConnectAfar(t *testing.T) {
	pretendAfar(t)
	plain := startFTPForCLI(t, false)
	_, first, err := connectForCLI(t, "ftp://bob:pw@"+plain+"/", transferFlags{})
	if err != nil || !strings.Contains(first, "warning") || !strings.Contains(first, "no TLS") {
		t.Fatalf("ftpConnect(plain server afar) = stderr %q, %v; want a warning", first, err)
	}
	if _, again, _ := connectForCLI(t, "ftp://bob:pw@"+plain+"/", transferFlags{}); again != "" {
		t.Errorf("second ftpConnect(plain server afar) stderr = %q, want nothing: the warning comes once", again)
	}

	secure := startFTPForCLI(t, true)
	if _, _, err := connectForCLI(t, "ftp://bob:pw@"+secure+"/", transferFlags{}); err == nil || !strings.Contains(err.Error(), "--ca") {
		t.Errorf("ftpConnect(TLS server afar, untrusted certificate) = %v, want an error advising --ca", err)
	}
	cert, _ := testkit.TLSFiles(t, t.TempDir())
	c, stderr, err := connectForCLI(t, "ftp://bob:pw@"+secure+"/", transferFlags{caFile: cert})
	if err != nil || !c.IsTLS() || stderr != "" {
		t.Errorf("ftpConnect(TLS server afar, --ca) = IsTLS %v, stderr %q, %v; want TLS", c != nil && c.IsTLS(), stderr, err)
	}
}
