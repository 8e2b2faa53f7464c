package ftp

import (
	"bufio"
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
)

// maxListEntries bounds the lines of one listing the client keeps.
const maxListEntries = 1 << 20

// dataConn is an open data connection: conn carries the bytes (a
// *tls.Conn under PROT P), raw is the TCP connection beneath it.
type dataConn struct {
	conn    net.Conn
	raw     *net.TCPConn
	timeout time.Duration
}

// Read and Write push the deadline forward on every call, so the
// timeout bounds a stall, not the length of a transfer.
func (d *dataConn) Read(p []byte) (int, error) {
	d.raw.SetReadDeadline(lifecycle.Deadline(d.timeout))
	return d.conn.Read(p)
}

func (d *dataConn) Write(p []byte) (int, error) {
	d.raw.SetWriteDeadline(lifecycle.Deadline(d.timeout))
	return d.conn.Write(p)
}

// closeUpload ends an upload so that the server sees every byte: close
// our direction (close_notify under TLS, then FIN), then read until the
// server closes. Closing with unread bytes (TLS 1.3 session tickets)
// would make the kernel send a reset that can destroy data in flight.
func (d *dataConn) closeUpload() error {
	var err error
	if tc, ok := d.conn.(*tls.Conn); ok {
		err = tc.CloseWrite()
	}
	if cerr := d.raw.CloseWrite(); err == nil {
		err = cerr
	}
	d.raw.SetReadDeadline(lifecycle.Deadline(d.timeout))
	io.Copy(io.Discard, io.LimitReader(d.conn, 1<<20))
	d.raw.Close()
	return err
}

// passiveAddr asks the server for a passive data address: EPSV first
// (RFC 2428), PASV when EPSV is refused. The data connection always goes
// to the control connection's host: the address in a PASV reply is
// ignored, as it is wrong behind NAT and could point at a third host.
func (c *Client) passiveAddr() (string, error) {
	host := c.host
	if ra, ok := c.conn.RemoteAddr().(*net.TCPAddr); ok {
		host = ra.IP.String()
	}
	if !c.disableEPSV && !c.epsvFailed {
		code, msg, err := c.cmd("EPSV")
		if err != nil {
			return "", err
		}
		if code == 229 {
			port, err := epsvPort(msg)
			if err != nil {
				return "", err
			}
			return net.JoinHostPort(host, strconv.Itoa(port)), nil
		}
		if code/100 != 5 {
			return "", &Error{Code: code, Msg: msg}
		}
		c.epsvFailed = true
	}
	msg, err := c.expect(227, "PASV")
	if err != nil {
		return "", err
	}
	_, port, err := pasvAddr(msg)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// epsvPort parses a 229 reply: "Entering Extended Passive Mode (|||6446|)".
func epsvPort(msg string) (int, error) {
	start := strings.IndexByte(msg, '(')
	end := strings.LastIndexByte(msg, ')')
	if start < 0 || end < start+6 {
		return 0, fmt.Errorf("ftp: malformed EPSV reply %q", truncate(msg, 80))
	}
	inner := msg[start+1 : end]
	d := inner[0]
	f := strings.Split(inner, string(d))
	if d < 33 || d > 126 || len(f) != 5 || f[0] != "" || f[1] != "" || f[2] != "" || f[4] != "" {
		return 0, fmt.Errorf("ftp: malformed EPSV reply %q", truncate(msg, 80))
	}
	port, err := strconv.Atoi(f[3])
	if err != nil || port < 1 || port > 65535 {
		return 0, fmt.Errorf("ftp: bad port in EPSV reply %q", truncate(msg, 80))
	}
	return port, nil
}

// pasvAddr parses a 227 reply's "h1,h2,h3,h4,p1,p2", with or without
// the parentheses servers usually put around it.
func pasvAddr(msg string) (net.IP, int, error) {
	bad := fmt.Errorf("ftp: malformed PASV reply %q", truncate(msg, 80))
	i := strings.IndexAny(msg, "0123456789")
	if i < 0 {
		return nil, 0, bad
	}
	j := i
	for j < len(msg) && (msg[j] == ',' || (msg[j] >= '0' && msg[j] <= '9')) {
		j++
	}
	f := strings.Split(msg[i:j], ",")
	if len(f) != 6 {
		return nil, 0, bad
	}
	var b [6]byte
	for k, s := range f {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 255 {
			return nil, 0, bad
		}
		b[k] = byte(n)
	}
	port := int(b[4])<<8 | int(b[5])
	if port == 0 {
		return nil, 0, bad
	}
	return net.IPv4(b[0], b[1], b[2], b[3]), port, nil
}

// openData opens a data connection for the transfer command line and
// returns it once the server has accepted the command; nil with no error
// means the server finished at once with nothing to send.
func (c *Client) openData(line string, offset int64) (*dataConn, error) {
	if c.active {
		return c.openActive(line, offset)
	}
	addr, err := c.passiveAddr()
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: c.timeout}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ftp: data connection to %s: %w", addr, err)
	}
	done, err := c.startTransfer(line, offset)
	if err != nil || done {
		conn.Close()
		return nil, err
	}
	return c.secureData(conn.(*net.TCPConn))
}

