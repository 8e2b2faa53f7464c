package nntp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plumbnet/plumb/internal/wire"
	"github.com/plumbnet/plumb/sasl"
)

// Client limits.
const (
	DefaultClientMaxLine = 64 << 10 // one line of a reply, CRLF included
)

// Client is an NNTP client. Its methods are not safe for concurrent
// use; each takes a context whose deadline and cancellation bound the
// exchange (a canceled exchange leaves the connection unusable: close
// it).
type Client struct {
	// InsecureAuth allows a password over a connection that is neither
	// TLS nor loopback.
	InsecureAuth bool

	conn   net.Conn
	rw     io.ReadWriter
	br     *bufio.Reader
	lr     *wire.Reader
	bw     *bufio.Writer
	tlsCfg *tls.Config
	isTLS  bool
	mu     sync.Mutex

	// Greeting is the server's first reply: 200 (posting allowed) or 201.
	Greeting *Response
}

// Response is a status line: its code and text.
type Response struct {
	Code int
	Msg  string
}

// Dialer connects clients.
type Dialer struct {
	Timeout   time.Duration // bounds the connection and the greeting; 0: none beyond ctx
	TLSConfig *tls.Config   // for DialTLS and a later StartTLS
}

// Dial connects to addr ("host:119") in the clear.
func Dial(ctx context.Context, addr string) (*Client, error) { return (&Dialer{}).Dial(ctx, addr) }

// DialTLS connects to addr ("host:563") over implicit TLS.
func DialTLS(ctx context.Context, addr string, config *tls.Config) (*Client, error) {
	return (&Dialer{TLSConfig: config}).DialTLS(ctx, addr)
}

// Dial connects in the clear.
func (d *Dialer) Dial(ctx context.Context, addr string) (*Client, error) {
	return d.dial(ctx, addr, false)
}

// DialTLS connects over implicit TLS.
func (d *Dialer) DialTLS(ctx context.Context, addr string) (*Client, error) {
	return d.dial(ctx, addr, true)
}

func (d *Dialer) dial(ctx context.Context, addr string, implicit bool) (*Client, error) {
	ctx, cancel := wire.WithTimeout(ctx, d.Timeout)
	defer cancel()
	conn, cfg, err := wire.Dial(ctx, addr, d.TLSConfig, implicit)
	if err != nil {
		return nil, err
	}
	c := newClient(conn)
	c.tlsCfg, c.isTLS = cfg, implicit
	if err := c.greet(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// NewClient reads the greeting on conn and returns a client of it. A
// *tls.Conn counts as TLS.
func NewClient(conn net.Conn) (*Client, error) {
	c := newClient(conn)
	_, c.isTLS = conn.(*tls.Conn)
	if err := c.greet(context.Background()); err != nil {
		return nil, err
	}
	return c, nil
}

func newClient(conn net.Conn) *Client {
	c := &Client{conn: conn, rw: conn}
	c.br = bufio.NewReaderSize(readerFunc(func(p []byte) (int, error) { return c.rw.Read(p) }), 32<<10)
	c.bw = bufio.NewWriterSize(writerFunc(func(p []byte) (int, error) { return c.rw.Write(p) }), 32<<10)
	c.lr = wire.NewReader(c.br)
	c.lr.Lenient = true
	c.lr.MaxLine = DefaultClientMaxLine
	return c
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (c *Client) greet(ctx context.Context) error {
	end := c.begin(ctx)
	defer end()
	r, err := c.readResponse()
	if err != nil {
		return err
	}
	if r.Code != 200 && r.Code != 201 {
		return &Error{Code: r.Code, Msg: r.Msg}
	}
	c.Greeting = r
	return nil
}

// Close closes the connection without QUIT.
func (c *Client) Close() error { return c.conn.Close() }

// begin bounds an exchange by ctx: its deadline on the connection, and
// its cancellation cutting the connection's waits short.
func (c *Client) begin(ctx context.Context) func() {
	dl, _ := ctx.Deadline()
	c.conn.SetDeadline(dl)
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Unix(1, 0)) })
	return func() { stop() }
}

// ParseResponse parses a status line: three digits, then a space and
// text, or nothing.
func ParseResponse(line string) (*Response, error) {
	if len(line) < 3 || len(line) > 3 && line[3] != ' ' {
		return nil, fmt.Errorf("%w: %q", ErrProtocol, trimForError(line))
	}
	for _, d := range []byte(line[:3]) {
		if d < '0' || d > '9' {
			return nil, fmt.Errorf("%w: %q", ErrProtocol, trimForError(line))
		}
	}
	code, _ := strconv.Atoi(line[:3])
	if code < 100 || code > 599 {
		return nil, fmt.Errorf("%w: %q", ErrProtocol, trimForError(line))
	}
	msg := ""
	if len(line) > 4 {
		msg = line[4:]
	}
	return &Response{Code: code, Msg: msg}, nil
}

