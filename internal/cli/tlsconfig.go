package cli

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// tlsClientConfig is the TLS configuration of a client command's
// --insecure and --ca flags, for a server named host. An unreadable
// --ca file, or one without a PEM certificate, is a usage error
// (exit status 2).
func tlsClientConfig(host string, insecure bool, caFile string) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: host, InsecureSkipVerify: insecure, MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, withExit(2, fmt.Errorf("--ca: %w", err))
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, withExit(2, fmt.Errorf("--ca %s: no PEM certificate in it", caFile))
	}
	cfg.RootCAs = pool
	return cfg, nil
}
