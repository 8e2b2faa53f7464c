package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plumbnet/plumb/internal/testkit"
)

// TestTLSClientConfig: the one helper behind every command's --ca and
// --insecure: a usable --ca file becomes the roots, a missing one or
// one without a certificate is a usage error naming --ca.
func TestTLSClientConfig(t *testing.T) {
	dir := t.TempDir()
	certFile, _ := testkit.TLSFiles(t, dir)
	cfg, err := tlsClientConfig("example.org", true, certFile)
	if err != nil || cfg.ServerName != "example.org" || !cfg.InsecureSkipVerify || cfg.RootCAs == nil {
		t.Fatalf("tlsClientConfig with a CA = %+v, %v", cfg, err)
	}
	if cfg, err := tlsClientConfig("h", false, ""); err != nil || cfg.RootCAs != nil || cfg.InsecureSkipVerify {
		t.Errorf("tlsClientConfig without flags = %+v, %v; want the system's roots, verified", cfg, err)
	}
	notPEM := filepath.Join(dir, "not.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o600)
	for _, bad := range []string{filepath.Join(dir, "missing.pem"), notPEM} {
		_, err := tlsClientConfig("h", false, bad)
		if err == nil || !strings.Contains(err.Error(), "--ca") || exitCode(err) != 2 {
			t.Errorf("tlsClientConfig(--ca %s) = %v (exit %d), want a usage error naming --ca", bad, err, exitCode(err))
		}
	}
}
