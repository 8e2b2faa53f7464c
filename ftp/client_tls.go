package ftp

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
)

// dataTLSConfig returns the TLS configuration for the control and data
// connections: one session cache and one ServerName for all, so that
// data connections resume the control connection's session as servers
// that require session reuse (vsftpd's require_ssl_reuse) demand.
func (c *Client) dataTLSConfig(base *tls.Config) *tls.Config {
	var cfg *tls.Config
	if base != nil {
		cfg = base.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = c.host
	}
	if cfg.ClientSessionCache == nil {
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(8)
	}
	return cfg
}

// AuthTLS secures the control connection with AUTH TLS (RFC 4217) and
// makes data connections TLS too once logged in (PBSZ 0, PROT P).
// A nil config uses the Dialer's, or the system roots and the host name.
func (c *Client) AuthTLS(config *tls.Config) error {
	if c.tlsConfig != nil {
		return errors.New("ftp: the connection is already TLS")
	}
	if _, err := c.expect(234, "AUTH TLS"); err != nil {
		return err
	}
	if config == nil {
		config = c.dialTLS
	}
	cfg := c.dataTLSConfig(config)
	tconn := tls.Client(c.conn, cfg)
	tconn.SetDeadline(lifecycle.Deadline(c.timeout))
	if err := tconn.Handshake(); err != nil {
		return fmt.Errorf("ftp: TLS handshake: %w", err)
	}
	tconn.SetDeadline(time.Time{})
	// A fresh reader: nothing the server sent in plain text before the
	// handshake may be read as a reply after it; and features are asked
	// again, since a server may offer others under TLS.
	c.conn, c.r, c.tlsConfig, c.protP = tconn, replyReader(tconn), cfg, true
	c.features = nil
	return nil
}

// RemoteAddr returns the address of the server's end of the control connection.
func (c *Client) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }

// IsTLS reports whether the control connection is TLS.
func (c *Client) IsTLS() bool { return c.tlsConfig != nil }

// TLSConnectionState returns the control connection's TLS state, or false.
func (c *Client) TLSConnectionState() (tls.ConnectionState, bool) {
	if tc, ok := c.conn.(*tls.Conn); ok {
		return tc.ConnectionState(), true
	}
	return tls.ConnectionState{}, false
}
