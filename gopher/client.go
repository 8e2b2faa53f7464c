package gopher

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
	"github.com/plumbnet/plumb/internal/wire"
)

// Defaults of the Client's zero-valued fields.
const (
	DefaultClientTimeout = 30 * time.Second
	DefaultMaxMenuLine   = 4096 + 2
)

// Client fetches gopher items. Gopher has one request per connection,
// so a Client holds no connection: like net/http's Client it is
// settings, and every call dials the URL's server (over TLS for
// gophers:// URLs). The zero value is ready to use and safe for
// concurrent use.
type Client struct {
	// Timeout bounds the connect and each wait for the server; 0 means
	// DefaultClientTimeout, negative none.
	Timeout time.Duration
	// TLSConfig is for gophers:// URLs; nil verifies the server against
	// the system's roots. ALPN "gopher" is offered.
	TLSConfig *tls.Config
	// MaxMenuItems bounds a menu; 0 means DefaultMaxMenuItems.
	MaxMenuItems int
	// MaxSize bounds a text or binary item in bytes; 0 means no limit.
	MaxSize int64
}

func (c *Client) timeout() time.Duration {
	switch {
	case c.Timeout == 0:
		return DefaultClientTimeout
	case c.Timeout < 0:
		return 0
	}
	return c.Timeout
}

// checkRequest refuses what would change the request line.
func checkRequest(u URL) error {
	if strings.ContainsAny(u.Selector, "\t\r\n\x00") {
		return fmt.Errorf("%w: selector %q holds TAB, CR, LF or NUL", ErrBadArgument, u.Selector)
	}
	if strings.ContainsAny(u.Search, "\t\r\n\x00") {
		return fmt.Errorf("%w: search %q holds TAB, CR, LF or NUL", ErrBadArgument, u.Search)
	}
	return nil
}

// A response is the server's answer on its connection.
type response struct {
	conn net.Conn
	br   *bufio.Reader
	stop func() bool
}

func (r *response) Close() error {
	r.stop()
	return r.conn.Close()
}

// deadlineReader gives each read of the response the client's timeout.
type deadlineReader struct {
	c net.Conn
	d time.Duration
}

func (r deadlineReader) Read(p []byte) (int, error) {
	if r.d > 0 {
		r.c.SetReadDeadline(time.Now().Add(r.d))
	}
	return r.c.Read(p)
}

// Open sends the request of u and returns the response to read to its
// end; closing it closes the connection. The caller reads it as u's
// type says: [Client.Menu], [Client.Text] and [Client.Binary] do.
func (c *Client) Open(ctx context.Context, u URL) (io.ReadCloser, error) {
	r, err := c.open(ctx, u)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{r.br, r}, nil
}

func (c *Client) open(ctx context.Context, u URL) (*response, error) {
	if err := checkRequest(u); err != nil {
		return nil, err
	}
	dctx, cancel := wire.WithTimeout(ctx, c.timeout())
	defer cancel()
	cfg := c.TLSConfig
	if u.TLS {
		if cfg == nil {
			cfg = &tls.Config{}
		}
		if len(cfg.NextProtos) == 0 {
			cfg = cfg.Clone()
			cfg.NextProtos = []string{ALPN}
		}
	}
	conn, _, err := wire.Dial(dctx, u.Host, cfg, u.TLS)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	line := u.Selector
	if u.Search != "" {
		line += "\t" + u.Search
	}
	if d := c.timeout(); d > 0 {
		conn.SetWriteDeadline(time.Now().Add(d))
	}
	if _, err := io.WriteString(conn, line+"\r\n"); err != nil {
		stop()
		conn.Close()
		return nil, err
	}
	return &response{conn: conn, br: bufio.NewReaderSize(deadlineReader{conn, c.timeout()}, 32<<10), stop: stop}, nil
}

// Menu fetches the menu of u (a type-1 item, or a type-7 search with
// u.Search set). A menu that is one type-3 item is that *Error.
func (c *Client) Menu(ctx context.Context, u URL) ([]Item, error) {
	r, err := c.open(ctx, u)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	items, err := ReadMenu(r.br, lifecycle.OrDefault(c.MaxMenuItems, DefaultMaxMenuItems))
	if err != nil {
		return items, ctxErr(ctx, err)
	}
	if len(items) == 1 && items[0].Type == TypeError {
		return nil, &Error{Msg: items[0].Display}
	}
	return items, nil
}

