package smtp

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
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
	"github.com/plumbnet/plumb/internal/wire"
	"github.com/plumbnet/plumb/sasl"
)

// DefaultClientTimeout bounds each command and reply of a Client whose
// Timeout is zero.
const DefaultClientTimeout = 5 * time.Minute

// Limits on what a server may send the client, so that a hostile or
// broken one cannot make it buffer without bound.
const (
	maxReplyLine  = 4096     // one line of a reply; RFC 5321 says 512
	maxReplyBytes = 64 << 10 // all lines of one reply
)

// Errors of the client. A refused command is an *Error instead.
var (
	// ErrBadArgument refuses an argument holding CR, LF or NUL, which
	// would let it inject a command.
	ErrBadArgument = errors.New("smtp: argument contains CR, LF or NUL")
	// ErrPlaintext refuses to send a password over a connection that is
	// neither TLS nor loopback.
	ErrPlaintext = errors.New("smtp: refusing to send a password over an unencrypted connection; use STARTTLS or TLS")
	// ErrProtocol is a reply that breaks the grammar or the limits.
	ErrProtocol = errors.New("smtp: malformed server reply")
)

// A Client is an SMTP client session (RFC 5321) with ESMTP extensions.
// Its methods are not safe for concurrent use.
//
// Deadlines: every method that talks to the server first sets the
// connection's deadline Timeout ahead, for the command and its reply
// (for Data's writer, for each Write and for Close with the verdict).
type Client struct {
	// Timeout bounds each command's round trip; 0 means
	// DefaultClientTimeout, negative means no limit.
	Timeout time.Duration
	// LocalName is sent in EHLO/HELO when Hello was not called; "localhost" if empty.
	LocalName string
	// Chunking makes SendMail use BDAT (RFC 3030) when the server offers it.
	Chunking bool

	conn      net.Conn
	br        *bufio.Reader
	lr        *wire.Reader
	bw        *bufio.Writer
	tlsConfig *tls.Config // for StartTLS(nil): the Dialer's, naming the server
	greeting  string
	tls       bool
	didHello  bool
	esmtp     bool
	ext       map[string]string
	auth      []string
}

// A Dialer connects to SMTP servers. Its zero value is ready to use.
type Dialer struct {
	// TLSConfig is used by DialTLS, and by StartTLS when given nil; nil
	// means the defaults. An empty ServerName is the host of the address
	// dialled.
	TLSConfig *tls.Config
	// Timeout bounds connecting and reading the greeting, and becomes
	// the Client's Timeout; 0 means DefaultClientTimeout, negative
	// means no limit (ctx still applies).
	Timeout time.Duration
	// LocalName becomes the Client's LocalName.
	LocalName string
}

// Dial connects to the SMTP server at addr ("host:port") with a zero Dialer.
func Dial(ctx context.Context, addr string) (*Client, error) {
	var d Dialer
	return d.Dial(ctx, addr)
}

// DialTLS connects to an implicit-TLS (submissions, RFC 8314) server at
// addr with a Dialer using config.
func DialTLS(ctx context.Context, addr string, config *tls.Config) (*Client, error) {
	d := Dialer{TLSConfig: config}
	return d.DialTLS(ctx, addr)
}

// Dial connects to the SMTP server at addr and reads its greeting.
func (d *Dialer) Dial(ctx context.Context, addr string) (*Client, error) {
	return d.dial(ctx, addr, false)
}

// DialTLS connects to the implicit-TLS server at addr, verifying its
// certificate against TLSConfig, and reads its greeting.
func (d *Dialer) DialTLS(ctx context.Context, addr string) (*Client, error) {
	return d.dial(ctx, addr, true)
}

func (d *Dialer) dial(ctx context.Context, addr string, implicit bool) (*Client, error) {
	ctx, cancel := wire.WithTimeout(ctx, lifecycle.Timeout(d.Timeout, DefaultClientTimeout))
	defer cancel()
	conn, config, err := wire.Dial(ctx, addr, d.TLSConfig, implicit)
	if err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	c := newClient(conn)
	c.Timeout, c.LocalName, c.tlsConfig = d.Timeout, d.LocalName, config
	if err := c.greet(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// NewClient starts a session on conn, already connected to the server,
// and reads the greeting within DefaultClientTimeout. To use StartTLS
// on it, pass a tls.Config that names the server.
func NewClient(conn net.Conn) (*Client, error) {
	c := newClient(conn)
	if err := c.greet(context.Background()); err != nil {
		return nil, err
	}
	return c, nil
}

func newClient(conn net.Conn) *Client {
	c := &Client{}
	c.setConn(conn)
	_, c.tls = conn.(*tls.Conn)
	return c
}

// setConn makes the client talk over conn, with fresh buffers.
func (c *Client) setConn(conn net.Conn) {
	c.conn = conn
	c.br = bufio.NewReader(conn)
	c.bw = bufio.NewWriter(conn)
	if c.lr == nil {
		// Lenient: a server's bare LF ends a reply line.
		c.lr = wire.NewReader(c.br)
		c.lr.MaxLine, c.lr.Lenient = maxReplyLine, true
	} else {
		c.lr.Reset(c.br)
	}
}

// greet reads the 220 greeting, ctx ending the wait.
func (c *Client) greet(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Now()) })
	defer stop()
	c.deadline()
	_, msg, err := c.readReply(220)
	if err != nil {
		c.conn.Close()
		if ctx.Err() != nil {
			return fmt.Errorf("smtp: reading greeting: %w", ctx.Err())
		}
		return err
	}
	c.greeting = msg
	return nil
}

