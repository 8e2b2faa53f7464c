package simple

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

// DefaultTimeout bounds a client call whose context has no deadline.
const DefaultTimeout = 10 * time.Second

// maxReply bounds what a client reads of a daytime or qotd reply; a
// server that sends more is not one of these services.
const maxReply = 64 << 10

// udpRetry is how long a UDP client waits for a reply before it sends
// its request again (UDP may lose either).
const udpRetry = time.Second

// isUDP reports whether network is a datagram network ("udp", "udp4", "udp6").
func isUDP(network string) bool { return strings.HasPrefix(network, "udp") }

// Client asks the small services. Its zero value uses TCP and
// DefaultTimeout.
type Client struct {
	// Network is "tcp" (the default when empty), "udp", or their 4 and 6 forms.
	Network string
	// Timeout bounds a call whose context has no deadline; zero means
	// DefaultTimeout, negative means no bound but the context's (for an
	// endless chargen stream).
	Timeout time.Duration
	// Dialer dials the server; nil means a zero net.Dialer.
	Dialer *net.Dialer
}

func (cl *Client) network() string {
	if cl == nil || cl.Network == "" {
		return "tcp"
	}
	return cl.Network
}

// dial connects to addr and ties the connection's deadline to ctx (or
// to the client's timeout without one). The returned stop must be
// called when the call ends; ctx is the one the call must watch.
func (cl *Client) dial(ctx context.Context, addr string) (net.Conn, context.Context, func(), error) {
	network := cl.network()
	if strings.ContainsAny(addr, "\r\n\x00") || strings.ContainsAny(network, "\r\n\x00") {
		return nil, ctx, nil, fmt.Errorf("%w: address %q", ErrBadArgument, addr)
	}
	switch network {
	case "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6":
	default:
		return nil, ctx, nil, fmt.Errorf("simple: network %q: want tcp or udp", network)
	}
	cancel := context.CancelFunc(func() {})
	if _, ok := ctx.Deadline(); !ok && (cl == nil || cl.Timeout >= 0) {
		timeout := DefaultTimeout
		if cl != nil && cl.Timeout > 0 {
			timeout = cl.Timeout
		}
		ctx, cancel = context.WithTimeout(ctx, timeout)
	}
	d := &net.Dialer{}
	if cl != nil && cl.Dialer != nil {
		d = cl.Dialer
	}
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		cancel()
		return nil, ctx, nil, fmt.Errorf("simple: %w", err)
	}
	dl, _ := ctx.Deadline()
	c.SetDeadline(dl)
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	return c, ctx, func() { stop(); cancel() }, nil
}

// callErr prefers the context's error when the context ended the call.
func callErr(ctx context.Context, svc Service, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("simple: %s: %w", svc, context.Cause(ctx))
	}
	// The connection's deadline is ctx's, and may fire a moment before
	// ctx's own timer does.
	if dl, ok := ctx.Deadline(); ok && errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(dl) {
		return fmt.Errorf("simple: %s: %w", svc, context.DeadlineExceeded)
	}
	var re *ReplyError
	var me *MismatchError
	if errors.As(err, &re) || errors.As(err, &me) {
		return err
	}
	return fmt.Errorf("simple: %s: %w", svc, err)
}

// request gets one reply from a daytime, qotd or time server: over TCP
// everything until the server closes, over UDP one datagram answering
// an empty one (sent again each second until one comes).
func (cl *Client) request(ctx context.Context, svc Service, addr string) ([]byte, error) {
	c, ctx, stop, err := cl.dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	defer stop()
	defer c.Close()
	if isUDP(cl.network()) {
		b, err := exchangeDatagram(ctx, c, nil, make([]byte, MaxDatagram+1))
		return b, callErr(ctx, svc, err)
	}
	b, err := io.ReadAll(io.LimitReader(c, maxReply+1))
	if err != nil {
		return nil, callErr(ctx, svc, err)
	}
	if len(b) > maxReply {
		return nil, &ReplyError{Service: svc, Reason: fmt.Sprintf("reply longer than %d bytes", maxReply)}
	}
	return b, nil
}

// exchangeDatagram sends req on a connected UDP socket and returns the
// first datagram back, resending req each udpRetry until ctx ends.
func exchangeDatagram(ctx context.Context, c net.Conn, req, buf []byte) ([]byte, error) {
	dl, _ := ctx.Deadline()
	for {
		if _, err := c.Write(req); err != nil {
			return nil, err
		}
		wait := time.Now().Add(udpRetry)
		if !dl.IsZero() && dl.Before(wait) {
			wait = dl
		}
		c.SetReadDeadline(wait)
		n, err := c.Read(buf)
		if err == nil {
			return buf[:n], nil
		}
		var ne net.Error
		if ctx.Err() != nil || !errors.As(err, &ne) || !ne.Timeout() || wait.Equal(dl) {
			return nil, err
		}
	}
}

