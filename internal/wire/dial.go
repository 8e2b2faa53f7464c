package wire

import (
	"context"
	"crypto/tls"
	"net"
	"time"
)

// ClientTLS returns config (the zero config when nil) naming host as the
// server to verify when config names none; config itself is not changed.
func ClientTLS(config *tls.Config, host string) *tls.Config {
	if config == nil {
		config = &tls.Config{}
	}
	if config.ServerName == "" && host != "" {
		config = config.Clone()
		config.ServerName = host
	}
	return config
}

// WithTimeout is context.WithTimeout where a timeout of 0 or less means
// none: ctx itself, with a cancel that does nothing.
func WithTimeout(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, timeout)
}

// Dial is how every protocol client connects: to addr over TCP within
// ctx and, when implicit, over TLS from the first byte, verifying the
// server against ClientTLS(config, host of addr). It returns the
// connection and that TLS config, which a client keeps for a later
// STARTTLS.
func Dial(ctx context.Context, addr string, config *tls.Config, implicit bool) (net.Conn, *tls.Config, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	config = ClientTLS(config, host)
	var conn net.Conn
	if implicit {
		td := tls.Dialer{Config: config}
		conn, err = td.DialContext(ctx, "tcp", addr)
	} else {
		var nd net.Dialer
		conn, err = nd.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, nil, err
	}
	return conn, config, nil
}