func (c *Client) deadline() {
	c.conn.SetDeadline(lifecycle.Deadline(lifecycle.Timeout(c.Timeout, DefaultClientTimeout)))
}

func checkArg(args ...string) error {
	for _, a := range args {
		if strings.ContainsAny(a, "\r\n\x00") {
			return fmt.Errorf("%w: %.40q", ErrBadArgument, a)
		}
	}
	return nil
}

// send writes one command line and flushes it.
func (c *Client) send(line string) error {
	c.bw.WriteString(line)
	c.bw.WriteString("\r\n")
	return c.bw.Flush()
}

// cmd sends one command and reads its reply.
func (c *Client) cmd(want int, format string, args ...any) (int, string, error) {
	c.deadline()
	if err := c.send(fmt.Sprintf(format, args...)); err != nil {
		return 0, "", err
	}
	return c.readReply(want)
}

// Hello sends EHLO, or HELO when the server refuses EHLO. Other methods
// call it with LocalName if it has not been called.
func (c *Client) Hello(localName string) error {
	if err := checkArg(localName); err != nil {
		return err
	}
	if c.didHello {
		return errors.New("smtp: Hello called after another command")
	}
	if localName == "" {
		localName = "localhost"
	}
	c.didHello = true
	_, msg, err := c.cmd(250, "EHLO %s", localName)
	var e *Error
	if errors.As(err, &e) && e.Code >= 500 {
		_, _, err = c.cmd(250, "HELO %s", localName)
		c.ext, c.auth, c.esmtp = nil, nil, false
		return err
	}
	if err != nil {
		return err
	}
	c.esmtp = true
	c.ext = map[string]string{}
	lines := strings.Split(msg, "\n")
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, " ")
		c.ext[strings.ToUpper(k)] = v
	}
	if mechs, ok := c.ext["AUTH"]; ok {
		c.auth = strings.Fields(strings.ToUpper(mechs))
	}
	return nil
}

func (c *Client) hello() error {
	if !c.didHello {
		return c.Hello(c.LocalName)
	}
	return nil
}

// Extension reports whether the server offers ext (as EHLO listed it)
// and with what parameters.
func (c *Client) Extension(ext string) (bool, string) {
	if err := c.hello(); err != nil {
		return false, ""
	}
	v, ok := c.ext[strings.ToUpper(ext)]
	return ok, v
}

