package daemon

import (
	"context"
	"crypto/tls"
	"net"
)

// A StreamServer is what every TCP protocol package's Server provides;
// it is net/http's shape.
type StreamServer interface {
	Serve(net.Listener) error
	Shutdown(ctx context.Context) error
	Close() error
}

// A PacketServer serves a datagram protocol on a PacketConn until Close.
type PacketServer interface {
	ServePacket(net.PacketConn) error
	Close() error
}

// A Service is one listener of one protocol: the daemon binds Addr,
// wraps the listener with its limits, metrics, PROXY protocol and TLS,
// and hands it to Stream (or the PacketConn to Packet).
type Service struct {
	Name string // shown in the table, logs and metrics: "echo", "echo/udp", "ftps"
	// Net is "tcp" or "udp".
	Net  string
	Addr string
	// TLS makes the listener implicit TLS: the server is handed a
	// listener whose connections are *tls.Conn, which is the one
	// meaning of implicit TLS in every protocol package.
	TLS bool
	// TLSConfig, if not nil, is the implicit-TLS listener's own config
	// (a protocol that tracks its session tickets); nil means the
	// daemon's, with its certificate.
	TLSConfig *tls.Config
	// Busy is written to a connection refused over a limit before it is
	// closed: the protocol's "try later" reply, or nil to just close. It
	// is not sent on a TLS listener, whose client expects a handshake.
	Busy []byte
	// MaxConns caps this service's open connections; 0 means no cap of its own.
	MaxConns int
	// ProxyProtocol expects a PROXY v1/v2 header on every connection.
	ProxyProtocol bool

	Stream StreamServer
	Packet PacketServer
}
