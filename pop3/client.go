package pop3

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/plumbnet/plumb/sasl"
)

// Error is a server's -ERR reply to a command.
type Error struct {
	Command string // the command refused: "PASS", "RETR"
	Code    string // the RFC 2449 response code without brackets ("AUTH", "IN-USE", "SYS/TEMP"), or ""
	Msg     string // the rest of the reply
}

func (e *Error) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("pop3: %s: -ERR [%s] %s", e.Command, e.Code, e.Msg)
	}
	return fmt.Sprintf("pop3: %s: -ERR %s", e.Command, e.Msg)
}

// Temporary reports whether retrying later may succeed ([SYS/TEMP], [IN-USE]).
func (e *Error) Temporary() bool { return e.Code == "SYS/TEMP" || e.Code == "IN-USE" }

// Client errors other than a server's refusal.
var (
	ErrBadArgument = errors.New("pop3: argument contains CR, LF or NUL")
	ErrPlaintext   = errors.New("pop3: refusing to send a password without TLS to a non-loopback server (use STLS or pop3s)")
	ErrProtocol    = errors.New("pop3: malformed server reply")
)

// DefaultTimeout bounds dialing and each reply when Client.Timeout is 0.
const DefaultTimeout = 60 * time.Second

// Client is a POP3 client connection. It is not safe for concurrent use.
type Client struct {
	// Greeting is the server's greeting line after "+OK ".
	Greeting string
	// Timeout bounds each command's reply; 0 means DefaultTimeout.
	Timeout time.Duration
	// InsecureAuth lets passwords go out without TLS to a non-loopback server.
	InsecureAuth bool

	conn      net.Conn
	br        *bufio.Reader
	bw        *bufio.Writer
	tls       bool
	timestamp string
}

// MessageInfo is one line of a LIST or UIDL listing.
type MessageInfo struct {
	Num  int
	Size int64  // from LIST
	UID  string // from UIDL
}

// Dial connects to a POP3 server at addr ("host:110").
func Dial(addr string) (*Client, error) {
	nc, err := net.DialTimeout("tcp", addr, DefaultTimeout)
	if err != nil {
		return nil, err
	}
	return NewClient(nc)
}

// DialTLS connects to a POP3S server (implicit TLS, port 995). A nil
// config verifies the server against the host in addr.
func DialTLS(addr string, config *tls.Config) (*Client, error) {
	config = tlsConfigFor(addr, config)
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: DefaultTimeout}, Config: config}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return NewClient(nc)
}

func tlsConfigFor(addr string, config *tls.Config) *tls.Config {
	if config == nil {
		config = &tls.Config{}
	} else {
		config = config.Clone()
	}
	if config.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		config.ServerName = host
	}
	return config
}

// NewClient reads the greeting from an open connection and returns the client.
func NewClient(nc net.Conn) (*Client, error) {
	c := &Client{conn: nc, br: bufio.NewReaderSize(nc, 32<<10), bw: bufio.NewWriter(nc)}
	_, c.tls = nc.(*tls.Conn)
	line, err := c.status("greeting")
	if err != nil {
		nc.Close()
		return nil, err
	}
	c.Greeting = line
	if i := strings.IndexByte(line, '<'); i >= 0 {
		if j := strings.IndexByte(line[i:], '>'); j > 0 {
			c.timestamp = line[i : i+j+1]
		}
	}
	return c, nil
}

// Close closes the connection without QUIT: the server deletes nothing.
func (c *Client) Close() error { return c.conn.Close() }

// TLS reports whether the connection is under TLS.
func (c *Client) TLS() bool { return c.tls }

func checkArgs(args ...string) error {
	for _, a := range args {
		if strings.ContainsAny(a, "\r\n\x00") {
			return ErrBadArgument
		}
	}
	return nil
}

