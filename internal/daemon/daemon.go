// Package daemon is plumb serve: it reads the config, opens the stores,
// adapts them to each protocol package's backend, binds every service's
// listener behind the daemon's limits, metrics, PROXY protocol and TLS,
// and runs them until shutdown. It is the only package that knows both
// the stores and the protocols.
package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Daemon runs every enabled service of one Config.
type Daemon struct {
	cfg    *Config
	log    *slog.Logger
	out    io.Writer
	tlsCfg *tls.Config
	stores stores

	limits  *limiter
	udpRate *rateLimiter
	trusted []netip.Prefix
	metrics *metrics

	running    []*running
	admin      *adminServer
	pending    []namedComponent // added by builders, not yet started
	components []namedComponent // started, in start order

	connMu sync.Mutex
	conns  map[*trackedConn]struct{}
	recent *logRing  // the last log records, for the operator console
	events *eventHub // what happens, for the web console, the API and webhooks

	started      time.Time
	shutdownOnce sync.Once
	shutdownErr  error
	stopping     atomic.Bool
	janitorStop  chan struct{}
	janitorDone  chan struct{}
}

// New returns a daemon for cfg that logs to log and writes messages
// meant for the person who started it (a first account's password) to out.
func New(cfg *Config, log *slog.Logger, out io.Writer) *Daemon {
	recent := newLogRing(logRingSize)
	log = slog.New(recent.tee(log.Handler()))
	d := &Daemon{cfg: cfg, log: log, out: out, recent: recent,
		limits:  newLimiter(cfg.Limits),
		udpRate: newRateLimiter(cfg.Limits.UDPRate),
		metrics: newMetrics(),
		conns:   make(map[*trackedConn]struct{}),
		events:  newEventHub(),
	}
	for _, p := range cfg.Limits.TrustedProxies {
		if pfx, err := netip.ParsePrefix(p); err == nil {
			d.trusted = append(d.trusted, pfx)
		}
	}
	return d
}

// Config returns the daemon's configuration.
func (d *Daemon) Config() *Config { return d.cfg }

// Logger returns the daemon's logger.
func (d *Daemon) Logger() *slog.Logger { return d.log }

// TLSConfig returns the TLS configuration every TLS listener and
// STARTTLS upgrade shares.
func (d *Daemon) TLSConfig() *tls.Config { return d.tlsCfg }

// DataDir returns the data directory.
func (d *Daemon) DataDir() string { return d.cfg.Data }

// Addr returns a service's configured address with the listen host filled in.
func (d *Daemon) Addr(addr string) string { return d.cfg.resolve(addr) }

// Bound describes one listening socket, for the start-up table.
type Bound struct {
	Name string
	Net  string
	Addr string
}

// Bound lists every listening socket in start order, the admin listener last.
func (d *Daemon) Bound() []Bound {
	var b []Bound
	for _, r := range d.running {
		n := r.Net
		if r.TLS {
			n += "+tls"
		}
		b = append(b, Bound{r.Name, n, r.bound.String()})
	}
	if d.admin != nil {
		n := "http"
		if d.admin.tls {
			n = "https"
		}
		b = append(b, Bound{"admin", n, d.admin.addr.String()})
	}
	return b
}

