package imap

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
	"github.com/plumbnet/plumb/internal/wire"
	"github.com/plumbnet/plumb/sasl"
)

// DefaultTimeout bounds a command of a Client whose Timeout is zero.
const DefaultTimeout = 60 * time.Second

// A Dialer connects to IMAP servers.
type Dialer struct {
	// Timeout bounds the connection, greeting and each command; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// TLSConfig is used for implicit TLS and STARTTLS; nil means the
	// defaults with the host from the address.
	TLSConfig *tls.Config
}

// Dial connects to the IMAP server at addr ("host:143").
func Dial(ctx context.Context, addr string) (*Client, error) {
	var d Dialer
	return d.Dial(ctx, addr)
}

// DialTLS connects to an imaps server (implicit TLS, port 993).
func DialTLS(ctx context.Context, addr string, config *tls.Config) (*Client, error) {
	d := Dialer{TLSConfig: config}
	return d.DialTLS(ctx, addr)
}

// Dial connects to addr and reads the greeting.
func (d *Dialer) Dial(ctx context.Context, addr string) (*Client, error) {
	return d.dial(ctx, addr, false)
}

// DialTLS connects to the implicit-TLS server at addr and reads the greeting.
func (d *Dialer) DialTLS(ctx context.Context, addr string) (*Client, error) {
	return d.dial(ctx, addr, true)
}

func (d *Dialer) dial(ctx context.Context, addr string, implicit bool) (*Client, error) {
	ctx, cancel := wire.WithTimeout(ctx, lifecycle.Timeout(d.Timeout, DefaultTimeout))
	defer cancel()
	conn, config, err := wire.Dial(ctx, addr, d.TLSConfig, implicit)
	if err != nil {
		return nil, fmt.Errorf("imap: %w", err)
	}
	c := newClient(conn)
	c.Timeout, c.tlsConfig = d.Timeout, config
	if err := c.greet(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// Client is an IMAP client. Its methods may be called from one
// goroutine at a time, except Close; each command is bounded by its
// context and by Timeout.
type Client struct {
	// Greeting is the server's greeting text.
	Greeting string
	// Timeout bounds each command; 0 means DefaultTimeout.
	Timeout time.Duration
	// Untagged, if set, receives as they come the untagged responses no
	// command asked for: EXISTS, EXPUNGE and FETCH FLAGS of changes
	// others made, alerts, BYE.
	Untagged func(*Response)
	// MaxLiteral bounds a literal the server sends; 0 means DefaultMaxClientLiteral.
	MaxLiteral int64
	// InsecureAuth sends passwords without TLS to servers not on loopback.
	InsecureAuth bool

	conn      net.Conn
	br        *bufio.Reader
	bw        *bufio.Writer
	rr        respReader
	tlsConfig *tls.Config
	caps      map[string]bool
	tag       int
	mu        sync.Mutex
	preauth   bool
}

// NewClient starts a session on conn and reads the greeting.
func NewClient(conn net.Conn) (*Client, error) {
	c := newClient(conn)
	if err := c.greet(context.Background()); err != nil {
		return nil, err
	}
	return c, nil
}

func newClient(conn net.Conn) *Client {
	c := &Client{conn: conn}
	c.reset()
	return c
}

func (c *Client) reset() {
	c.br = bufio.NewReaderSize(c.conn, 32<<10)
	c.bw = bufio.NewWriter(c.conn)
	c.rr = respReader{br: c.br, maxResp: DefaultMaxResponse, maxLiteral: DefaultMaxClientLiteral}
	if c.MaxLiteral > 0 {
		c.rr.maxLiteral = c.MaxLiteral
	}
}

func (c *Client) deadline(ctx context.Context) func() {
	t := time.Now().Add(lifecycle.Timeout(c.Timeout, DefaultTimeout))
	if d, ok := ctx.Deadline(); ok && d.Before(t) {
		t = d
	}
	c.conn.SetDeadline(t)
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Unix(1, 0)) })
	return func() { stop(); c.conn.SetDeadline(time.Time{}) }
}

func (c *Client) greet(ctx context.Context) error {
	defer c.deadline(ctx)()
	r, err := c.rr.read()
	if err != nil {
		return fmt.Errorf("imap: reading the greeting: %w", err)
	}
	if r.Tag != "*" || (r.Type != "OK" && r.Type != "PREAUTH") {
		return &Error{Type: "NO", Code: r.Code, Text: r.Text}
	}
	c.Greeting, c.preauth = r.Text, r.Type == "PREAUTH"
	c.setCaps(r.Code)
	return nil
}

