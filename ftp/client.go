package ftp

import (
	"context"
	"crypto/tls"
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

// DefaultTimeout bounds connecting, each reply, and each pause of a data
// transfer when a Dialer leaves Timeout zero.
const DefaultTimeout = 30 * time.Second

// Dialer holds the options for connecting a Client. The zero value is
// ready to use: passive mode, EPSV first, 30-second timeouts.
type Dialer struct {
	// Timeout bounds connecting, waiting for each reply, and each pause
	// in a data transfer. Zero means DefaultTimeout, negative no limit
	// (ctx still bounds connecting).
	Timeout time.Duration
	// TLSConfig is used by DialTLS and by AuthTLS when called with nil.
	// Nil means the system roots and the host name of the address.
	TLSConfig *tls.Config
	// Active makes data connections active (EPRT/PORT): the server
	// connects back to a port the client listens on.
	Active bool
	// DisableEPSV sends PASV without trying EPSV first.
	DisableEPSV bool
}

// Client is a connection to an FTP server (RFC 959) with the extensions
// of RFC 2228/4217 (TLS), 2389 (FEAT), 2428 (EPSV/EPRT), 3659 (SIZE,
// MDTM, MLSD, REST) and 2640 (UTF-8). A Client is not safe for
// concurrent use, except that Close may be called at any time to abort.
//
// Deadlines: the methods take no context. Every wait is bounded by the
// Dialer's Timeout (DefaultTimeout for NewClient): sending a command,
// each reply, and each pause of a data transfer, so a long transfer
// that keeps moving is never cut. Close, from any goroutine, ends
// whatever is in progress.
type Client struct {
	// InsecureAuth lets Login send a password over a control connection
	// that is neither TLS nor to a loopback address; by default Login
	// refuses with ErrPlaintext. Anonymous logins are not refused.
	InsecureAuth bool

	conn    net.Conn // the control connection, a *tls.Conn once secured
	r       *wire.Reader
	host    string
	timeout time.Duration

	tlsConfig *tls.Config // non-nil when the control connection is TLS
	dialTLS   *tls.Config // the Dialer's, for AuthTLS(nil)
	protP     bool        // data connections are TLS (PROT P)

	active      bool
	disableEPSV bool
	epsvFailed  bool
	ascii       bool

	features map[string]string // nil until FEAT has been asked

	mu       sync.Mutex
	dataConn net.Conn // the data connection in use, closed by Close
	closed   bool

	closeOnce sync.Once
	closeErr  error
}

// Dial connects to an FTP server at addr ("host:port") and reads its
// greeting, with a zero Dialer's settings.
func Dial(ctx context.Context, addr string) (*Client, error) {
	var d Dialer
	return d.Dial(ctx, addr)
}

// DialTLS connects to an implicit-FTPS server at addr (usually port 990):
// TLS from the first byte, and TLS on every data connection.
func DialTLS(ctx context.Context, addr string, config *tls.Config) (*Client, error) {
	d := Dialer{TLSConfig: config}
	return d.DialTLS(ctx, addr)
}

// Dial connects to addr in plain text and reads the greeting; call
// [Client.AuthTLS] next to secure it (explicit FTPS).
func (d *Dialer) Dial(ctx context.Context, addr string) (*Client, error) {
	return d.dial(ctx, addr, false)
}

// DialTLS connects to an implicit-FTPS server at addr.
func (d *Dialer) DialTLS(ctx context.Context, addr string) (*Client, error) {
	return d.dial(ctx, addr, true)
}

func (d *Dialer) dial(ctx context.Context, addr string, implicit bool) (*Client, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("ftp: %w", err)
	}
	timeout := lifecycle.Timeout(d.Timeout, DefaultTimeout)
	ctx, cancel := wire.WithTimeout(ctx, timeout)
	defer cancel()
	c := &Client{host: host, timeout: timeout, active: d.Active, disableEPSV: d.DisableEPSV, dialTLS: d.TLSConfig}
	cfg := c.dataTLSConfig(d.TLSConfig)
	conn, _, err := wire.Dial(ctx, addr, cfg, implicit)
	if err != nil {
		return nil, fmt.Errorf("ftp: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if implicit {
		c.tlsConfig = cfg
		c.protP = true // sent to the server after login
	}
	c.conn = conn
	c.r = replyReader(conn)
	if err := c.greeting(); err != nil {
		conn.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ftp: connecting to %s: %w", addr, ctx.Err())
		}
		return nil, err
	}
	return c, nil
}