// openActive listens on the control connection's local address, tells
// the server where (EPRT, or PORT when EPRT is refused), and accepts the
// server's connection, only from the server's own address.
func (c *Client) openActive(line string, offset int64) (*dataConn, error) {
	local, _ := c.conn.LocalAddr().(*net.TCPAddr)
	remote, _ := c.conn.RemoteAddr().(*net.TCPAddr)
	if local == nil || remote == nil {
		return nil, errors.New("ftp: active mode needs a TCP control connection")
	}
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: local.IP, Zone: local.Zone})
	if err != nil {
		return nil, fmt.Errorf("ftp: active mode: %w", err)
	}
	defer ln.Close()
	if err := c.sendPort(ln.Addr().(*net.TCPAddr)); err != nil {
		return nil, err
	}
	done, err := c.startTransfer(line, offset)
	if err != nil || done {
		return nil, err
	}
	ln.SetDeadline(lifecycle.Deadline(c.timeout))
	for {
		conn, err := ln.AcceptTCP()
		if err != nil {
			c.reply() // the server's verdict on the failed transfer
			return nil, fmt.Errorf("ftp: waiting for the server's data connection: %w", err)
		}
		if ra := conn.RemoteAddr().(*net.TCPAddr); !ra.IP.Equal(remote.IP) {
			conn.Close() // not the server: someone racing for our port
			continue
		}
		return c.secureData(conn)
	}
}

// sendPort announces the address the client listens on.
func (c *Client) sendPort(a *net.TCPAddr) error {
	ip4 := a.IP.To4()
	if !c.epsvFailed || ip4 == nil {
		proto := "2"
		if ip4 != nil {
			proto = "1"
		}
		code, msg, err := c.cmd(fmt.Sprintf("EPRT |%s|%s|%d|", proto, a.IP.String(), a.Port))
		if err != nil {
			return err
		}
		if code == 200 {
			return nil
		}
		if code/100 != 5 || ip4 == nil {
			return &Error{Code: code, Msg: msg}
		}
		c.epsvFailed = true
	}
	_, err := c.expect(200, fmt.Sprintf("PORT %d,%d,%d,%d,%d,%d", ip4[0], ip4[1], ip4[2], ip4[3], a.Port>>8, a.Port&0xff))
	return err
}

// startTransfer sends REST (for a non-zero offset) and the transfer
// command, and reads the preliminary reply. done is true when the
// server answered with a final positive reply straight away.
func (c *Client) startTransfer(line string, offset int64) (done bool, err error) {
	if offset > 0 {
		if _, err := c.expect(350, "REST "+strconv.FormatInt(offset, 10)); err != nil {
			return false, err
		}
	}
	code, msg, err := c.cmd(line)
	if err != nil {
		return false, err
	}
	switch code / 100 {
	case 1:
		return false, nil
	case 2:
		return true, nil
	}
	return false, &Error{Code: code, Msg: msg}
}

