package pop3

import (
	"bytes"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"github.com/plumbnet/plumb/internal/wire"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
	"github.com/plumbnet/plumb/sasl"
)

// Capabilities asks CAPA (RFC 2449) and returns each capability's
// arguments by its upper-case name.
func (c *Client) Capabilities() (map[string][]string, error) {
	if _, err := c.cmd("CAPA"); err != nil {
		return nil, err
	}
	lines, err := c.readDotLines("CAPA")
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
// is the Dialer's, which names the host dialled; on a client from
// NewClient, the host of the connection's remote address.
func (c *Client) StartTLS(config *tls.Config) error {
	if config == nil {
		config = c.tlsConfig
	}
	if config == nil {
		host, _, _ := net.SplitHostPort(c.conn.RemoteAddr().String())
		config = wire.ClientTLS(nil, host)
	}
	if _, err := c.cmd("STLS"); err != nil {
		return err
	}
	tc := tls.Client(c.conn, config)
	tc.SetDeadline(lifecycle.Deadline(lifecycle.Timeout(c.Timeout, DefaultTimeout)))
	if err := tc.Handshake(); err != nil {
		c.conn.Close()
		return fmt.Errorf("pop3: STLS: %w", err)
	}
	tc.SetDeadline(time.Time{})
	c.conn, c.tls = tc, true
	c.lr.Conn = tc
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
	if err := checkArgs("AUTH", line); err != nil {
		return err
	}
	if err := c.send(line); err != nil {
		return err
	}
	for {
		reply, err := c.read(maxReplyLine, false)
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
	lines, err := c.readDotLines(cmd)
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

// Retr returns message n as sent: CRLF line ends, byte-stuffing
// undone, at most MaxMessageSize bytes.
func (c *Client) Retr(n int) ([]byte, error) {
	var b bytes.Buffer
	_, err := c.retr(n, &b, c.maxMessageSize())
	return b.Bytes(), err
}

// RetrTo copies message n to w and returns the bytes written; only its
// lines are bounded, not its size.
func (c *Client) RetrTo(n int, w io.Writer) (int64, error) { return c.retr(n, w, 0) }

func (c *Client) retr(n int, w io.Writer, limit int64) (int64, error) {
	if _, err := c.cmd("RETR", strconv.Itoa(n)); err != nil {
		return 0, err
	}
	return c.readBody(w, limit)
}

// Top returns message n's header and the first lines lines of its body.
func (c *Client) Top(n, lines int) ([]byte, error) {
	if _, err := c.cmd("TOP", strconv.Itoa(n), strconv.Itoa(lines)); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	_, err := c.readBody(&b, c.maxMessageSize())
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