// NewClient returns a Client on an existing control connection, after
// reading the server's greeting. Use it for tests and for connections
// made by other means (a proxy, a Unix socket).
func NewClient(conn net.Conn) (*Client, error) {
	host, _, _ := net.SplitHostPort(conn.RemoteAddr().String())
	c := &Client{conn: conn, r: replyReader(conn), host: host, timeout: DefaultTimeout}
	if tc, ok := conn.(*tls.Conn); ok {
		c.tlsConfig = c.dataTLSConfig(nil)
		c.tlsConfig.ServerName = tc.ConnectionState().ServerName
		c.protP = true
	}
	if err := c.greeting(); err != nil {
		return nil, err
	}
	return c, nil
}

// greeting reads the server's first reply: 220, or 120 then 220.
func (c *Client) greeting() error {
	for {
		code, msg, err := c.reply()
		if err != nil {
			return err
		}
		switch code {
		case 120:
			continue
		case 220:
			return nil
		default:
			return &Error{Code: code, Msg: msg}
		}
	}
}

// checkArgs refuses arguments that would end the command line early,
// or that no server could take.
func checkArgs(args ...string) error {
	for _, a := range args {
		if strings.ContainsAny(a, "\r\n\x00") {
			return fmt.Errorf("%w: %.40q", ErrBadArgument, a)
		}
	}
	return nil
}

// reply reads one reply within the client's timeout.
func (c *Client) reply() (int, string, error) {
	c.conn.SetReadDeadline(lifecycle.Deadline(c.timeout))
	code, msg, err := readReply(c.r)
	if err != nil {
		return 0, "", fmt.Errorf("ftp: reading reply: %w", err)
	}
	return code, msg, nil
}

// send writes one command line; line has been checked for CR and LF.
func (c *Client) send(line string) error {
	c.conn.SetWriteDeadline(lifecycle.Deadline(c.timeout))
	if _, err := c.conn.Write([]byte(line + "\r\n")); err != nil {
		return fmt.Errorf("ftp: sending %s: %w", verb(line), err)
	}
	return nil
}

func verb(line string) string {
	if i := strings.IndexByte(line, ' '); i > 0 {
		return line[:i]
	}
	return line
}

// cmd sends a command and reads its final reply (skipping 1xx marks is
// not done here: commands sent with cmd have no preliminary reply).
func (c *Client) cmd(line string) (int, string, error) {
	if err := c.send(line); err != nil {
		return 0, "", err
	}
	return c.reply()
}

// expect sends a command and returns an *Error unless the reply's code
// is want, or in want's class when want is 2 to 5.
func (c *Client) expect(want int, line string) (string, error) {
	code, msg, err := c.cmd(line)
	if err != nil {
		return "", err
	}
	if code == want || (want < 10 && code/100 == want) {
		return msg, nil
	}
	return msg, &Error{Code: code, Msg: msg}
}

// Command sends a raw command line and returns its reply, for commands
// the Client has no method for (SITE, STAT, HELP). An error is returned
// only when the exchange itself fails; a negative reply is a code.
func (c *Client) Command(line string) (code int, msg string, err error) {
	if err := checkArgs(line); err != nil {
		return 0, "", err
	}
	return c.cmd(line)
}