func (c *Client) deadline() {
	c.conn.SetDeadline(time.Now().Add(cmpOr(c.Timeout, DefaultTimeout)))
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// send writes one command line.
func (c *Client) send(line string) error {
	c.deadline()
	if _, err := c.bw.WriteString(line + "\r\n"); err != nil {
		return err
	}
	return c.bw.Flush()
}

// readLine reads one reply line without its line end.
func (c *Client) readLine() (string, error) {
	line, err := c.br.ReadString('\n')
	if err != nil {
		return "", err
	}
	if len(line) > 64<<10 {
		return "", ErrProtocol
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// status reads a +OK/-ERR reply and returns the text after "+OK ".
func (c *Client) status(cmd string) (string, error) {
	c.deadline()
	line, err := c.readLine()
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
	if err := checkArgs(args...); err != nil {
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

// readDotLines reads a multi-line body's lines without line ends.
func (c *Client) readDotLines() ([]string, error) {
	var lines []string
	for {
		c.deadline()
		line, err := c.readLine()
		if err != nil {
			return nil, err
		}
		if line == "." {
			return lines, nil
		}
		lines = append(lines, strings.TrimPrefix(line, "."))
	}
}

// readBody copies a multi-line body to w, undoing byte-stuffing and
// keeping line ends as sent (CRLF).
func (c *Client) readBody(w io.Writer) (int64, error) {
	var n int64
	atStart := true
	for {
		c.deadline()
		chunk, err := c.br.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return n, err
		}
		if atStart && chunk[0] == '.' {
			if bytes.Equal(chunk, []byte(".\r\n")) || bytes.Equal(chunk, []byte(".\n")) {
				return n, nil
			}
			chunk = chunk[1:]
		}
		m, werr := w.Write(chunk)
		n += int64(m)
		if werr != nil {
			// Drain the rest so the connection stays usable.
			c.readBody(io.Discard)
			return n, werr
		}
		atStart = err == nil
	}
}

// Capabilities asks CAPA (RFC 2449) and returns each capability's
// arguments by its upper-case name.
func (c *Client) Capabilities() (map[string][]string, error) {
	if _, err := c.cmd("CAPA"); err != nil {
		return nil, err
	}
	lines, err := c.readDotLines()
	if err != nil {
		return nil, err
	}
	caps := make(map[string][]string, len(lines))
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) > 0 {
			caps[strings.ToUpper(f[0])] = f[1:]
		}
	}
	return caps, nil
}

// StartTLS upgrades the connection with STLS (RFC 2595). A nil config
// verifies the server against the host the connection went to.
func (c *Client) StartTLS(config *tls.Config) error {
	if _, err := c.cmd("STLS"); err != nil {
		return err
	}
	config = tlsConfigFor(c.conn.RemoteAddr().String(), config)
	tc := tls.Client(c.conn, config)
	c.deadline()
	if err := tc.Handshake(); err != nil {
		return fmt.Errorf("pop3: STLS: %w", err)
	}
	c.conn, c.tls = tc, true
	c.br.Reset(tc)
	c.bw.Reset(tc)
	return nil
}

func (c *Client) passwordAllowed() error {
	if c.tls || c.InsecureAuth || sasl.PlaintextAllowed(c.conn) {
		return nil
	}
	return ErrPlaintext
}

// User sends USER name.
func (c *Client) User(name string) error {
	if err := c.passwordAllowed(); err != nil {
		return err
	}
	_, err := c.cmd("USER", name)
	return err
}

// Pass sends PASS password.
func (c *Client) Pass(password string) error {
	if err := c.passwordAllowed(); err != nil {
		return err
	}
	_, err := c.cmd("PASS", password)
	return err
}

// Login sends USER and PASS.
func (c *Client) Login(name, password string) error {
	if err := c.User(name); err != nil {
		return err
	}
	return c.Pass(password)
}

// APOP logs in with the shared secret without sending it (RFC 1939 §7).
// It fails if the greeting carried no timestamp.
func (c *Client) APOP(name, secret string) error {
	if c.timestamp == "" {
		return &Error{Command: "APOP", Msg: "server greeting has no APOP timestamp"}
	}
	sum := md5.Sum([]byte(c.timestamp + secret))
	_, err := c.cmd("APOP", name, hex.EncodeToString(sum[:]))
	return err
}

// Auth authenticates with a SASL mechanism (RFC 5034), sending the
// initial response on the command line.
func (c *Client) Auth(mech sasl.Client) error {
	if err := c.passwordAllowed(); err != nil {
		return err
	}
	name, ir, err := mech.Start()
	if err != nil {
		return err
	}
	line := "AUTH " + name
	if ir != nil {
		line += " " + sasl.EncodeInitialResponse(ir)
	}
	if err := checkArgs(line); err != nil {
		return err
	}
	if err := c.send(line); err != nil {
		return err
	}
	for {
		c.deadline()
		reply, err := c.readLine()
		if err != nil {
			return err
		}
		if reply != "+" && !strings.HasPrefix(reply, "+ ") {
			_, err := parseStatus("AUTH", reply)
			return err
		}
		chal, err := sasl.DecodeResponse(strings.TrimPrefix(strings.TrimPrefix(reply, "+"), " "))
		if err != nil {
			c.send("*")
			c.status("AUTH")
			return fmt.Errorf("%w: bad SASL challenge", ErrProtocol)
		}
		resp, err := mech.Next(chal)
		if err != nil {
			c.send("*")
			c.status("AUTH")
			return err
		}
		if err := c.send(sasl.Encode(resp)); err != nil {
			return err
		}
	}
}

// Stat returns the count and total size of the messages.
func (c *Client) Stat() (count int, size int64, err error) {
	line, err := c.cmd("STAT")
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(line)
	if len(f) < 2 {
		return 0, 0, fmt.Errorf("%w to STAT: %q", ErrProtocol, line)
	}
	count, err1 := strconv.Atoi(f[0])
	size, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("%w to STAT: %q", ErrProtocol, line)
	}
	return count, size, nil
}

// List returns every message's number and size.
func (c *Client) List() ([]MessageInfo, error) { return c.listing("LIST") }

// ListOne returns message n's size.
func (c *Client) ListOne(n int) (MessageInfo, error) { return c.listingOne("LIST", n) }

// UIDL returns every message's number and unique id.
func (c *Client) UIDL() ([]MessageInfo, error) { return c.listing("UIDL") }

// UIDLOne returns message n's unique id.
func (c *Client) UIDLOne(n int) (MessageInfo, error) { return c.listingOne("UIDL", n) }

func (c *Client) listing(cmd string) ([]MessageInfo, error) {
	if _, err := c.cmd(cmd); err != nil {
		return nil, err
	}
	lines, err := c.readDotLines()
	if err != nil {
		return nil, err
	}
	out := make([]MessageInfo, 0, len(lines))
	for _, l := range lines {
		mi, err := parseScan(cmd, l)
		if err != nil {
			return nil, err
		}
		out = append(out, mi)
	}
	return out, nil
}

func (c *Client) listingOne(cmd string, n int) (MessageInfo, error) {
	line, err := c.cmd(cmd, strconv.Itoa(n))
	if err != nil {
		return MessageInfo{}, err
	}
	return parseScan(cmd, line)
}

// parseScan parses "n size" (LIST) or "n uid" (UIDL).
func parseScan(cmd, line string) (MessageInfo, error) {
	f := strings.Fields(line)
	if len(f) < 2 {
		return MessageInfo{}, fmt.Errorf("%w to %s: %q", ErrProtocol, cmd, line)
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n < 1 {
		return MessageInfo{}, fmt.Errorf("%w to %s: %q", ErrProtocol, cmd, line)
	}
	mi := MessageInfo{Num: n}
	if cmd == "UIDL" {
		mi.UID = f[1]
		return mi, nil
	}
	if mi.Size, err = strconv.ParseInt(f[1], 10, 64); err != nil {
		return MessageInfo{}, fmt.Errorf("%w to %s: %q", ErrProtocol, cmd, line)
	}
	return mi, nil
}

// Retr returns message n as sent: CRLF line ends, byte-stuffing undone.
func (c *Client) Retr(n int) ([]byte, error) {
	var b bytes.Buffer
	_, err := c.RetrTo(n, &b)
	return b.Bytes(), err
}

// RetrTo copies message n to w and returns the bytes written.
func (c *Client) RetrTo(n int, w io.Writer) (int64, error) {
	if _, err := c.cmd("RETR", strconv.Itoa(n)); err != nil {
		return 0, err
	}
	return c.readBody(w)
}

// Top returns message n's header and the first lines lines of its body.
func (c *Client) Top(n, lines int) ([]byte, error) {
	if _, err := c.cmd("TOP", strconv.Itoa(n), strconv.Itoa(lines)); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	_, err := c.readBody(&b)
	return b.Bytes(), err
}

// Dele marks message n deleted; it goes when Quit succeeds.
func (c *Client) Dele(n int) error {
	_, err := c.cmd("DELE", strconv.Itoa(n))
	return err
}

// Noop does nothing but keep the session alive.
func (c *Client) Noop() error {
	_, err := c.cmd("NOOP")
	return err
}

// Rset unmarks every message marked deleted.
func (c *Client) Rset() error {
	_, err := c.cmd("RSET")
	return err
}

// Quit ends the session, which makes the server delete the messages
// marked deleted, and closes the connection.
func (c *Client) Quit() error {
	_, err := c.cmd("QUIT")
	c.conn.Close()
	return err
}
