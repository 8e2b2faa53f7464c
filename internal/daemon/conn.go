package daemon

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pires/go-proxyproto"
)

// running is one bound service.
type running struct {
	Service
	bound net.Addr
	ln    *guardedListener
	pc    *guardedPacketConn
	m     *serviceMetrics
	open  int // guarded by the daemon limiter's mutex
	done  chan struct{}

	logMu      sync.Mutex
	lastLog    time.Time
	suppressed int
}

// logRefusal logs a refused connection or dropped datagram once per
// burst: the first at once, then at most one line per 10 seconds with
// the count of those not logged.
func (r *running) logRefusal(log *slog.Logger, msg, reason, client string) {
	r.logMu.Lock()
	defer r.logMu.Unlock()
	now := time.Now()
	if now.Sub(r.lastLog) < 10*time.Second {
		r.suppressed++
		return
	}
	log.Warn(msg, "service", r.Name, "reason", reason, "client", client, "suppressed_since_last", r.suppressed)
	r.lastLog, r.suppressed = now, 0
}

// guardedListener admits connections through the daemon's limits and
// hands the admitted ones, wrapped in trackedConn, to the server.
// Accepting happens in a loop of its own so that a slow PROXY header
// never holds up the next client.
type guardedListener struct {
	inner  net.Listener
	d      *Daemon
	r      *running
	proxy  bool
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
	err    error // the accept loop's fatal error, set before closed is closed
	loopWG sync.WaitGroup
}

func (d *Daemon) guard(raw net.Listener, r *running) *guardedListener {
	g := &guardedListener{inner: raw, d: d, r: r, proxy: r.ProxyProtocol,
		conns: make(chan net.Conn), closed: make(chan struct{})}
	if r.ProxyProtocol {
		g.inner = &proxyproto.Listener{
			Listener:          raw,
			ReadHeaderTimeout: 5 * time.Second,
			ConnPolicy:        d.proxyPolicy(r),
		}
	}
	g.loopWG.Add(1)
	go g.acceptLoop()
	return g
}

// proxyPolicy requires a PROXY header from trusted load balancers and
// refuses every other peer, so a client cannot forge its address.
func (d *Daemon) proxyPolicy(r *running) proxyproto.ConnPolicyFunc {
	return func(opts proxyproto.ConnPolicyOptions) (proxyproto.Policy, error) {
		ip := addrIP(opts.Upstream)
		for _, p := range d.trusted {
			if p.Contains(ip) {
				return proxyproto.REQUIRE, nil
			}
		}
		r.m.refused(refusedProxy).Inc()
		r.logRefusal(d.log, "connection refused: PROXY protocol listener and the peer is not a trusted proxy", refusedProxy, ip.String())
		return proxyproto.REJECT, proxyproto.ErrInvalidUpstream
	}
}

func (g *guardedListener) acceptLoop() {
	defer g.loopWG.Done()
	var backoff time.Duration
	for {
		c, err := g.inner.Accept()
		if err != nil {
			select {
			case <-g.closed:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				// Out of file descriptors and the like: wait and go on.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				g.r.m.errors.Inc()
				g.d.log.Error("accept failed; retrying", "service", g.r.Name, "err", err, "retry_in", backoff)
				time.Sleep(backoff)
				continue
			}
			g.d.log.Error("accept failed; service stops", "service", g.r.Name, "err", err)
			g.r.m.errors.Inc()
			g.err = err
			g.Close()
			return
		}
		backoff = 0
		if g.proxy {
			go g.admit(c) // reading the PROXY header may block
		} else {
			g.admit(c)
		}
	}
}

func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

func (g *guardedListener) admit(c net.Conn) {
	ip := addrIP(c.RemoteAddr()) // with PROXY protocol this reads the header
	tc, reason := g.d.admitConn(c, g.r, ip.String(), limitKey(ip), false)
	if reason != "" {
		if len(g.r.Busy) > 0 && !g.r.TLS { // a TLS client cannot read a plaintext reply
			c.SetWriteDeadline(time.Now().Add(2 * time.Second))
			c.Write(g.r.Busy)
		}
		c.Close()
		return
	}
	select {
	case g.conns <- tc:
	case <-g.closed:
		tc.Close()
	}
}

