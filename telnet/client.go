package telnet

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"time"
)

// A Dialer connects telnet clients.
type Dialer struct {
	// Timeout bounds connecting and the TLS handshake; 0 means 30s.
	Timeout time.Duration
	// TLSConfig is used by DialTLS; nil means a default config for the
	// host dialled.
	TLSConfig *tls.Config
}

// Dial connects to addr ("host:port").
func Dial(ctx context.Context, addr string) (*Client, error) { return (&Dialer{}).Dial(ctx, addr) }

func (d *Dialer) timeout() time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return 30 * time.Second
}

// Dial connects to addr over plain TCP.
func (d *Dialer) Dial(ctx context.Context, addr string) (*Client, error) {
	nd := net.Dialer{Timeout: d.timeout()}
	nc, err := nd.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return NewClient(nc)
}

// DialTLS connects to addr with implicit TLS (telnets, port 992).
func (d *Dialer) DialTLS(ctx context.Context, addr string) (*Client, error) {
	cfg := d.TLSConfig
	if cfg == nil {
		host, _, _ := net.SplitHostPort(addr)
		cfg = &tls.Config{ServerName: host}
	}
	td := tls.Dialer{NetDialer: &net.Dialer{Timeout: d.timeout()}, Config: cfg}
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	nc, err := td.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return NewClient(nc)
}

// A Client is the user's end of a telnet connection. Read returns the
// server's data with negotiation answered on the way (RFC 1143: every
// option the client does not know is refused); Write sends data.
// Read is for one goroutine; Write and the other methods may be called
// from others meanwhile.
//
// Set TermType, Env and the window size (SetWindowSize) before the
// first Read: they are what the client tells a server that asks.
type Client struct {
	// TermType is sent for TTYPE (RFC 1091), e.g. "xterm"; empty
	// refuses TTYPE.
	TermType string
	// Env is offered for NEW-ENVIRON (RFC 1572); nil refuses it.
	Env []EnvVar

	nc  net.Conn
	w   *Writer
	p   Parser
	buf []byte
	out []byte // decoded data not yet returned by Read

	mu         sync.Mutex
	neg        Negotiator
	cols, rows int
}

// NewClient wraps an open connection. The client only answers the
// server's requests until Negotiate is called.
func NewClient(nc net.Conn) (*Client, error) {
	c := &Client{nc: nc, w: NewWriter(nc), buf: make([]byte, 4096)}
	c.neg = Negotiator{AcceptLocal: c.acceptLocal, AcceptRemote: clientRemote}
	return c, nil
}

// acceptLocal is what the client agrees to do: suppress go-ahead, and
// send what it has been given to send.
func (c *Client) acceptLocal(o Option) bool {
	switch o {
	case SuppressGoAhead:
		return true
	case TerminalType:
		return c.TermType != ""
	case NAWS:
		return c.cols > 0 && c.rows > 0
	case NewEnviron:
		return c.Env != nil
	}
	return false
}

// clientRemote is what the client lets the server do: echo (the client
// then stops echoing) and suppress go-ahead.
func clientRemote(o Option) bool { return o == Echo || o == SuppressGoAhead }

// Negotiate starts the negotiation a terminal client makes: it offers
// what it can send (terminal type, window size, environment) and asks
// the server to suppress go-ahead and to echo.
func (c *Client) Negotiate() error {
	c.mu.Lock()
	var b []byte
	add := func(r Result) { b = append(b, r.Send...) }
	add(c.neg.EnableRemote(SuppressGoAhead))
	add(c.neg.EnableRemote(Echo))
	if c.TermType != "" {
		add(c.neg.EnableLocal(TerminalType))
	}
	if c.cols > 0 && c.rows > 0 {
		add(c.neg.EnableLocal(NAWS))
	}
	if c.Env != nil {
		add(c.neg.EnableLocal(NewEnviron))
	}
	c.mu.Unlock()
	return c.w.Raw(b)
}

// Read reads the server's data.
func (c *Client) Read(p []byte) (int, error) {
	for len(c.out) == 0 {
		n, err := c.nc.Read(c.buf)
		if n > 0 {
			c.p.Parse(c.buf[:n], c.token)
		}
		if err != nil && len(c.out) == 0 {
			return 0, err
		}
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	return n, nil
}

func (c *Client) token(t Token) {
	switch t.Verb {
	case 0:
		c.out = append(c.out, t.Data...)
	case WILL, WONT, DO, DONT:
		c.mu.Lock()
		r := c.neg.Receive(t.Verb, t.Option)
		send := r.Send
		if r.Changed != nil && !r.Changed.Remote && r.Changed.Enabled && r.Changed.Option == NAWS {
			send = AppendSub(send, NAWS, nawsParams(c.cols, c.rows))
		}
		c.mu.Unlock()
		c.w.Raw(send)
	case SB:
		c.sub(t)
	}
}

func (c *Client) sub(t Token) {
	if t.TooLong || len(t.Sub) == 0 {
		return
	}
	c.mu.Lock()
	local := c.neg.Local(t.Option)
	c.mu.Unlock()
	if !local || t.Sub[0] != subSEND {
		return
	}
	switch t.Option {
	case TerminalType:
		c.w.Sub(TerminalType, termTypeIs(c.TermType))
	case NewEnviron:
		c.w.Sub(NewEnviron, environParams(subIS, c.Env))
	}
}

// Write sends p as data; a CR alone (a raw terminal's Enter) goes out
// as CR NUL, and IAC is doubled.
func (c *Client) Write(p []byte) (int, error) { return c.w.Write(p) }

// SetWindowSize records the window size and, once the server accepted
// NAWS, tells it (RFC 1073).
func (c *Client) SetWindowSize(cols, rows int) error {
	c.mu.Lock()
	c.cols, c.rows = cols, rows
	on := c.neg.Local(NAWS)
	c.mu.Unlock()
	if !on {
		return nil
	}
	return c.w.Sub(NAWS, nawsParams(cols, rows))
}

// RemoteEcho reports whether the server echoes what the client sends.
func (c *Client) RemoteEcho() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.neg.Remote(Echo)
}

// Enabled reports whether the option is on for the server's side
// (remote) or the client's.
func (c *Client) Enabled(opt Option, remote bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if remote {
		return c.neg.Remote(opt)
	}
	return c.neg.Local(opt)
}

// Break sends IAC BRK.
func (c *Client) Break() error { return c.w.Command(BRK) }

// Interrupt sends IAC IP.
func (c *Client) Interrupt() error { return c.w.Command(IP) }

// AreYouThere sends IAC AYT.
func (c *Client) AreYouThere() error { return c.w.Command(AYT) }

// Conn returns the underlying connection.
func (c *Client) Conn() net.Conn { return c.nc }

// Close closes the connection.
func (c *Client) Close() error { return c.nc.Close() }