// ReadMenu reads menu lines up to the "." line or the end of r, at most
// max items. Lines that are not menu lines are skipped.
func ReadMenu(r *bufio.Reader, max int) ([]Item, error) {
	lr := wire.NewReader(r)
	lr.Lenient, lr.MaxLine = true, DefaultMaxMenuLine
	var items []Item
	for {
		line, err := lr.ReadLine()
		switch {
		case err == io.EOF:
			return items, nil
		case errors.Is(err, wire.ErrLineTooLong):
			return items, fmt.Errorf("%w: a menu line over %d bytes", ErrProtocol, DefaultMaxMenuLine)
		case err != nil:
			return items, err
		case line == ".":
			return items, nil
		}
		it, err := ParseItem(line)
		if err != nil {
			continue
		}
		if len(items) >= max {
			return items, fmt.Errorf("%w: a menu of more than %d items", ErrTooLarge, max)
		}
		items = append(items, it)
	}
}

// Text fetches the text item u and writes it to w with LF line ends.
// A last line that is "." alone, the end of a text as RFC 1436 section
// 3.8 has it, is left out; servers that send text raw (most, ours
// among them) end it with the connection instead, and a "." line
// before the end is text. Lines starting with ".." are written as they
// came: servers do not agree on dot-stuffing. A response that is one
// type-3 item is that *Error. It returns the bytes written.
func (c *Client) Text(ctx context.Context, u URL, w io.Writer) (int64, error) {
	r, err := c.open(ctx, u)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	n, err := readText(r.br, w, c.MaxSize)
	return n, ctxErr(ctx, err)
}

func readText(br *bufio.Reader, w io.Writer, max int64) (int64, error) {
	var n int64
	bol, first := true, true
	for {
		chunk, err := br.ReadSlice('\n')
		whole := err == nil // chunk ends a line
		if first {
			first = false
			if e := errorResponse(strings.TrimRight(string(chunk), "\r\n"), br); whole && e != nil {
				return 0, e
			}
		}
		if bol && (string(chunk) == ".\r\n" || string(chunk) == ".\n" || (string(chunk) == "." && err == io.EOF)) {
			if _, perr := br.Peek(1); perr == io.EOF {
				return n, nil
			}
		}
		out := chunk
		if whole {
			out = bytes.TrimSuffix(bytes.TrimSuffix(chunk, []byte("\n")), []byte("\r"))
		}
		if max > 0 && n+int64(len(out))+1 > max {
			return n, fmt.Errorf("%w: over %d bytes", ErrTooLarge, max)
		}
		k, werr := w.Write(out)
		n += int64(k)
		if werr == nil && whole {
			k, werr = w.Write([]byte{'\n'})
			n += int64(k)
		}
		if werr != nil {
			return n, werr
		}
		bol = whole
		switch {
		case err == nil || err == bufio.ErrBufferFull:
		case err == io.EOF:
			return n, nil
		default:
			return n, err
		}
	}
}

// errorResponse returns the *Error of a response whose first line is
// a type-3 item and whose rest is at most the "." line.
func errorResponse(first string, br *bufio.Reader) error {
	it, err := ParseItem(first)
	if err != nil || it.Type != TypeError || strings.Count(first, "\t") < 3 {
		return nil
	}
	rest, _ := br.Peek(8)
	if s := string(rest); s == "" || strings.HasPrefix(s, ".\r\n") || strings.HasPrefix(s, ".\n") || s == "." {
		return &Error{Msg: it.Display}
	}
	return nil
}

// Binary fetches item u raw, to the end of the connection, into w. A
// response that is nothing but one type-3 item is that *Error. It
// returns the bytes written.
func (c *Client) Binary(ctx context.Context, u URL, w io.Writer) (int64, error) {
	r, err := c.open(ctx, u)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	head, err := r.br.Peek(1024)
	if len(head) < 1024 && len(head) > 0 && head[0] == TypeError {
		line, rest, _ := bytes.Cut(head, []byte("\n"))
		if e := errorResponse(strings.TrimSuffix(string(line), "\r"), bufio.NewReader(bytes.NewReader(rest))); e != nil {
			return 0, e
		}
	}
	if err != nil && err != io.EOF {
		return 0, ctxErr(ctx, err)
	}
	var src io.Reader = r.br
	if c.MaxSize > 0 {
		src = io.LimitReader(r.br, c.MaxSize+1)
	}
	n, err := io.Copy(w, src)
	if c.MaxSize > 0 && n > c.MaxSize {
		return n, fmt.Errorf("%w: over %d bytes", ErrTooLarge, c.MaxSize)
	}
	return n, ctxErr(ctx, err)
}

// ctxErr prefers the context's error to the closed connection it caused.
func ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