// admitConn reserves a slot for c, from the client ip (limiter key
// key), under the daemon's limits and service r's cap. Admitted, c is
// returned wrapped in a trackedConn that r's metrics count, the idle
// janitor watches and Close releases; refused, the refusal is counted
// and logged and the limit c is over returned, and the caller closes c.
//
// related admits a connection that belongs to one already admitted, for
// the same client and service: an FTP data connection, under its
// control connection's ip and key. It is held to every limit on open
// connections (max_conns, max_conns_per_ip, the service's max_conns)
// but spends no accept_rate_per_ip token: that rate bounds how fast a
// client starts sessions, the session was charged when its control
// connection was accepted, and a client fetching many small files opens
// one data connection per file.
func (d *Daemon) admitConn(c net.Conn, r *running, ip, key string, related bool) (*trackedConn, string) {
	if reason := d.limits.admit(key, &r.open, r.MaxConns, related); reason != "" {
		r.m.refused(reason).Inc()
		msg := "connection refused over a limit"
		if related {
			msg = "data connection refused over a limit"
		}
		r.logRefusal(d.log, msg, reason, ip)
		return nil, reason
	}
	c = d.faults.Service(r.Name).Conn(c) // under the service's chaos rule, if it gets one
	tc := &trackedConn{Conn: c, d: d, r: r, ip: ip, key: key, id: connIDs.Add(1), since: time.Now(),
		ends: connEnds(c.LocalAddr(), c.RemoteAddr())}
	tc.touch()
	r.m.open.Inc()
	r.m.total.Inc()
	d.track(tc, true)
	return tc, ""
}

// Accept returns the next admitted connection.
func (g *guardedListener) Accept() (net.Conn, error) {
	select {
	case c := <-g.conns:
		return c, nil
	case <-g.closed:
		if g.err != nil {
			return nil, fmt.Errorf("%w: %w", net.ErrClosed, g.err)
		}
		return nil, net.ErrClosed
	}
}

// Close stops accepting; connections already handed out stay open.
func (g *guardedListener) Close() error {
	var err error
	g.once.Do(func() {
		close(g.closed)
		err = g.inner.Close()
	})
	return err
}

func (g *guardedListener) Addr() net.Addr { return g.inner.Addr() }

// trackedConn counts bytes, records activity for the idle timeout and
// frees its limiter slot when closed.
type trackedConn struct {
	net.Conn
	d    *Daemon
	r    *running
	ip   string
	key  string       // the limiter's key for ip
	last atomic.Int64 // unix nanoseconds of the last read or write that moved bytes
	// id, since and the byte counts are what the session list shows.
	id      uint64
	since   time.Time
	in, out atomic.Int64
	// ends names the connection by its two addresses, as a protocol's
	// ConnInfo gives them, and user is who logged in on it (nil before
	// a login): see Daemon.sessionUser.
	ends string
	user atomic.Pointer[string]
	once sync.Once
	// endLogin ends the presence session of the login SetUser last
	// recorded (HTTP's), or is nil.
	loginMu  sync.Mutex
	endLogin func()
}

func (c *trackedConn) touch() { c.last.Store(time.Now().UnixNano()) }

// Touch marks the connection active although no byte moved on it: an
// FTP control connection is silent while its data connection works,
// and must not be closed as idle meanwhile.
func (c *trackedConn) Touch() { c.touch() }

// NetConn returns the connection under the daemon's accounting, as
// crypto/tls's Conn.NetConn does, for code that needs the socket itself.
func (c *trackedConn) NetConn() net.Conn { return c.Conn }

func (c *trackedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.r.m.bytesIn.Add(float64(n))
		c.in.Add(int64(n))
		c.touch()
	}
	return n, err
}

func (c *trackedConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if n > 0 {
		c.r.m.bytesOut.Add(float64(n))
		c.out.Add(int64(n))
		c.touch()
	}
	return n, err
}

// CloseWrite half-closes when the underlying connection can, so
// protocols that signal end of data by shutting down writing still can.
func (c *trackedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.d.limits.release(c.key, &c.r.open)
		c.r.m.open.Dec()
		c.d.track(c, false)
		c.loginMu.Lock()
		if c.endLogin != nil {
			c.endLogin()
		}
		c.loginMu.Unlock()
	})
	return err
}

// guardedPacketConn counts datagrams and drops those over the per-IP
// rate before the server sees them, which bounds UDP amplification.
type guardedPacketConn struct {
	net.PacketConn
	d *Daemon
	r *running
}

func (p *guardedPacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := p.PacketConn.ReadFrom(b)
		if err != nil {
			return n, addr, err
		}
		p.r.m.datagrams.Inc()
		p.r.m.bytesIn.Add(float64(n))
		ip := addrIP(addr)
		if !p.d.udpRate.allow(limitKey(ip)) {
			p.r.m.dropped.Inc()
			p.r.logRefusal(p.d.log, "datagram dropped over the per-IP rate", refusedRate, ip.String())
			continue
		}
		return n, addr, nil
	}
}

func (p *guardedPacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	n, err := p.PacketConn.WriteTo(b, addr)
	if n > 0 {
		p.r.m.bytesOut.Add(float64(n))
	}
	return n, err
}

// limitKey is what the per-IP limits count by: the address for IPv4,
// the /64 for IPv6, since one host commonly has a whole /64 to pick
// addresses from (the accounts throttle counts the same way).
func limitKey(ip netip.Addr) string {
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// addrIP returns the IP of a TCP or UDP address, unmapped, or the zero
// Addr for other kinds (Unix sockets), which then share one limit.
func addrIP(a net.Addr) netip.Addr {
	switch a := a.(type) {
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	case *net.UDPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	}
	if a == nil {
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
