package finger

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
	"github.com/plumbnet/plumb/internal/wire"
)

// DefaultTimeout bounds dialing and the whole exchange when a Timeout is 0.
const DefaultTimeout = 30 * time.Second

// DefaultMaxResponse bounds the answer a Client reads when its
// MaxResponse is 0.
const DefaultMaxResponse = 1 << 20

// ErrTooLarge is returned, with the part read, for an answer longer
// than the client's MaxResponse.
var ErrTooLarge = errors.New("finger: answer too large")

// A Dialer holds the options of a finger connection.
type Dialer struct {
	// Timeout bounds the dial and the whole exchange; 0 means
	// DefaultTimeout, negative means no limit (ctx still applies).
	Timeout time.Duration
	// MaxResponse bounds the answer read; 0 means DefaultMaxResponse.
	MaxResponse int
}

// Finger connects to addr ("host:79"), sends q and returns the answer
// as the server sent it: raw bytes, which may hold anything; pass them
// through [Harmless] before showing them on a terminal.
func (d *Dialer) Finger(ctx context.Context, addr string, q Query) ([]byte, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	ctx, cancel := wire.WithTimeout(ctx, lifecycle.Timeout(d.Timeout, DefaultTimeout))
	defer cancel()
	nc, _, err := wire.Dial(ctx, addr, nil, false)
	if err != nil {
		return nil, err
	}
	c, _ := NewClient(nc)
	defer c.Close()
	c.MaxResponse = d.MaxResponse
	return c.Query(ctx, q)
}

// Finger is Dialer{}.Finger: a query with the default limits.
func Finger(ctx context.Context, addr string, q Query) ([]byte, error) {
	var d Dialer
	return d.Finger(ctx, addr, q)
}

// Client is one finger connection, good for one query (the server
// closes after its answer).
type Client struct {
	// MaxResponse bounds the answer read; 0 means DefaultMaxResponse.
	MaxResponse int

	conn net.Conn
}

// NewClient returns a client on a connection of the caller's.
func NewClient(conn net.Conn) (*Client, error) { return &Client{conn: conn}, nil }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Query sends q and reads the answer to the end of the stream, within
// ctx. An answer over MaxResponse is ErrTooLarge with the first
// MaxResponse bytes.
func (c *Client) Query(ctx context.Context, q Query) ([]byte, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		c.conn.SetDeadline(dl)
	}
	if _, err := io.WriteString(c.conn, q.String()+"\r\n"); err != nil {
		return nil, c.ctxErr(ctx, err)
	}
	max := lifecycle.OrDefault(c.MaxResponse, DefaultMaxResponse)
	body, err := io.ReadAll(io.LimitReader(c.conn, int64(max)+1))
	if err != nil {
		return body, c.ctxErr(ctx, err)
	}
	if len(body) > max {
		return body[:max], fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	return body, nil
}

func (c *Client) ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("finger: %w", ctx.Err())
	}
	return fmt.Errorf("finger: %w", err)
}