// secureData wraps a data connection in TLS under PROT P, resuming the
// control connection's session, and registers it for Close.
func (c *Client) secureData(raw *net.TCPConn) (*dataConn, error) {
	d := &dataConn{conn: raw, raw: raw, timeout: c.timeout}
	if c.protP {
		tc := tls.Client(raw, c.tlsConfig)
		raw.SetDeadline(lifecycle.Deadline(c.timeout))
		if err := tc.Handshake(); err != nil {
			raw.Close()
			c.reply()
			return nil, fmt.Errorf("ftp: TLS on the data connection: %w", err)
		}
		raw.SetDeadline(time.Time{})
		d.conn = tc
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		raw.Close()
		return nil, net.ErrClosed
	}
	c.dataConn = d.conn
	return d, nil
}

// endData reads the reply that ends a transfer. ioErr, an error of the
// transfer itself, wins over the reply's, but the reply is read either
// way so that the control connection stays in step.
func (c *Client) endData(ioErr error) error {
	c.mu.Lock()
	c.dataConn = nil
	c.mu.Unlock()
	code, msg, err := c.reply()
	if err == nil && code/100 != 2 {
		// The server's reason (552 over quota) beats the broken data
		// connection it caused.
		return &Error{Code: code, Msg: msg}
	}
	if ioErr != nil {
		return ioErr
	}
	return err
}

// Retr downloads path into w and returns the bytes written to w. An
// error means the file is incomplete, whatever n says.
func (c *Client) Retr(path string, w io.Writer) (n int64, err error) {
	return c.RetrFrom(path, w, 0)
}

// RetrFrom downloads path from byte offset on (REST offset, RETR), to
// resume an interrupted download; w receives the bytes after offset.
func (c *Client) RetrFrom(path string, w io.Writer, offset int64) (n int64, err error) {
	if err := checkArgs(path); err != nil {
		return 0, err
	}
	if offset < 0 {
		return 0, fmt.Errorf("ftp: negative offset %d", offset)
	}
	dc, err := c.openData("RETR "+path, offset)
	if err != nil || dc == nil {
		return 0, err
	}
	cw := &countWriter{w: w}
	var dst io.Writer = cw
	var conv *crlfToLF
	if c.ascii {
		conv = &crlfToLF{w: cw}
		dst = conv
	}
	_, ioErr := io.Copy(dst, dc)
	if ioErr == nil && conv != nil {
		ioErr = conv.flush()
	}
	dc.raw.Close()
	return cw.n, c.endData(ioErr)
}

// Stor uploads r to path, replacing it; it returns the bytes read from r.
func (c *Client) Stor(path string, r io.Reader) (int64, error) {
	return c.upload("STOR", path, r, 0)
}

// StorFrom resumes an upload (REST offset, STOR): r gives the file's
// bytes from offset on, which replace the server's bytes from offset.
func (c *Client) StorFrom(path string, r io.Reader, offset int64) (int64, error) {
	if offset < 0 {
		return 0, fmt.Errorf("ftp: negative offset %d", offset)
	}
	return c.upload("STOR", path, r, offset)
}

// Append uploads r to the end of path (APPE), creating it if need be.
func (c *Client) Append(path string, r io.Reader) (int64, error) {
	return c.upload("APPE", path, r, 0)
}

func (c *Client) upload(verb, path string, r io.Reader, offset int64) (int64, error) {
	if err := checkArgs(path); err != nil {
		return 0, err
	}
	dc, err := c.openData(verb+" "+path, offset)
	if err != nil || dc == nil {
		return 0, err
	}
	cr := &countReader{r: r}
	var dst io.Writer = dc
	if c.ascii {
		dst = &lfToCRLF{w: dc}
	}
	_, ioErr := io.Copy(dst, cr)
	if cerr := dc.closeUpload(); ioErr == nil {
		ioErr = cerr
	}
	return cr.n, c.endData(ioErr)
}

