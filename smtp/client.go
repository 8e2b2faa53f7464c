package smtp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/plumbnet/plumb/sasl"
)

// DefaultClientTimeout bounds each command and reply of a Client whose
// Timeout is zero.
const DefaultClientTimeout = 5 * time.Minute

// A Client is an SMTP client session (RFC 5321) with ESMTP extensions.
// Its methods are not safe for concurrent use.
type Client struct {
	// Timeout bounds each command's round trip; 0 means DefaultClientTimeout.
	Timeout time.Duration
	// LocalName is sent in EHLO/HELO when Hello was not called; "localhost" if empty.
	LocalName string
	// Chunking makes SendMail use BDAT (RFC 3030) when the server offers it.
	Chunking bool

	conn       net.Conn
	text       *textproto.Conn
	serverName string
	greeting   string
	tls        bool
	didHello   bool
	esmtp      bool
	ext        map[string]string
	auth       []string
}

// Dial connects to the SMTP server at addr ("host:port").
func Dial(ctx context.Context, addr string) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(addr)
	return newClient(ctx, conn, host)
}

// DialTLS connects to an implicit-TLS (SMTPS, RFC 8314) server at addr.
// A nil config verifies the certificate against addr's host.
func DialTLS(ctx context.Context, addr string, config *tls.Config) (*Client, error) {
	host, _, _ := net.SplitHostPort(addr)
	d := tls.Dialer{Config: tlsConfigFor(config, host)}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c, err := newClient(ctx, conn, host)
	if err != nil {
		return nil, err
	}
	c.tls = true
	return c, nil
}

// NewClient starts a session on conn, already connected to the server
// named host (used to verify its certificate on StartTLS), and reads
// the greeting.
func NewClient(conn net.Conn, host string) (*Client, error) {
	return newClient(context.Background(), conn, host)
}

func newClient(ctx context.Context, conn net.Conn, host string) (*Client, error) {
	c := &Client{conn: conn, text: textproto.NewConn(conn), serverName: host}
	if _, ok := conn.(*tls.Conn); ok {
		c.tls = true
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	c.deadline()
	_, msg, err := c.readReply(220)
	if err != nil {
		conn.Close()
		return nil, err
	}
	c.greeting = msg
	return c, nil
}

func tlsConfigFor(config *tls.Config, host string) *tls.Config {
	if config == nil {
		config = &tls.Config{}
	}
	if config.ServerName == "" {
		config = config.Clone()
		config.ServerName = host
	}
	return config
}

func (c *Client) deadline() {
	t := c.Timeout
	if t <= 0 {
		t = DefaultClientTimeout
	}
	c.conn.SetDeadline(time.Now().Add(t))
}

// errBadArgument refuses an argument that would inject a command.
var errBadArgument = errors.New("smtp: argument contains CR, LF or NUL")

func checkArg(args ...string) error {
	for _, a := range args {
		if strings.ContainsAny(a, "\r\n\x00") {
			return errBadArgument
		}
	}
	return nil
}

// readReply reads one reply and returns it as an *Error unless its code
// has the first digit of want (want's class: 2 for 250, 3 for 354).
func (c *Client) readReply(want int) (int, string, error) {
	code, msg, err := c.text.ReadResponse(want / 100)
	if err == nil {
		return code, msg, nil
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return code, msg, c.replyError(te.Code, te.Msg)
	}
	return code, msg, err
}

// replyError turns a reply into an *Error, splitting off the enhanced
// status code of its first line when there is one.
func (c *Client) replyError(code int, msg string) *Error {
	e := &Error{Code: code, Message: msg}
	if ec, rest, ok := parseEnhanced(msg, code/100); ok {
		e.EnhancedCode, e.Message = ec, rest
		// Later lines repeat the code; keep only their text.
		lines := strings.Split(rest, "\n")
		for i := 1; i < len(lines); i++ {
			if _, r, ok := parseEnhanced(lines[i], code/100); ok {
				lines[i] = r
			}
		}
		e.Message = strings.Join(lines, "\n")
	} else {
		e.EnhancedCode = NoEnhancedCode
	}
	return e
}

// cmd sends one command and reads its reply.
func (c *Client) cmd(want int, format string, args ...any) (int, string, error) {
	c.deadline()
	if err := c.text.PrintfLine(format, args...); err != nil {
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
// config verifies the certificate against the host given to Dial.
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
	tc := tls.Client(c.conn, tlsConfigFor(config, c.serverName))
	c.deadline()
	if err := tc.Handshake(); err != nil {
		c.conn.Close()
		return fmt.Errorf("smtp: TLS handshake: %w", err)
	}
	c.conn, c.text, c.tls = tc, textproto.NewConn(tc), true
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
	if (mech == sasl.Plain || mech == sasl.Login) && !c.tls && !sasl.IsLoopback(c.conn.RemoteAddr()) {
		return errors.New("smtp: refusing to send a password over an unencrypted connection; use STARTTLS or TLS")
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
	return &dataWriter{c: c, w: c.text.W, bol: true}, nil
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

// dataWriter normalises line ends to CRLF and stuffs dots.
type dataWriter struct {
	c      *Client
	w      *bufio.Writer
	bol    bool // at the beginning of a line
	cr     bool // the last byte was a CR
	closed bool
}

func (d *dataWriter) Write(p []byte) (int, error) {
	if d.closed {
		return 0, errors.New("smtp: write after Close")
	}
	d.c.deadline()
	for _, b := range p {
		var err error
		switch {
		case b == '\n' && d.cr:
			err = d.w.WriteByte('\n')
			d.cr, d.bol = false, true
			continue
		case d.cr: // a lone CR becomes a line end
			_, err = d.w.WriteString("\n")
			d.cr, d.bol = false, true
		}
		if err != nil {
			return 0, err
		}
		if d.bol && b == '.' {
			d.w.WriteByte('.')
		}
		switch b {
		case '\r':
			err = d.w.WriteByte('\r')
			d.cr, d.bol = true, false
		case '\n':
			_, err = d.w.WriteString("\r\n")
			d.bol = true
		default:
			err = d.w.WriteByte(b)
			d.bol = false
		}
		if err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (d *dataWriter) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	var end string
	switch {
	case d.cr:
		end = "\n.\r\n"
	case d.bol:
		end = ".\r\n"
	default:
		end = "\r\n.\r\n"
	}
	d.c.deadline()
	if _, err := d.w.WriteString(end); err != nil {
		return err
	}
	if err := d.w.Flush(); err != nil {
		return err
	}
	_, _, err := d.c.readReply(250)
	return err
}
