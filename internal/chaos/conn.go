package chaos

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// maxChunk bounds one write under a bandwidth cap, so that pacing is
// smooth: at most a twentieth of a second's worth goes out at once.
const maxChunk = 32 << 10

// Conn is a connection under a service's connection faults: each Write
// pays the rule's latency and bandwidth and may be cut short (the
// connection then closed), each Read pays the bandwidth cap. With no
// rule, reads and writes go straight through.
type Conn struct {
	net.Conn
	s *Service

	written   atomic.Int64
	closed    chan struct{}
	closeOnce sync.Once
	noted     atomic.Uint32 // kinds already counted on this connection

	wmu, rmu     sync.Mutex
	wnext, rnext time.Time // when the bandwidth cap lets the next byte go
}

// Conn wraps c in the service's connection faults.
func (s *Service) Conn(c net.Conn) *Conn {
	return &Conn{Conn: c, s: s, closed: make(chan struct{})}
}

// Service is the service whose faults c is under.
func (c *Conn) Service() *Service { return c.s }

// NetConn returns the connection under the faults, as crypto/tls's
// Conn.NetConn does, for code that needs the socket.
func (c *Conn) NetConn() net.Conn { return c.Conn }

func (c *Conn) Write(b []byte) (int, error) {
	r := c.s.rule.Load()
	if !r.conn() {
		n, err := c.Conn.Write(b)
		c.written.Add(int64(n))
		return n, err
	}
	total := 0
	first := true
	for len(b) > 0 {
		chunk := b
		if r.Bandwidth > 0 {
			chunk = b[:min(int64(len(b)), chunkSize(r.Bandwidth))]
		}
		if cut, ok := c.cut(r, len(chunk)); ok {
			n, _ := c.Conn.Write(chunk[:cut])
			c.written.Add(int64(n))
			c.drop()
			return total + n, ErrDropped
		}
		delay := time.Duration(len(chunk)) * r.LatencyPerByte.Duration
		if first {
			delay += r.Latency.Duration
			first = false
		}
		if delay > 0 {
			c.note(KindLatency)
		}
		if r.Bandwidth > 0 {
			c.note(KindBandwidth)
			c.wmu.Lock()
			delay += c.pace(&c.wnext, len(chunk), r.Bandwidth)
			c.wmu.Unlock()
		}
		if !c.s.f.clock.wait(delay, c.closed) {
			return total, net.ErrClosed
		}
		n, err := c.Conn.Write(chunk)
		c.written.Add(int64(n))
		total += n
		if err != nil {
			return total, err
		}
		b = b[n:]
	}
	return total, nil
}

// cut reports whether a write of n bytes is to be cut short, and after
// how many of them.
func (c *Conn) cut(r *Rule, n int) (int, bool) {
	if r.DropAfterBytes > 0 {
		left := r.DropAfterBytes - c.written.Load()
		if int64(n) > left {
			c.s.injected(KindDrop, "after_bytes", r.DropAfterBytes)
			return int(max(left, 0)), true
		}
	}
	if r.DropProbability > 0 && c.s.take(r.DropProbability) {
		c.s.injected(KindDrop, "probability", r.DropProbability)
		return n / 2, true
	}
	return 0, false
}

func (c *Conn) Read(b []byte) (int, error) {
	r := c.s.rule.Load()
	if r == nil || r.Bandwidth <= 0 {
		return c.Conn.Read(b)
	}
	c.note(KindBandwidth)
	if int64(len(b)) > chunkSize(r.Bandwidth) {
		b = b[:chunkSize(r.Bandwidth)]
	}
	c.rmu.Lock()
	wait := c.pace(&c.rnext, 0, r.Bandwidth)
	c.rmu.Unlock()
	if !c.s.f.clock.wait(wait, c.closed) {
		return 0, net.ErrClosed
	}
	n, err := c.Conn.Read(b)
	c.rmu.Lock()
	c.pace(&c.rnext, n, r.Bandwidth)
	c.rmu.Unlock()
	return n, err
}

// pace returns how long to wait before n more bytes may move under a
// cap of bw bytes a second, and books them.
func (c *Conn) pace(next *time.Time, n int, bw int64) time.Duration {
	now := c.s.f.clock.now()
	if next.Before(now) {
		*next = now
	}
	wait := next.Sub(now)
	*next = next.Add(time.Duration(int64(n) * int64(time.Second) / bw))
	return wait
}

func chunkSize(bw int64) int64 { return min(max(bw/20, 1), maxChunk) }

// note counts a latency or bandwidth fault once per connection: they
// apply to every write, and one log line each would drown the log.
func (c *Conn) note(kind string) {
	bit := uint32(1)
	if kind == KindBandwidth {
		bit = 2
	}
	if c.noted.Or(bit)&bit == 0 {
		c.s.injected(kind, "remote", c.RemoteAddr().String())
	}
}

// drop closes the connection under a fault.
func (c *Conn) drop() {
	c.closeOnce.Do(func() { close(c.closed) })
	c.Conn.Close()
}

// Close closes the connection and ends any wait of its reads and writes.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// ReadFrom keeps zero-copy sends (sendfile) when the service has no
// connection faults, and copies through Write, under them, when it has.
func (c *Conn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok && !c.s.rule.Load().conn() {
		n, err := rf.ReadFrom(r)
		c.written.Add(n)
		return n, err
	}
	return io.Copy(struct{ io.Writer }{c}, r)
}

// CloseWrite half-closes when the connection under it can.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// Of returns the service of the Conn under c, looking through wrappers
// that expose what they wrap with NetConn, or nil when c is under none.
func Of(c net.Conn) *Service {
	for range 8 {
		switch w := c.(type) {
		case *Conn:
			return w.s
		case interface{ NetConn() net.Conn }:
			c = w.NetConn()
		default:
			return nil
		}
	}
	return nil
}

// GuardTLS returns a copy of cfg whose handshakes ask the service of
// their connection (see Of) whether to refuse them: the hook for TLS
// handshake failures, for listeners and STARTTLS alike.
func GuardTLS(cfg *tls.Config) *tls.Config {
	g := cfg.Clone()
	inner := cfg.GetConfigForClient
	g.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		if s := Of(h.Conn); s != nil && s.FailHandshake() {
			return nil, ErrTLSRefused
		}
		if inner != nil {
			return inner(h)
		}
		return nil, nil
	}
	return g
}
