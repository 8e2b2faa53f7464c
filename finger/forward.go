package finger

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"

	"github.com/plumbnet/plumb/internal/lifecycle"
)

// forward answers a query naming hosts: refused unless Server.Forward,
// and then one hop only, bounded in time and size. The relayed answer
// is made harmless like everything else the server sends.
func (c *conn) forward(q Query) {
	if !c.s.Forward {
		c.text("finger: forwarding is refused here.\n")
		return
	}
	if len(q.Hosts) > 1 {
		c.text("finger: forwarding is limited to one host.\n")
		return
	}
	host := q.Hosts[0]
	port := c.s.ForwardPort
	if port <= 0 {
		port = DefaultPort
	}
	ctx := c.ctx
	if d := lifecycle.Timeout(c.s.ForwardTimeout, DefaultForwardTimeout); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	cl := Dialer{MaxResponse: lifecycle.OrDefault(c.s.MaxForwardResponse, DefaultMaxForwardResponse)}
	body, err := cl.Finger(ctx, net.JoinHostPort(host, strconv.Itoa(port)), Query{Verbose: q.Verbose, User: q.User})
	c.s.logger().Info("finger: forwarded a query", "remote", c.remote(), "host", host, "bytes", len(body), "err", err)
	if err != nil && !errors.Is(err, ErrTooLarge) && !errors.Is(err, io.ErrUnexpectedEOF) {
		c.text("finger: " + host + ": no answer.\n")
		return
	}
	c.text("[" + host + "]\n")
	c.text(string(body))
}