// listing runs a listing command and returns its lines.
func (c *Client) listing(verb, path string) ([]string, error) {
	if err := checkArgs(path); err != nil {
		return nil, err
	}
	line := verb
	if path != "" {
		line += " " + path
	}
	dc, err := c.openData(line, 0)
	if err != nil || dc == nil {
		return nil, err
	}
	var lines []string
	lr := wire.NewReader(bufio.NewReader(dc))
	lr.MaxLine, lr.Lenient = maxListLine+2, true
	var ioErr error
	for {
		l, err := readLine(lr)
		if err == io.EOF {
			break
		}
		if err != nil {
			ioErr = fmt.Errorf("ftp: reading %s listing: %w", verb, err)
			break
		}
		if len(lines) >= maxListEntries {
			ioErr = fmt.Errorf("ftp: %s listing longer than %d lines", verb, maxListEntries)
			break
		}
		if l != "" {
			lines = append(lines, l)
		}
	}
	dc.raw.Close()
	if err := c.endData(ioErr); err != nil {
		return nil, err
	}
	return lines, nil
}

// ListLines returns the raw lines of LIST path, as the server formats them.
func (c *Client) ListLines(path string) ([]string, error) { return c.listing("LIST", path) }

// List runs LIST path and parses the lines it can (Unix "ls -l" and DOS
// forms); lines it cannot parse, such as "total 12", are left out.
func (c *Client) List(path string) ([]*Entry, error) {
	lines, err := c.listing("LIST", path)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var es []*Entry
	for _, l := range lines {
		if e, err := parseListLine(l, now); err == nil {
			es = append(es, e)
		}
	}
	return es, nil
}

// NameList returns the names NLST path gives.
func (c *Client) NameList(path string) ([]string, error) { return c.listing("NLST", path) }

// MLSD lists a directory in the machine-readable form of RFC 3659. The
// entries for the directory itself and its parent are left out.
func (c *Client) MLSD(path string) ([]*Entry, error) {
	lines, err := c.listing("MLSD", path)
	if err != nil {
		return nil, err
	}
	var es []*Entry
	for _, l := range lines {
		e, err := parseMLSDLine(l)
		if err != nil {
			return nil, err
		}
		if !e.isCurrentOrParent() {
			es = append(es, e)
		}
	}
	return es, nil
}

// ReadDir lists a directory with MLSD when the server offers it (FEAT
// MLST), else with LIST.
func (c *Client) ReadDir(path string) ([]*Entry, error) {
	if c.hasFeature("MLST") {
		return c.MLSD(path)
	}
	return c.List(path)
}

// Stat returns the facts of one file or directory (MLST, RFC 3659).
func (c *Client) Stat(path string) (*Entry, error) {
	if err := checkArgs(path); err != nil {
		return nil, err
	}
	line := "MLST"
	if path != "" {
		line += " " + path
	}
	msg, err := c.expect(250, line)
	if err != nil {
		return nil, err
	}
	for _, l := range strings.Split(msg, "\n")[1:] {
		if strings.HasPrefix(l, " ") {
			return parseMLSDLine(l[1:])
		}
	}
	return nil, fmt.Errorf("ftp: MLST reply without facts: %q", truncate(msg, 80))
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// lfToCRLF writes its input with every bare LF made CRLF (ASCII upload).
type lfToCRLF struct {
	w      io.Writer
	lastCR bool
}

func (a *lfToCRLF) Write(p []byte) (int, error) {
	buf := make([]byte, 0, len(p)+len(p)/8+1)
	for _, b := range p {
		if b == '\n' && !a.lastCR {
			buf = append(buf, '\r')
		}
		buf = append(buf, b)
		a.lastCR = b == '\r'
	}
	if _, err := a.w.Write(buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// crlfToLF writes its input with the CR of every CRLF dropped (ASCII download).
type crlfToLF struct {
	w         io.Writer
	pendingCR bool
}

func (a *crlfToLF) Write(p []byte) (int, error) {
	buf := make([]byte, 0, len(p)+1)
	for _, b := range p {
		if a.pendingCR {
			a.pendingCR = false
			if b != '\n' {
				buf = append(buf, '\r')
			}
		}
		if b == '\r' {
			a.pendingCR = true
			continue
		}
		buf = append(buf, b)
	}
	if _, err := a.w.Write(buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (a *crlfToLF) flush() error {
	if !a.pendingCR {
		return nil
	}
	a.pendingCR = false
	_, err := a.w.Write([]byte{'\r'})
	return err
}
