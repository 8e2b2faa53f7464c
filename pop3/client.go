package pop3

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
	"github.com/plumbnet/plumb/internal/wire"
)

// DefaultTimeout bounds dialing, and each wait for the server, when a
// Timeout is 0.
const DefaultTimeout = 60 * time.Second

// DefaultMaxMessageSize bounds what one reply may make a Client hold
// in memory when its MaxMessageSize is 0.
const DefaultMaxMessageSize = 128 << 20

// Limits on the lines a server may send, so that a hostile or broken
// one cannot make the client buffer without bound.
const (
	maxReplyLine = 8 << 10 // a status, challenge, CAPA or listing line; RFC 2449 says 512
	maxBodyLine  = 1 << 20 // a line of a message; RFC 5322 says 1000
)

// Client is a POP3 client connection. It is not safe for concurrent use.
//
// Deadlines: every method that talks to the server bounds each wait by
// Timeout: the write of the command, the status line, and each line of
// a multi-line reply, so a long message arriving steadily is never cut.
type Client struct {
	// Greeting is the server's greeting line after "+OK ".
	Greeting string
	// Timeout bounds each wait for the server; 0 means DefaultTimeout,
	// negative means no limit.
	Timeout time.Duration
	// MaxMessageSize bounds what one reply may make the client hold: a
	// message of Retr, Top or Fetch, or a CAPA, LIST or UIDL listing.
	// 0 means DefaultMaxMessageSize, negative means no limit. RetrTo
	// streams and is bounded only line by line.
	MaxMessageSize int64
	// InsecureAuth lets passwords go out without TLS to a non-loopback server.
	InsecureAuth bool

	conn      net.Conn
	br        *bufio.Reader
	lr        *wire.Reader
	bw        *bufio.Writer
	tlsConfig *tls.Config // for StartTLS(nil): the Dialer's, naming the server
	tls       bool
	timestamp string
	line      []byte // scratch for a message line and its CRLF
}

// MessageInfo is one line of a LIST or UIDL listing.
type MessageInfo struct {
	Num  int
	Size int64  // from LIST
	UID  string // from UIDL
}

// A Dialer connects to POP3 servers. Its zero value is ready to use.
type Dialer struct {
	// Timeout bounds connecting, the TLS handshake and the greeting,
	// and becomes the Client's Timeout; 0 means DefaultTimeout,
	// negative means no limit (ctx still applies).
	Timeout time.Duration
	// TLSConfig is used by DialTLS, and by StartTLS when given nil; nil
	// means the defaults. An empty ServerName is the host of the
	// address dialled.
	TLSConfig *tls.Config
}

// Dial connects to the POP3 server at addr ("host:110") with a zero Dialer.
func Dial(ctx context.Context, addr string) (*Client, error) {
	var d Dialer
	return d.Dial(ctx, addr)
}

// DialTLS connects to a POP3S server (implicit TLS, port 995) at addr
// with a Dialer using config.
func DialTLS(ctx context.Context, addr string, config *tls.Config) (*Client, error) {
	d := Dialer{TLSConfig: config}
	return d.DialTLS(ctx, addr)
}

// Dial connects to the POP3 server at addr and reads its greeting.
func (d *Dialer) Dial(ctx context.Context, addr string) (*Client, error) {
	return d.dial(ctx, addr, false)
}

// DialTLS connects to the implicit-TLS server at addr, verifying its
// certificate against TLSConfig, and reads its greeting.
func (d *Dialer) DialTLS(ctx context.Context, addr string) (*Client, error) {
	return d.dial(ctx, addr, true)
}