// Daytime returns a daytime server's reply (RFC 867) without its line end.
func (cl *Client) Daytime(ctx context.Context, addr string) (string, error) {
	b, err := cl.request(ctx, Daytime, addr)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// QOTD returns a quote of the day (RFC 865) without its final line end.
func (cl *Client) QOTD(ctx context.Context, addr string) (string, error) {
	b, err := cl.request(ctx, QOTD, addr)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// Time returns a time server's time (RFC 868), to the second.
func (cl *Client) Time(ctx context.Context, addr string) (time.Time, error) {
	b, err := cl.request(ctx, Time, addr)
	if err != nil {
		return time.Time{}, err
	}
	return DecodeTime(b)
}

// Chargen copies characters from a chargen server (RFC 864) to w and
// returns how many. Over TCP it reads n bytes, or with n <= 0 until the
// server closes or ctx ends. Over UDP it asks for datagrams until it has
// at least n bytes, or with n <= 0 one datagram. An end by ctx returns
// the count so far with ctx's error.
func (cl *Client) Chargen(ctx context.Context, addr string, w io.Writer, n int64) (int64, error) {
	c, ctx, stop, err := cl.dial(ctx, addr)
	if err != nil {
		return 0, err
	}
	defer stop()
	defer c.Close()
	if isUDP(cl.network()) {
		buf := make([]byte, MaxDatagram+1)
		var total int64
		for {
			b, err := exchangeDatagram(ctx, c, nil, buf)
			if err != nil {
				return total, callErr(ctx, Chargen, err)
			}
			m, err := w.Write(b)
			total += int64(m)
			if err != nil {
				return total, fmt.Errorf("simple: chargen: %w", err)
			}
			if total >= n {
				return total, nil
			}
		}
	}
	var r io.Reader = c
	if n > 0 {
		r = io.LimitReader(c, n)
	}
	total, err := io.Copy(w, r)
	if err == nil && n > 0 && total < n {
		err = io.ErrUnexpectedEOF
	}
	return total, callErr(ctx, Chargen, err)
}

// Discard sends data to a discard server (RFC 863): over TCP as a
// stream, over UDP as one datagram.
func (cl *Client) Discard(ctx context.Context, addr string, data []byte) error {
	c, ctx, stop, err := cl.dial(ctx, addr)
	if err != nil {
		return err
	}
	defer stop()
	defer c.Close()
	if isUDP(cl.network()) && len(data) > MaxDatagram {
		return fmt.Errorf("simple: discard: %d bytes do not fit a datagram (max %d)", len(data), MaxDatagram)
	}
	_, err = c.Write(data)
	return callErr(ctx, Discard, err)
}

// Echo sends msg to an echo server (RFC 862), checks that the echo is
// the same bytes, and returns the round-trip time. Over UDP msg is one
// datagram of at most MaxDatagram bytes.
func (cl *Client) Echo(ctx context.Context, addr string, msg []byte) (time.Duration, error) {
	c, ctx, stop, err := cl.dial(ctx, addr)
	if err != nil {
		return 0, err
	}
	defer stop()
	defer c.Close()
	e := NewEchoClient(c)
	start := time.Now()
	if err := e.RoundTrip(msg, nil); err != nil {
		return 0, callErr(ctx, Echo, err)
	}
	return time.Since(start), nil
}

// EchoClient makes repeated round trips on one connection to an echo
// server without allocating per message.
type EchoClient struct {
	conn net.Conn
	udp  bool
	buf  []byte
}

// DialEcho connects to an echo server; ctx bounds only the dial. Use
// [EchoClient.SetDeadline] to bound the round trips.
func (cl *Client) DialEcho(ctx context.Context, addr string) (*EchoClient, error) {
	c, _, stop, err := cl.dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	stop()
	c.SetDeadline(time.Time{})
	return NewEchoClient(c), nil
}

// NewEchoClient makes round trips on c, a TCP or a connected UDP socket.
func NewEchoClient(c net.Conn) *EchoClient {
	return &EchoClient{conn: c, udp: isUDP(c.LocalAddr().Network())}
}

// SetDeadline bounds the round trips that follow.
func (e *EchoClient) SetDeadline(t time.Time) error { return e.conn.SetDeadline(t) }

// Conn returns the underlying connection.
func (e *EchoClient) Conn() net.Conn { return e.conn }

// Close closes the connection.
func (e *EchoClient) Close() error { return e.conn.Close() }

// RoundTrip sends msg and reads its echo into reply (which must hold
// len(msg) bytes; nil makes the client use a buffer of its own), then
// checks it byte for byte, returning a *MismatchError if it differs.
func (e *EchoClient) RoundTrip(msg, reply []byte) error {
	if e.udp {
		if len(msg) > MaxDatagram {
			return fmt.Errorf("simple: echo: %d bytes do not fit a datagram (max %d)", len(msg), MaxDatagram)
		}
		if len(e.buf) < MaxDatagram+1 {
			e.buf = make([]byte, MaxDatagram+1)
		}
		if _, err := e.conn.Write(msg); err != nil {
			return err
		}
		n, err := e.conn.Read(e.buf)
		if err != nil {
			return err
		}
		return compareEcho(msg, e.buf[:n])
	}
	if len(reply) < len(msg) {
		if len(e.buf) < len(msg) {
			e.buf = make([]byte, len(msg))
		}
		reply = e.buf
	}
	reply = reply[:len(msg)]
	if _, err := e.conn.Write(msg); err != nil {
		return err
	}
	if _, err := io.ReadFull(e.conn, reply); err != nil {
		return err
	}
	return compareEcho(msg, reply)
}

func compareEcho(sent, got []byte) error {
	if bytes.Equal(sent, got) {
		return nil
	}
	for i := range sent {
		if i >= len(got) {
			return &MismatchError{Offset: i, Sent: sent[i], Short: true}
		}
		if sent[i] != got[i] {
			return &MismatchError{Offset: i, Sent: sent[i], Got: got[i]}
		}
	}
	return &MismatchError{Offset: len(sent), Got: got[len(sent)]}
}