// MaxMessageSize returns the server's SIZE limit (RFC 1870), if it gave one.
func (c *Client) MaxMessageSize() (int64, bool) {
	ok, v := c.Extension("SIZE")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// TLSConnectionState returns the TLS state, ok false on a plaintext session.
func (c *Client) TLSConnectionState() (tls.ConnectionState, bool) {
	tc, ok := c.conn.(*tls.Conn)
	if !ok {
		return tls.ConnectionState{}, false
	}
	return tc.ConnectionState(), true
}

// StartTLS upgrades the session (RFC 3207) and says EHLO again. A nil
// config is the Dialer's, which names the host dialled; a config
// without ServerName gets that host too.
func (c *Client) StartTLS(config *tls.Config) error {
	if err := c.hello(); err != nil {
		return err
	}
	if c.tls {
		return errors.New("smtp: already using TLS")
	}
	if _, _, err := c.cmd(220, "STARTTLS"); err != nil {
		return err
	}
	if config == nil {
		config = c.tlsConfig
	} else if c.tlsConfig != nil {
		config = wire.ClientTLS(config, c.tlsConfig.ServerName)
	}
	if config == nil {
		config = &tls.Config{}
	}
	tc := tls.Client(c.conn, config)
	c.deadline()
	if err := tc.Handshake(); err != nil {
		c.conn.Close()
		return fmt.Errorf("smtp: TLS handshake: %w", err)
	}
	c.setConn(tc)
	c.tls = true
	c.didHello = false
	return c.Hello(c.LocalName)
}

// Auth authenticates with a SASL mechanism (RFC 4954). It refuses to
// send PLAIN or LOGIN credentials over a connection that is neither TLS
// nor loopback.
func (c *Client) Auth(a sasl.Client) error {
	if err := c.hello(); err != nil {
		return err
	}
	mech, resp, err := a.Start()
	if err != nil {
		return err
	}
	if (mech == sasl.Plain || mech == sasl.Login) && !sasl.PlaintextAllowed(c.conn) {
		return ErrPlaintext
	}
	if err := checkArg(mech); err != nil {
		return err
	}
	var code int
	var msg string
	if resp != nil {
		code, msg, err = c.cmd(0, "AUTH %s %s", mech, sasl.EncodeInitialResponse(resp))
	} else {
		code, msg, err = c.cmd(0, "AUTH %s", mech)
	}
	for range sasl.MaxSteps + 1 {
		if err != nil {
			return err
		}
		switch code {
		case 235:
			return nil
		case 334:
		default:
			return c.replyError(code, msg)
		}
		challenge, derr := sasl.DecodeResponse(msg)
		var next []byte
		if derr == nil {
			next, derr = a.Next(challenge)
		}
		if derr != nil {
			c.cmd(0, "*")
			return fmt.Errorf("smtp: AUTH %s: %w", mech, derr)
		}
		code, msg, err = c.cmd(0, "%s", sasl.Encode(next))
	}
	return errors.New("smtp: AUTH exchange too long")
}

// mailCommand builds MAIL FROM with the parameters the server offers.
func (c *Client) mailCommand(from string, opts *MailOptions, utf8 bool) (string, error) {
	if err := checkArg(from); err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "MAIL FROM:<%s>", from)
	if opts == nil {
		opts = &MailOptions{}
	}
	if c.esmtp {
		if _, ok := c.ext["SIZE"]; ok && opts.Size > 0 {
			fmt.Fprintf(&b, " SIZE=%d", opts.Size)
		}
		if _, ok := c.ext["8BITMIME"]; ok && opts.Body != "" {
			fmt.Fprintf(&b, " BODY=%s", opts.Body)
		}
		if _, ok := c.ext["DSN"]; ok {
			if opts.Return != "" {
				fmt.Fprintf(&b, " RET=%s", opts.Return)
			}
			if opts.EnvelopeID != "" {
				fmt.Fprintf(&b, " ENVID=%s", opts.EnvelopeID)
			}
		}
		if _, ok := c.ext["AUTH"]; ok && opts.Auth != "" {
			fmt.Fprintf(&b, " AUTH=%s", opts.Auth)
		}
	}
	if opts.UTF8 || utf8 {
		if _, ok := c.ext["SMTPUTF8"]; !ok {
			return "", errors.New("smtp: the server does not offer SMTPUTF8, needed for a non-ASCII address")
		}
		b.WriteString(" SMTPUTF8")
	}
	s := b.String()
	if err := checkArg(s); err != nil {
		return "", err
	}
	return s, nil
}

func rcptCommand(to string, opts *RcptOptions, dsn bool) (string, error) {
	if err := checkArg(to); err != nil {
		return "", err
	}
	s := "RCPT TO:<" + to + ">"
	if opts != nil && dsn {
		if len(opts.Notify) > 0 {
			s += " NOTIFY=" + strings.Join(opts.Notify, ",")
		}
		if opts.OriginalRcpt != "" {
			s += " ORCPT=" + opts.OriginalRcpt
		}
	}
	return s, checkArg(s)
}

// Mail sends MAIL FROM; from "" is the null sender <>. SMTPUTF8 is
// asked for when an address is not ASCII.
func (c *Client) Mail(from string, opts *MailOptions) error {
	if err := c.hello(); err != nil {
		return err
	}
	line, err := c.mailCommand(from, opts, !isASCII(from))
	if err != nil {
		return err
	}
	_, _, err = c.cmd(250, "%s", line)
	return err
}

// Rcpt sends RCPT TO.
func (c *Client) Rcpt(to string, opts *RcptOptions) error {
	_, dsn := c.ext["DSN"]
	line, err := rcptCommand(to, opts, dsn)
	if err != nil {
		return err
	}
	_, _, err = c.cmd(250, "%s", line)
	return err
}

// Data sends DATA and returns a writer for the message; closing it ends
// the message and returns the server's verdict. Line ends are sent as
// CRLF whatever the message uses, and lines starting with a dot are
// stuffed (RFC 5321 section 4.5.2).
func (c *Client) Data() (io.WriteCloser, error) {
	if _, _, err := c.cmd(354, "DATA"); err != nil {
		return nil, err
	}
	return c.dataWriter(), nil
}

// Verify asks the server whether addr is a valid mailbox (VRFY).
func (c *Client) Verify(addr string) error {
	if err := checkArg(addr); err != nil {
		return err
	}
	if err := c.hello(); err != nil {
		return err
	}
	_, _, err := c.cmd(250, "VRFY %s", addr)
	return err
}

// Noop sends NOOP.
func (c *Client) Noop() error {
	if err := c.hello(); err != nil {
		return err
	}
	_, _, err := c.cmd(250, "NOOP")
	return err
}

// Reset sends RSET, ending the transaction.
func (c *Client) Reset() error {
	if err := c.hello(); err != nil {
		return err
	}
	_, _, err := c.cmd(250, "RSET")
	return err
}

// Quit sends QUIT and closes the connection.
func (c *Client) Quit() error {
	_, _, err := c.cmd(221, "QUIT")
	if cerr := c.conn.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close closes the connection without QUIT.
func (c *Client) Close() error { return c.conn.Close() }