func (c *Client) setCaps(code string) {
	if rest, ok := strings.CutPrefix(strings.ToUpper(code), "CAPABILITY "); ok {
		c.caps = map[string]bool{}
		for f := range strings.FieldsSeq(rest) {
			c.caps[f] = true
		}
	}
}

// Close closes the connection without LOGOUT.
func (c *Client) Close() error { return c.conn.Close() }

// TLS reports whether the connection is under TLS.
func (c *Client) TLS() bool { _, ok := c.conn.(*tls.Conn); return ok }

// Has reports whether the server advertised cap (as last seen).
func (c *Client) Has(cap string) bool { return c.caps[strings.ToUpper(cap)] }

// Atom is a command argument sent as it is (a keyword, a sequence set,
// a flag list); it is checked for CR, LF and NUL only.
type Atom string

// Literal is a command argument sent as a literal.
type Literal []byte

func checkArg(s string) error {
	if strings.ContainsAny(s, "\r\n\x00") {
		return ErrBadArgument
	}
	return nil
}

// Execute sends one command made of args (string: an astring, quoted
// or a literal as needed; Atom; Literal; SeqSet; []string: a list of
// atoms) and reads responses until its completion. onData gets each
// untagged response and reports whether it took it; the rest go to
// Untagged. A NO or BAD is an *Error.
func (c *Client) Execute(ctx context.Context, onData func(*Response) bool, args ...any) (*Response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.deadline(ctx)()
	c.tag++
	tag := "p" + strconv.Itoa(c.tag)
	if err := c.send(tag, args, onData); err != nil {
		return nil, err
	}
	return c.await(tag, onData)
}

