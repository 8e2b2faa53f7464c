package accounts

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Throttle slows down repeated authentication failures from one client
// address; zero fields take the defaults shown.
type Throttle struct {
	Failures int           // failures allowed before attempts are delayed (5); negative disables throttling
	Window   time.Duration // failures are forgotten this long after the last one (15m)
	Delay    time.Duration // wait before the first delayed attempt, doubling after each failure (1s)
	MaxDelay time.Duration // cap on one attempt's wait (30s)
	// MaxClients bounds the addresses remembered (65536); when full,
	// expired entries are dropped, then arbitrary ones.
	MaxClients int
}

func (t Throttle) withDefaults() Throttle {
	if t.Failures == 0 {
		t.Failures = 5
	}
	if t.Window <= 0 {
		t.Window = 15 * time.Minute
	}
	if t.Delay <= 0 {
		t.Delay = time.Second
	}
	if t.MaxDelay <= 0 {
		t.MaxDelay = 30 * time.Second
	}
	if t.MaxDelay < t.Delay {
		t.MaxDelay = t.Delay
	}
	if t.MaxClients <= 0 {
		t.MaxClients = 65536
	}
	return t
}

type failEntry struct {
	n     int       // failures in the current window
	last  time.Time // last failure
	ready time.Time // when the latest queued attempt may proceed
}

type failures struct {
	t  Throttle
	mu sync.Mutex
	m  map[string]*failEntry
}

func newFailures(t Throttle) *failures { return &failures{t: t, m: map[string]*failEntry{}} }

// clientKey is the address failures are counted against: the IPv4
// address, or the /64 of an IPv6 one (a host usually owns a whole /64).
// "" (no address) is not throttled.
func clientKey(a net.Addr) string {
	var ip netip.Addr
	switch a := a.(type) {
	case *net.TCPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	case *net.UDPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	case nil:
		return ""
	default:
		ap, err := netip.ParseAddrPort(a.String())
		if err != nil {
			return ""
		}
		ip = ap.Addr()
	}
	ip = ip.Unmap()
	if !ip.IsValid() {
		return ""
	}
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// delay is the wait before an attempt after n failures.
func (f *failures) delay(n int) time.Duration {
	d := f.t.Delay
	for i := f.t.Failures; i < n && d < f.t.MaxDelay; i++ {
		d *= 2
	}
	return min(d, f.t.MaxDelay)
}

// next is the wait the next attempt from key would get, ignoring
// attempts already queued.
func (f *failures) next(key string) time.Duration {
	if key == "" || f.t.Failures < 0 {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.m[key]
	if e == nil || time.Since(e.last) > f.t.Window || e.n < f.t.Failures {
		return 0
	}
	return f.delay(e.n)
}

// wait blocks an attempt from key as long as its failures require.
func (f *failures) wait(ctx context.Context, key string) error {
	if key == "" || f.t.Failures < 0 {
		return nil
	}
	now := time.Now()
	f.mu.Lock()
	e := f.m[key]
	if e != nil && now.Sub(e.last) > f.t.Window {
		delete(f.m, key)
		e = nil
	}
	if e == nil || e.n < f.t.Failures {
		f.mu.Unlock()
		return nil
	}
	// Attempts queue behind each other, each capped at MaxDelay.
	start := now
	if e.ready.After(now) {
		start = e.ready
	}
	ready := start.Add(f.delay(e.n))
	if limit := now.Add(f.t.MaxDelay); ready.After(limit) {
		ready = limit
	}
	e.ready = ready
	f.mu.Unlock()

	t := time.NewTimer(ready.Sub(now))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("accounts: waiting out earlier failures: %w", ctx.Err())
	}
}

// fail counts a failure from key and returns the count.
func (f *failures) fail(key string) int {
	if key == "" || f.t.Failures < 0 {
		return 0
	}
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.m[key]
	if e != nil && now.Sub(e.last) > f.t.Window {
		e = nil
	}
	if e == nil {
		if len(f.m) >= f.t.MaxClients {
			f.pruneLocked(now)
		}
		e = &failEntry{}
		f.m[key] = e
	}
	e.n++
	e.last = now
	return e.n
}

func (f *failures) pruneLocked(now time.Time) {
	for k, e := range f.m {
		if now.Sub(e.last) > f.t.Window {
			delete(f.m, k)
		}
	}
	for k := range f.m {
		if len(f.m) < f.t.MaxClients {
			break
		}
		delete(f.m, k)
	}
}