// Login authenticates with USER and PASS (anonymous login is user
// "anonymous" with an e-mail address as password), then sets binary
// type, turns on UTF-8 paths where the server offers them, and, on a TLS
// connection, protects data connections (PBSZ 0, PROT P). A password is
// not sent in the clear to a server off loopback: that is ErrPlaintext,
// unless InsecureAuth is set.
func (c *Client) Login(user, password string) error {
	if err := checkArgs(user, password); err != nil {
		return err
	}
	anonymous := strings.EqualFold(user, "anonymous") || strings.EqualFold(user, "ftp")
	if !anonymous && !c.InsecureAuth && !sasl.PlaintextAllowed(c.conn) {
		return ErrPlaintext
	}
	code, msg, err := c.cmd("USER " + user)
	if err != nil {
		return err
	}
	if code == 331 {
		code, msg, err = c.cmd("PASS " + password)
		if err != nil {
			return err
		}
	}
	if code != 230 && code != 202 {
		return &Error{Code: code, Msg: msg}
	}
	if c.protP {
		if _, err := c.expect(200, "PBSZ 0"); err != nil {
			return err
		}
		if _, err := c.expect(200, "PROT P"); err != nil {
			return err
		}
	}
	if _, err := c.expect(200, "TYPE I"); err != nil {
		return err
	}
	c.ascii = false
	if feat, err := c.Features(); err == nil {
		if _, ok := feat["UTF8"]; ok {
			c.cmd("OPTS UTF8 ON") // a refusal changes nothing: paths are sent as given
		}
	}
	return nil
}

// Features returns the server's FEAT list (RFC 2389): upper-case feature
// names mapped to their parameters ("MLST" -> "type*;size*;modify*;");
// a feature listed on several lines has their parameters joined with
// ";" ("AUTH" -> "TLS;SSL"). A server without FEAT yields an empty map.
// The answer is cached until AuthTLS, after which a server may list more.
func (c *Client) Features() (map[string]string, error) {
	if c.features != nil {
		return c.features, nil
	}
	code, msg, err := c.cmd("FEAT")
	if err != nil {
		return nil, err
	}
	c.features = map[string]string{}
	if code != 211 {
		return c.features, nil
	}
	lines := strings.Split(msg, "\n")
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, " ") {
			continue
		}
		name, params, _ := strings.Cut(strings.TrimSpace(l), " ")
		if name == "" {
			continue
		}
		name = strings.ToUpper(name)
		if old, ok := c.features[name]; ok && old != "" {
			params = old + ";" + params // "AUTH TLS" and "AUTH SSL" on two lines
		}
		c.features[name] = params
	}
	return c.features, nil
}

// hasFeature reports whether FEAT listed name.
func (c *Client) hasFeature(name string) bool {
	f, err := c.Features()
	if err != nil {
		return false
	}
	_, ok := f[name]
	return ok
}

// SetActive chooses active (true: EPRT/PORT) or passive (false: EPSV/PASV) data connections.
func (c *Client) SetActive(active bool) { c.active = active }

// Active reports whether data connections are active.
func (c *Client) Active() bool { return c.active }

// SetASCII sends TYPE A (true) or TYPE I (false). In ASCII type the
// client converts line ends: CRLF to LF on download, LF to CRLF on upload.
func (c *Client) SetASCII(ascii bool) error {
	t := "TYPE I"
	if ascii {
		t = "TYPE A"
	}
	if _, err := c.expect(200, t); err != nil {
		return err
	}
	c.ascii = ascii
	return nil
}

// ASCII reports whether the transfer type is ASCII.
func (c *Client) ASCII() bool { return c.ascii }

// Cwd changes the working directory.
func (c *Client) Cwd(dir string) error {
	if err := checkArgs(dir); err != nil {
		return err
	}
	_, err := c.expect(2, "CWD "+dir)
	return err
}

// CdUp changes to the parent of the working directory.
func (c *Client) CdUp() error {
	_, err := c.expect(2, "CDUP")
	return err
}

// Pwd returns the working directory.
func (c *Client) Pwd() (string, error) {
	msg, err := c.expect(257, "PWD")
	if err != nil {
		return "", err
	}
	return quotedPath(msg)
}

