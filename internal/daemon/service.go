package daemon

import (
	"context"
	"net"
	"slices"
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
	// TLS makes the listener implicit TLS with the daemon's certificate.
	TLS bool
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

// A builder turns the daemon's config and stores into the services of
// one protocol; each protocol's file in this package registers one.
type builder func(d *Daemon) ([]Service, error)

type registration struct {
	name  string
	build builder
}

var builders []registration

// builderOrder is the order services start and are listed in: DESIGN.md's
// table, by well-known port. A builder not named here comes last.
var builderOrder = []string{"simple", "ftp", "smtp", "pop3"}

// register adds a protocol's builder.
func register(name string, b builder) {
	builders = append(builders, registration{name, b})
	rank := func(n string) int {
		if i := slices.Index(builderOrder, n); i >= 0 {
			return i
		}
		return len(builderOrder)
	}
	slices.SortStableFunc(builders, func(a, b registration) int {
		return rank(a.name) - rank(b.name)
	})
}