func trimForError(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

func (c *Client) readResponse() (*Response, error) {
	line, err := c.lr.ReadLine()
	if err != nil {
		if errors.Is(err, wire.ErrLineTooLong) {
			c.conn.Close()
			return nil, fmt.Errorf("%w: status line too long", ErrProtocol)
		}
		return nil, err
	}
	r, err := ParseResponse(line)
	if err != nil {
		c.conn.Close()
	}
	return r, err
}

// checkArg refuses an argument that could inject a command.
func checkArg(args ...string) error {
	for _, a := range args {
		if strings.ContainsAny(a, "\r\n\x00") {
			return ErrBadArgument
		}
	}
	return nil
}

// cmd sends one command line and reads its status; a code other than
// one of want is an *Error.
func (c *Client) cmd(ctx context.Context, want []int, format string, args ...any) (*Response, error) {
	line := fmt.Sprintf(format, args...)
	if err := checkArg(line); err != nil {
		return nil, err
	}
	end := c.begin(ctx)
	defer end()
	if _, err := c.bw.WriteString(line + "\r\n"); err != nil {
		return nil, err
	}
	if err := c.flush(); err != nil {
		return nil, err
	}
	return c.expect(want)
}

func (c *Client) flush() error {
	if err := c.bw.Flush(); err != nil {
		return err
	}
	if f, ok := c.rw.(interface{ Flush() error }); ok {
		return f.Flush()
	}
	return nil
}

func (c *Client) expect(want []int) (*Response, error) {
	r, err := c.readResponse()
	if err != nil {
		return nil, err
	}
	for _, w := range want {
		if r.Code == w {
			return r, nil
		}
	}
	return r, &Error{Code: r.Code, Msg: r.Msg}
}

// lines reads a multi-line block and calls fn with each line, the
// stuffed dot removed; after fn fails the block is still read to its
// end so the connection stays usable.
func (c *Client) lines(fn func(string) error) error {
	var ferr error
	for {
		line, err := c.lr.ReadDotLine()
		if err == io.EOF {
			return ferr
		}
		if err != nil {
			c.conn.Close()
			if errors.Is(err, wire.ErrLineTooLong) {
				return fmt.Errorf("%w: line too long", ErrProtocol)
			}
			return err
		}
		if ferr == nil {
			ferr = fn(line)
		}
	}
}

// StartTLS upgrades the connection (RFC 4642); config nil means the
// Dialer's, naming the host dialed.
func (c *Client) StartTLS(ctx context.Context, config *tls.Config) error {
	if config == nil {
		config = c.tlsCfg
	}
	if config == nil {
		host, _, _ := net.SplitHostPort(c.conn.RemoteAddr().String())
		config = wire.ClientTLS(nil, host)
	}
	if _, err := c.cmd(ctx, []int{382}, "STARTTLS"); err != nil {
		return err
	}
	end := c.begin(ctx)
	defer end()
	tc := tls.Client(c.conn, config)
	if err := tc.HandshakeContext(ctx); err != nil {
		c.conn.Close()
		return err
	}
	c.conn, c.rw, c.isTLS = tc, tc, true
	c.br.Reset(readerFunc(func(p []byte) (int, error) { return c.rw.Read(p) }))
	return nil
}

// Compress turns on COMPRESS DEFLATE (RFC 8054).
func (c *Client) Compress(ctx context.Context) error {
	if _, err := c.cmd(ctx, []int{206}, "COMPRESS DEFLATE"); err != nil {
		return err
	}
	c.rw = newDeflate(c.conn)
	return nil
}

// Auth logs in with AUTHINFO USER and PASS (RFC 4643 section 2.3).
func (c *Client) Auth(ctx context.Context, user, password string) error {
	if err := checkArg(user, password); err != nil {
		return err
	}
	if !c.isTLS && !c.InsecureAuth && !sasl.PlaintextAllowed(c.conn) {
		return ErrPlaintext
	}
	r, err := c.cmd(ctx, []int{281, 381}, "AUTHINFO USER %s", user)
	if err != nil || r.Code == 281 {
		return err
	}
	_, err = c.cmd(ctx, []int{281}, "AUTHINFO PASS %s", password)
	return err
}

// AuthSASL logs in with AUTHINFO SASL (RFC 4643 section 2.4).
func (c *Client) AuthSASL(ctx context.Context, mech sasl.Client) error {
	if !c.isTLS && !c.InsecureAuth && !sasl.PlaintextAllowed(c.conn) {
		return ErrPlaintext
	}
	name, ir, err := mech.Start()
	if err != nil {
		return err
	}
	line := "AUTHINFO SASL " + name
	if ir != nil {
		line += " " + sasl.EncodeInitialResponse(ir)
	}
	r, err := c.cmd(ctx, []int{281, 383}, "%s", line)
	end := c.begin(ctx)
	defer end()
	for err == nil && r.Code == 383 {
		chal, derr := sasl.DecodeResponse(r.Msg)
		if derr != nil {
			return derr
		}
		resp, nerr := mech.Next(chal)
		if nerr != nil {
			c.bw.WriteString("*\r\n")
			c.flush()
			c.expect(nil)
			return nerr
		}
		c.bw.WriteString(sasl.Encode(resp) + "\r\n")
		if ferr := c.flush(); ferr != nil {
			return ferr
		}
		r, err = c.expect([]int{281, 383})
	}
	return err
}

// Quit sends QUIT and closes the connection.
func (c *Client) Quit(ctx context.Context) error {
	_, err := c.cmd(ctx, []int{205}, "QUIT")
	c.conn.Close()
	return err
}