// quotedPath extracts the path from a 257 reply: "dir" with any quote
// inside it doubled (RFC 959 appendix II).
func quotedPath(msg string) (string, error) {
	msg, _, _ = strings.Cut(msg, "\n")
	i := strings.IndexByte(msg, '"')
	if i < 0 {
		return "", fmt.Errorf("ftp: no quoted path in 257 reply %q", truncate(msg, 80))
	}
	var b strings.Builder
	for j := i + 1; j < len(msg); j++ {
		if msg[j] != '"' {
			b.WriteByte(msg[j])
			continue
		}
		if j+1 < len(msg) && msg[j+1] == '"' {
			b.WriteByte('"')
			j++
			continue
		}
		return b.String(), nil
	}
	return "", fmt.Errorf("ftp: unterminated path in 257 reply %q", truncate(msg, 80))
}

// MakeDir creates a directory and returns its path as the server names it.
func (c *Client) MakeDir(dir string) (string, error) {
	if err := checkArgs(dir); err != nil {
		return "", err
	}
	msg, err := c.expect(257, "MKD "+dir)
	if err != nil {
		return "", err
	}
	if p, err := quotedPath(msg); err == nil {
		return p, nil
	}
	return dir, nil
}

// RemoveDir removes an empty directory.
func (c *Client) RemoveDir(dir string) error {
	if err := checkArgs(dir); err != nil {
		return err
	}
	_, err := c.expect(250, "RMD "+dir)
	return err
}

// Delete removes a file.
func (c *Client) Delete(path string) error {
	if err := checkArgs(path); err != nil {
		return err
	}
	_, err := c.expect(250, "DELE "+path)
	return err
}

// Rename renames from to to (RNFR, RNTO).
func (c *Client) Rename(from, to string) error {
	if err := checkArgs(from, to); err != nil {
		return err
	}
	if _, err := c.expect(350, "RNFR "+from); err != nil {
		return err
	}
	_, err := c.expect(250, "RNTO "+to)
	return err
}

// Size returns a file's size (SIZE, RFC 3659); in ASCII type the server
// may count CRLF line ends, so ask in binary type for the byte count.
func (c *Client) Size(path string) (int64, error) {
	if err := checkArgs(path); err != nil {
		return 0, err
	}
	msg, err := c.expect(213, "SIZE "+path)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(msg), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("ftp: bad SIZE reply %q", truncate(msg, 80))
	}
	return n, nil
}

// ModTime returns a file's modification time in UTC (MDTM, RFC 3659).
func (c *Client) ModTime(path string) (time.Time, error) {
	if err := checkArgs(path); err != nil {
		return time.Time{}, err
	}
	msg, err := c.expect(213, "MDTM "+path)
	if err != nil {
		return time.Time{}, err
	}
	t, ok := parseTimeVal(strings.TrimSpace(msg))
	if !ok {
		return time.Time{}, fmt.Errorf("ftp: bad MDTM reply %q", truncate(msg, 80))
	}
	return t, nil
}

// SetModTime sets a file's modification time, as mirroring clients do
// after an upload: MFMT (draft-somers-ftp-mfxx) where FEAT lists it,
// else SITE UTIME (ProFTPD's and pure-ftpd's form). The time is sent in
// UTC to the second.
func (c *Client) SetModTime(path string, t time.Time) error {
	if err := checkArgs(path); err != nil {
		return err
	}
	ts := t.UTC().Format("20060102150405")
	if c.hasFeature("MFMT") {
		_, err := c.expect(213, "MFMT "+ts+" "+path)
		return err
	}
	_, err := c.expect(2, "SITE UTIME "+ts+" "+path)
	return err
}

// NoOp sends NOOP, to keep an idle connection open or check it is alive.
func (c *Client) NoOp() error {
	_, err := c.expect(200, "NOOP")
	return err
}

// Quit sends QUIT and closes the connection.
func (c *Client) Quit() error {
	_, err := c.expect(2, "QUIT")
	cerr := c.Close()
	if err != nil {
		return err
	}
	return cerr
}

// Close closes the control connection without QUIT. It may be called
// from another goroutine to abort a command or a transfer in progress.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		if c.dataConn != nil {
			c.dataConn.Close()
		}
		c.mu.Unlock()
		c.closeErr = c.conn.Close()
	})
	return c.closeErr
}