// Start checks the config, opens the data directory, the certificate
// and the accounts, builds every registered protocol's services, binds
// them all and the admin listener, starts the components the builders
// added, and then starts serving. If a step fails, what the earlier ones
// started is stopped, in reverse, and nothing is left listening or
// running; a bind error names the service and the address.
func (d *Daemon) Start(ctx context.Context) error {
	if err := d.cfg.validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := os.MkdirAll(d.cfg.Data, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	cert, err := LoadCertificate(d.cfg.Data, d.cfg.TLS.Cert, d.cfg.TLS.Key, d.cfg.certHosts()...)
	if err != nil {
		return err
	}
	d.tlsCfg = serverTLSConfig(cert)
	if err := d.openAccounts(); err != nil {
		return err
	}

	var services []Service
	for _, p := range protocols {
		s, err := p.build(d)
		if err != nil {
			d.pending = nil
			return fmt.Errorf("%s: %w", p.name, err)
		}
		services = append(services, s...)
	}
	tcpPorts := map[string]int{} // configured addr -> port TCP got, so UDP on port 0 shares it
	for _, s := range services {
		r, err := d.bind(s, tcpPorts)
		if err != nil {
			d.closeAll()
			return err
		}
		d.running = append(d.running, r)
	}
	if d.cfg.Admin.Enabled {
		a, err := d.startAdmin()
		if err != nil {
			d.closeAll()
			return fmt.Errorf("admin: listen tcp %s: %w", d.cfg.Admin.Addr, err)
		}
		d.admin = a
	}
	pending := d.pending
	d.pending = nil
	for _, c := range pending {
		if err := c.Start(ctx); err != nil {
			d.stopComponents(context.Background())
			d.closeAll()
			return fmt.Errorf("%s: starting: %w", c.name, err)
		}
		d.components = append(d.components, c)
	}
	for _, r := range d.running {
		go d.serve(r)
	}
	d.started = time.Now()
	d.janitorStop, d.janitorDone = make(chan struct{}), make(chan struct{})
	go d.janitor()
	d.log.Info("plumb serve started", "services", len(d.running), "components", len(d.components), "data", d.cfg.Data)
	return nil
}

// componentStopWait bounds how long stopping one component may take.
const componentStopWait = 5 * time.Second

// stopComponents stops the started components, last started first.
func (d *Daemon) stopComponents(ctx context.Context) {
	for i := len(d.components) - 1; i >= 0; i-- {
		c := d.components[i]
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), componentStopWait)
		if err := c.Stop(sctx); err != nil {
			d.log.Error("component did not stop", "component", c.name, "err", err)
		}
		cancel()
	}
	d.components = nil
}

// IdleTimeout is the idle timeout to give a protocol server: the
// config's limits.idle_timeout, or, when the config says 0 (none), a
// negative duration, which is "none" to every protocol package (their
// zero means their default).
func (d *Daemon) IdleTimeout() time.Duration {
	if t := d.cfg.Limits.IdleTimeout.Duration; t > 0 {
		return t
	}
	return -1
}

// LineTimeout is the time a protocol server gives a command line to
// arrive whole once its first byte has come: limits.line_timeout, or a
// negative duration (none) when the config says 0.
func (d *Daemon) LineTimeout() time.Duration {
	if t := d.cfg.Limits.LineTimeout.Duration; t > 0 {
		return t
	}
	return -1
}

func (d *Daemon) bind(s Service, tcpPorts map[string]int) (*running, error) {
	r := &running{Service: s, m: d.metrics.service(s.Name), done: make(chan struct{})}
	addr := s.Addr
	if host, port, err := net.SplitHostPort(addr); err == nil && port == "0" && s.Net == "udp" {
		if p, ok := tcpPorts[s.Addr]; ok {
			addr = net.JoinHostPort(host, strconv.Itoa(p))
		}
	}
	switch s.Net {
	case "tcp":
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("%s: cannot listen on tcp %s: %w", s.Name, addr, err)
		}
		r.bound = ln.Addr()
		tcpPorts[s.Addr] = ln.Addr().(*net.TCPAddr).Port
		r.ln = d.guard(ln, r)
	case "udp":
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, fmt.Errorf("%s: cannot listen on udp %s: %w", s.Name, addr, err)
		}
		r.bound = pc.LocalAddr()
		r.pc = &guardedPacketConn{PacketConn: pc, d: d, r: r}
	default:
		return nil, fmt.Errorf("%s: unknown network %q", s.Name, s.Net)
	}
	return r, nil
}

func (d *Daemon) serve(r *running) {
	defer close(r.done)
	var err error
	switch {
	case r.ln != nil:
		var ln net.Listener = r.ln
		if r.TLS {
			cfg := r.TLSConfig
			if cfg == nil {
				cfg = d.tlsCfg
			}
			ln = tls.NewListener(ln, cfg)
		}
		err = r.Stream.Serve(ln)
	case r.pc != nil:
		err = r.Packet.ServePacket(r.pc)
	}
	if err != nil && !d.stopping.Load() && !errors.Is(err, net.ErrClosed) {
		r.m.errors.Inc()
		d.log.Error("service stopped", "service", r.Name, "err", err)
	}
}

