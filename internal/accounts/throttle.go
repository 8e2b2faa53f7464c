package accounts

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Throttle slows down password guessing from one client address (an
// IPv4 address, or the /64 of an IPv6 one); zero fields take the
// defaults shown.
//
// Attempts from one address are serialised: one check is in flight per
// address at a time, and the others wait their turn, however many
// connections they come on. Once an address has Failures failures, each
// attempt from it, right or wrong, also waits Delay after its turn
// comes and before its check, doubling with each further failure up to
// MaxDelay. So n parallel guesses cost their sum of delays, one after
// the other, as n sequential ones would: opening connections does not
// multiply the rate, and a right password among them is not answered
// before its turn. The price is that clients sharing one address (a NAT,
// a proxy that sends no PROXY header) also check one at a time, which
// takes one bcrypt comparison each (less for a password checked in the
// last minutes, see the verified-password cache).
type Throttle struct {
	Failures int           // failures allowed before attempts are delayed (5); negative disables throttling
	Window   time.Duration // failures are forgotten this long after the last one (15m)
	Delay    time.Duration // wait before the first delayed attempt, doubling after each failure (1s)
	MaxDelay time.Duration // cap on the doubling (30s)
	// MaxClients bounds the addresses remembered (65536); when full,
	// expired entries are dropped, then arbitrary ones, but never one
	// with an attempt in progress.
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

// client is what the throttle knows of one address.
type client struct {
	n     int           // failures in the current window
	last  time.Time     // last failure
	turn  chan struct{} // holds a token while an attempt from here has its turn
	inUse int           // attempts holding or waiting for the turn; the entry stays while > 0
}

type failures struct {
	t  Throttle
	mu sync.Mutex
	m  map[string]*client
}

func newFailures(t Throttle) *failures { return &failures{t: t, m: map[string]*client{}} }

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

// delay is the wait before an attempt after n failures: none below
// Failures, then Delay doubling up to MaxDelay.
func (f *failures) delay(n int) time.Duration {
	if n < f.t.Failures {
		return 0
	}
	d := f.t.Delay
	for i := f.t.Failures; i < n && d < f.t.MaxDelay; i++ {
		d *= 2
	}
	return min(d, f.t.MaxDelay)
}

// next is the wait the next attempt from key would get once its turn
// comes.
func (f *failures) next(key string) time.Duration {
	if key == "" || f.t.Failures < 0 {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.m[key]
	if e == nil {
		return 0
	}
	return f.delay(f.countLocked(e, time.Now()))
}

// begin waits until the attempt from key has its turn and has waited
// out the failures before it. The caller checks the password and then
// must call end, which counts a failure if failed, ends the turn, and
// returns the failures now counted.
func (f *failures) begin(ctx context.Context, key string) (end func(failed bool) int, err error) {
	if key == "" || f.t.Failures < 0 {
		return func(bool) int { return 0 }, nil
	}
	f.mu.Lock()
	e := f.entryLocked(key, time.Now())
	e.inUse++
	f.mu.Unlock()

	select {
	case e.turn <- struct{}{}:
	case <-ctx.Done():
		f.leave(key, e)
		return nil, fmt.Errorf("accounts: waiting for earlier attempts from this address: %w", ctx.Err())
	}
	f.mu.Lock()
	d := f.delay(f.countLocked(e, time.Now()))
	f.mu.Unlock()
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			<-e.turn
			f.leave(key, e)
			return nil, fmt.Errorf("accounts: waiting out earlier failures: %w", ctx.Err())
		}
	}
	return func(failed bool) int {
		now := time.Now()
		f.mu.Lock()
		n := f.countLocked(e, now)
		if failed {
			e.n++
			e.last = now
			n = e.n
		}
		f.mu.Unlock()
		<-e.turn
		f.leave(key, e)
		return n
	}, nil
}

// countLocked returns e's failures, forgetting them once Window has
// passed since the last.
func (f *failures) countLocked(e *client, now time.Time) int {
	if e.n > 0 && now.Sub(e.last) > f.t.Window {
		e.n = 0
	}
	return e.n
}

// leave drops an attempt's claim on e, and e itself once nothing about
// it is worth remembering.
func (f *failures) leave(key string, e *client) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e.inUse--
	if e.inUse == 0 && f.countLocked(e, time.Now()) == 0 && f.m[key] == e {
		delete(f.m, key)
	}
}

// entryLocked returns key's entry, making one if needed.
func (f *failures) entryLocked(key string, now time.Time) *client {
	e := f.m[key]
	if e == nil {
		if len(f.m) >= f.t.MaxClients {
			f.pruneLocked(now)
		}
		e = &client{turn: make(chan struct{}, 1)}
		f.m[key] = e
	}
	return e
}

// fail counts a failure from key outside any attempt (tests make an
// address throttled with it) and returns the count.
func (f *failures) fail(key string) int {
	if key == "" || f.t.Failures < 0 {
		return 0
	}
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.entryLocked(key, now)
	e.n = f.countLocked(e, now) + 1
	e.last = now
	return e.n
}

func (f *failures) pruneLocked(now time.Time) {
	for k, e := range f.m {
		if e.inUse == 0 && f.countLocked(e, now) == 0 {
			delete(f.m, k)
		}
	}
	for k, e := range f.m {
		if len(f.m) < f.t.MaxClients {
			break
		}
		if e.inUse == 0 {
			delete(f.m, k)
		}
	}
}