// send writes the command; before each synchronizing literal it waits
// for the server's continuation.
func (c *Client) send(tag string, args []any, onData func(*Response) bool) error {
	// Arguments are checked before anything is written, so a refused one
	// leaves no half command behind.
	for _, a := range args {
		switch a := a.(type) {
		case Atom:
			if err := checkArg(string(a)); err != nil {
				return err
			}
		case []string:
			for _, s := range a {
				if err := checkArg(s); err != nil {
					return err
				}
			}
		}
	}
	c.bw.WriteString(tag)
	plus := c.Has("LITERAL+")
	literal := func(b []byte) error {
		if plus {
			fmt.Fprintf(c.bw, "{%d+}\r\n", len(b))
		} else {
			fmt.Fprintf(c.bw, "{%d}\r\n", len(b))
			if err := c.bw.Flush(); err != nil {
				return err
			}
			if err := c.awaitContinuation(onData); err != nil {
				return err
			}
		}
		_, err := c.bw.Write(b)
		return err
	}
	for _, a := range args {
		c.bw.WriteByte(' ')
		switch a := a.(type) {
		case Atom:
			if err := checkArg(string(a)); err != nil {
				return err
			}
			c.bw.WriteString(string(a))
		case SeqSet:
			c.bw.WriteString(a.String())
		case Literal:
			if err := literal(a); err != nil {
				return err
			}
		case []string:
			c.bw.WriteByte('(')
			for i, s := range a {
				if err := checkArg(s); err != nil {
					return err
				}
				if i > 0 {
					c.bw.WriteByte(' ')
				}
				c.bw.WriteString(s)
			}
			c.bw.WriteByte(')')
		case string:
			if strings.ContainsAny(a, "\r\n\x00") || len(a) > 1000 || !isASCII(a) && !c.Has("UTF8=ACCEPT") {
				if err := literal([]byte(a)); err != nil {
					return err
				}
				continue
			}
			e := encoder{Writer: c.bw, utf8: true}
			e.str(a)
		default:
			return fmt.Errorf("imap: argument of type %T", a)
		}
	}
	c.bw.WriteString("\r\n")
	return c.bw.Flush()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func (c *Client) awaitContinuation(onData func(*Response) bool) error {
	for {
		r, err := c.rr.read()
		if err != nil {
			return err
		}
		if r.Tag == "+" {
			return nil
		}
		if r.Tag != "*" {
			return c.status(r)
		}
		c.dispatch(r, onData)
	}
}

func (c *Client) dispatch(r *Response, onData func(*Response) bool) {
	if r.Type == "CAPABILITY" {
		c.caps = map[string]bool{}
		for _, f := range r.Fields {
			c.caps[strings.ToUpper(str(f))] = true
		}
	}
	if r.Type == "OK" && r.Code != "" {
		c.setCaps(r.Code)
	}
	if onData != nil && onData(r) {
		return
	}
	if c.Untagged != nil {
		c.Untagged(r)
	}
}

func (c *Client) await(tag string, onData func(*Response) bool) (*Response, error) {
	for {
		r, err := c.rr.read()
		if err != nil {
			return nil, err
		}
		switch r.Tag {
		case "*":
			c.dispatch(r, onData)
		case "+":
			return nil, fmt.Errorf("%w: unexpected continuation request", ErrProtocol)
		case tag:
			c.setCaps(r.Code)
			return r, c.status(r)
		default:
			return nil, fmt.Errorf("%w: response for unknown tag %q", ErrProtocol, short(r.Tag))
		}
	}
}

func (c *Client) status(r *Response) error {
	if r.Type == "OK" {
		return nil
	}
	return &Error{Type: r.Type, Code: r.Code, Text: r.Text}
}

// simple runs a command whose only result is its status.
func (c *Client) simple(ctx context.Context, args ...any) error {
	_, err := c.Execute(ctx, nil, args...)
	return err
}

// Capability asks for the capabilities and returns them.
func (c *Client) Capability(ctx context.Context) ([]string, error) {
	if err := c.simple(ctx, Atom("CAPABILITY")); err != nil {
		return nil, err
	}
	var out []string
	for k := range c.caps {
		out = append(out, k)
	}
	return out, nil
}

// Noop asks for pending updates (delivered to Untagged).
func (c *Client) Noop(ctx context.Context) error { return c.simple(ctx, Atom("NOOP")) }

// Logout ends the session and closes the connection.
func (c *Client) Logout(ctx context.Context) error {
	_, err := c.Execute(ctx, func(r *Response) bool { return r.Type == "BYE" }, Atom("LOGOUT"))
	c.conn.Close()
	return err
}

// StartTLS upgrades the connection; config nil means the Dialer's.
func (c *Client) StartTLS(ctx context.Context, config *tls.Config) error {
	if config == nil {
		config = c.tlsConfig
	}
	if config == nil {
		host, _, _ := net.SplitHostPort(c.conn.RemoteAddr().String())
		config = wire.ClientTLS(nil, host)
	}
	if err := c.simple(ctx, Atom("STARTTLS")); err != nil {
		return err
	}
	tc := tls.Client(c.conn, config)
	hctx, cancel := wire.WithTimeout(ctx, lifecycle.Timeout(c.Timeout, DefaultTimeout))
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		return fmt.Errorf("imap: STARTTLS: %w", err)
	}
	c.conn = tc
	c.reset()
	c.caps = nil
	_, err := c.Capability(ctx)
	return err
}

func (c *Client) plaintextOK() bool { return c.InsecureAuth || sasl.PlaintextAllowed(c.conn) }

// Login logs in with LOGIN.
func (c *Client) Login(ctx context.Context, user, password string) error {
	if !c.plaintextOK() {
		return ErrPlaintext
	}
	return c.simple(ctx, Atom("LOGIN"), user, password)
}

// Authenticate logs in with SASL PLAIN, using SASL-IR when offered.
func (c *Client) Authenticate(ctx context.Context, user, password string) error {
	if !c.plaintextOK() {
		return ErrPlaintext
	}
	ir := sasl.Encode([]byte("\x00" + user + "\x00" + password))
	if c.Has("SASL-IR") {
		return c.simple(ctx, Atom("AUTHENTICATE"), Atom("PLAIN"), Atom(ir))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.deadline(ctx)()
	c.tag++
	tag := "p" + strconv.Itoa(c.tag)
	if err := c.send(tag, []any{Atom("AUTHENTICATE"), Atom("PLAIN")}, nil); err != nil {
		return err
	}
	if err := c.awaitContinuation(nil); err != nil {
		return err
	}
	c.bw.WriteString(ir + "\r\n")
	if err := c.bw.Flush(); err != nil {
		return err
	}
	_, err := c.await(tag, nil)
	return err
}

// errors.Is support for a missing capability.
var ErrUnsupported = errors.New("imap: the server does not offer this")