// closeAll closes every bound socket of a start that failed.
func (d *Daemon) closeAll() {
	for _, r := range d.running {
		if r.ln != nil {
			r.ln.Close()
			r.ln.loopWG.Wait()
		}
		if r.pc != nil {
			r.pc.Close()
		}
	}
	d.running = nil
	d.pending = nil
	if d.admin != nil {
		d.admin.srv.Close()
		d.admin.close()
		d.admin = nil
	}
}

// Shutdown stops accepting on every service, lets open sessions finish
// until ctx is done, then closes what is left. It returns ctx's error if
// sessions had to be cut off.
// Only the first call does the work; later calls return its result.
func (d *Daemon) Shutdown(ctx context.Context) error {
	d.shutdownOnce.Do(func() { d.shutdownErr = d.shutdown(ctx) })
	return d.shutdownErr
}

func (d *Daemon) shutdown(ctx context.Context) error {
	d.stopping.Store(true)
	for _, r := range d.running {
		if r.ln != nil {
			r.ln.Close()
		}
	}
	var wg sync.WaitGroup
	var forced atomic.Bool
	for _, r := range d.running {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r.Packet != nil {
				r.Packet.Close()
				r.pc.Close()
				return
			}
			if err := r.Stream.Shutdown(ctx); err != nil {
				forced.Store(true)
				r.Stream.Close()
			}
		}()
	}
	wg.Wait()
	if forced.Load() {
		d.closeConns() // whatever a server's Close missed
	}
	for _, r := range d.running {
		if r.ln != nil {
			r.ln.loopWG.Wait()
		}
		select {
		case <-r.done:
		case <-time.After(5 * time.Second):
			d.log.Error("service did not stop", "service", r.Name)
		}
	}
	if d.admin != nil {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		d.admin.srv.Shutdown(sctx) // event streams and waits do not end by themselves:
		d.admin.srv.Close()        // what is left after a second is cut
		d.admin.close()
		cancel()
	}
	if d.janitorStop != nil {
		close(d.janitorStop)
		<-d.janitorDone
	}
	d.stopComponents(ctx)
	if forced.Load() {
		return fmt.Errorf("shutdown: sessions still open after the grace period were closed: %w", context.DeadlineExceeded)
	}
	return nil
}

// Close stops everything at once, cutting open sessions.
func (d *Daemon) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d.Shutdown(ctx)
	return nil
}

func (d *Daemon) track(c *trackedConn, add bool) {
	d.connMu.Lock()
	defer d.connMu.Unlock()
	if add {
		d.conns[c] = struct{}{}
	} else {
		delete(d.conns, c)
	}
}

func (d *Daemon) closeConns() {
	d.connMu.Lock()
	cs := make([]*trackedConn, 0, len(d.conns))
	for c := range d.conns {
		cs = append(cs, c)
	}
	d.connMu.Unlock()
	for _, c := range cs {
		c.Close()
	}
}

// liveConns counts open connections by service, for the status page.
func (d *Daemon) liveConns() map[string]int {
	d.connMu.Lock()
	defer d.connMu.Unlock()
	n := map[string]int{}
	for c := range d.conns {
		n[c.r.Name]++
	}
	return n
}

// janitor closes connections idle longer than limits.idle_timeout and
// prunes the limiters' per-IP state. Idle is measured from the last
// read or write that moved bytes, so a client that stops reading (a
// slow reader) is cut off as surely as one that stops writing.
func (d *Daemon) janitor() {
	defer close(d.janitorDone)
	idle := d.cfg.Limits.IdleTimeout.Duration
	every := min(max(idle/4, 250*time.Millisecond), 30*time.Second)
	if idle <= 0 {
		every = 30 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-d.janitorStop:
			return
		case now := <-t.C:
			if idle > 0 {
				d.closeIdle(now.Add(-idle))
			}
			d.limits.prune()
			d.udpRate.prune()
		}
	}
}

func (d *Daemon) closeIdle(before time.Time) {
	cut := before.UnixNano()
	var idle []*trackedConn
	d.connMu.Lock()
	for c := range d.conns {
		if c.last.Load() < cut {
			idle = append(idle, c)
		}
	}
	d.connMu.Unlock()
	for _, c := range idle {
		d.log.Info("closing idle connection", "service", c.r.Name, "client", c.ip)
		c.Close()
	}
}