func (d *Dialer) dial(ctx context.Context, addr string, implicit bool) (*Client, error) {
	ctx, cancel := wire.WithTimeout(ctx, lifecycle.Timeout(d.Timeout, DefaultTimeout))
	defer cancel()
	conn, config, err := wire.Dial(ctx, addr, d.TLSConfig, implicit)
	if err != nil {
		return nil, fmt.Errorf("pop3: %w", err)
	}
	c := newClient(conn)
	c.Timeout, c.tlsConfig = d.Timeout, config
	if err := c.greet(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// NewClient starts a session on conn, already connected to the server,
// and reads the greeting within DefaultTimeout. To use StartTLS on it,
// pass a tls.Config that names the server.
func NewClient(conn net.Conn) (*Client, error) {
	c := newClient(conn)
	if err := c.greet(context.Background()); err != nil {
		return nil, err
	}
	return c, nil
}

func newClient(conn net.Conn) *Client {
	c := &Client{conn: conn, br: bufio.NewReaderSize(conn, 32<<10), bw: bufio.NewWriter(conn)}
	_, c.tls = conn.(*tls.Conn)
	c.lr = wire.NewReader(c.br)
	c.lr.Lenient = true // a server's bare LF ends a line
	c.lr.Conn = conn
	return c
}

// greet reads the greeting, ctx ending the wait.
func (c *Client) greet(ctx context.Context) error {
	// The reader sets no deadline of its own here, so that ctx's cannot
	// be overwritten.
	c.lr.Conn = nil
	defer func() { c.lr.Conn = c.conn }()
	dl := lifecycle.Deadline(lifecycle.Timeout(c.Timeout, DefaultTimeout))
	if d, ok := ctx.Deadline(); ok && (dl.IsZero() || d.Before(dl)) {
		dl = d
	}
	c.conn.SetReadDeadline(dl)
	stop := context.AfterFunc(ctx, func() { c.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	line, err := c.status("greeting")
	if err != nil {
		c.conn.Close()
		if ctx.Err() != nil {
			return fmt.Errorf("pop3: reading greeting: %w", ctx.Err())
		}
		// The read deadline is ctx's, and may fire a moment before ctx's own timer.
		if d, ok := ctx.Deadline(); ok && errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(d) {
			return fmt.Errorf("pop3: reading greeting: %w", context.DeadlineExceeded)
		}
		return err
	}
	c.Greeting = line
	if i := strings.IndexByte(line, '<'); i >= 0 {
		if j := strings.IndexByte(line[i:], '>'); j > 0 {
			c.timestamp = line[i : i+j+1]
		}
	}
	return nil
}

// Close closes the connection without QUIT: the server deletes nothing.
func (c *Client) Close() error { return c.conn.Close() }

// TLS reports whether the connection is under TLS.
func (c *Client) TLS() bool { return c.tls }

func checkArgs(cmd string, args ...string) error {
	for _, a := range args {
		if strings.ContainsAny(a, "\r\n\x00") {
			return fmt.Errorf("%w: %s", ErrBadArgument, cmd) // a password is not quoted
		}
	}
	return nil
}

func (c *Client) timeout() time.Duration {
	if t := lifecycle.Timeout(c.Timeout, DefaultTimeout); t > 0 {
		return t
	}
	return -1 // internal/wire's "none"
}

func (c *Client) maxMessageSize() int64 {
	return max(orDefault64(c.MaxMessageSize, DefaultMaxMessageSize), 0)
}

func orDefault64(v, d int64) int64 {
	if v == 0 {
		return d
	}
	return v
}

// flush writes what is buffered within the timeout.
func (c *Client) flush() error {
	c.conn.SetWriteDeadline(lifecycle.Deadline(lifecycle.Timeout(c.Timeout, DefaultTimeout)))
	return c.bw.Flush()
}

// send writes one command line.
func (c *Client) send(line string) error {
	c.bw.WriteString(line)
	c.bw.WriteString("\r\n")
	return c.flush()
}

// read reads one line of at most max bytes without its line end, with
// dot, one line of a multi-line reply (io.EOF at its end). A line over
// max closes the connection: the session cannot be trusted after it.
func (c *Client) read(max int, dot bool) (string, error) {
	c.lr.IdleTimeout, c.lr.LineTimeout, c.lr.MaxLine = c.timeout(), c.timeout(), max
	var line string
	var err error
	if dot {
		line, err = c.lr.ReadDotLine()
	} else {
		line, err = c.lr.ReadLine()
	}
	if errors.Is(err, wire.ErrLineTooLong) {
		c.conn.Close()
		return "", fmt.Errorf("%w: line over %d bytes; connection closed", ErrProtocol, max)
	}
	return line, err
}

// status reads a +OK/-ERR reply and returns the text after "+OK ".
func (c *Client) status(cmd string) (string, error) {
	line, err := c.read(maxReplyLine, false)
	if err != nil {
		return "", err
	}
	return parseStatus(cmd, line)
}

func parseStatus(cmd, line string) (string, error) {
	switch {
	case line == "+OK" || strings.HasPrefix(line, "+OK "):
		return strings.TrimPrefix(strings.TrimPrefix(line, "+OK"), " "), nil
	case line == "-ERR" || strings.HasPrefix(line, "-ERR "):
		msg := strings.TrimPrefix(strings.TrimPrefix(line, "-ERR"), " ")
		e := &Error{Command: cmd, Msg: msg}
		if strings.HasPrefix(msg, "[") {
			if i := strings.IndexByte(msg, ']'); i > 0 {
				e.Code, e.Msg = msg[1:i], strings.TrimPrefix(msg[i+1:], " ")
			}
		}
		return "", e
	}
	return "", fmt.Errorf("%w to %s: %.80q", ErrProtocol, cmd, line)
}

// cmd sends a command and reads its status line.
func (c *Client) cmd(name string, args ...string) (string, error) {
	if err := checkArgs(name, args...); err != nil {
		return "", err
	}
	line := name
	if len(args) > 0 {
		line += " " + strings.Join(args, " ")
	}
	if err := c.send(line); err != nil {
		return "", err
	}
	return c.status(name)
}

// tooLarge closes the connection over a reply larger than limit.
func (c *Client) tooLarge(what string, limit int64) error {
	c.conn.Close()
	return fmt.Errorf("%w: %s over %d bytes (Client.MaxMessageSize); connection closed", ErrTooLarge, what, limit)
}

// readDotLines reads a multi-line listing's lines, stuffing undone.
func (c *Client) readDotLines(cmd string) ([]string, error) {
	var lines []string
	limit, size := c.maxMessageSize(), int64(0)
	for {
		line, err := c.read(maxReplyLine, true)
		if err == io.EOF {
			return lines, nil
		}
		if err != nil {
			return nil, err
		}
		if size += int64(len(line)) + 2; limit > 0 && size > limit {
			return nil, c.tooLarge(cmd+" listing", limit)
		}
		lines = append(lines, line)
	}
}

// readBody copies a multi-line body to w with stuffing undone and CRLF
// line ends, failing once it passes limit bytes (0: no limit).
func (c *Client) readBody(w io.Writer, limit int64) (int64, error) {
	var n int64
	for {
		line, err := c.read(maxBodyLine, true)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if limit > 0 && n+int64(len(line))+2 > limit {
			return n, c.tooLarge("message", limit)
		}
		if cap(c.line) > 64<<10 {
			c.line = nil // do not keep a large buffer for a rare long line
		}
		c.line = append(append(c.line[:0], line...), '\r', '\n')
		m, werr := w.Write(c.line)
		n += int64(m)
		if werr != nil {
			c.readBody(io.Discard, 0) // keep the session in step
			return n, werr
		}
	}
}
