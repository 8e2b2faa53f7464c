package daemon

import (
	"sync"
	"time"
)

// Reasons a connection is refused, as logged and as the "reason" label
// of plumb_connections_refused_total.
const (
	refusedTotal   = "max_conns"
	refusedPerIP   = "max_conns_per_ip"
	refusedRate    = "accept_rate_per_ip"
	refusedService = "service_max_conns"
	refusedProxy   = "untrusted_proxy"
)

// limiter enforces the daemon-wide limits: open connections in total
// and per client IP, and accepted connections per second per IP (a
// token bucket). It is shared by every service.
type limiter struct {
	maxTotal int
	maxPerIP int
	rate     float64 // tokens per second; burst is twice that

	mu    sync.Mutex
	total int
	ips   map[string]*ipState
	now   func() time.Time
}

type ipState struct {
	open   int
	tokens float64
	last   time.Time
}

func newLimiter(l LimitsConfig) *limiter {
	return &limiter{maxTotal: l.MaxConns, maxPerIP: l.MaxConnsPerIP, rate: l.AcceptRate,
		ips: make(map[string]*ipState), now: time.Now}
}

// admit reserves a connection slot for ip, or returns the limit it is over.
// svcOpen and svcMax are the service's own count and cap (0: none). A
// related connection (see [Daemon.admitConn]) is held to every limit on
// open connections but spends no accept-rate token.
func (l *limiter) admit(ip string, svcOpen *int, svcMax int, related bool) (reason string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.ips[ip]
	if st == nil {
		st = &ipState{tokens: 2 * l.rate, last: l.now()}
		l.ips[ip] = st
	}
	if l.rate > 0 && !related {
		now := l.now()
		st.tokens += now.Sub(st.last).Seconds() * l.rate
		if burst := 2 * l.rate; st.tokens > burst {
			st.tokens = burst
		}
		st.last = now
		if st.tokens < 1 {
			return refusedRate
		}
	}
	switch {
	case l.maxTotal > 0 && l.total >= l.maxTotal:
		return refusedTotal
	case l.maxPerIP > 0 && st.open >= l.maxPerIP:
		return refusedPerIP
	case svcMax > 0 && *svcOpen >= svcMax:
		return refusedService
	}
	if l.rate > 0 && !related {
		st.tokens--
	}
	l.total++
	st.open++
	*svcOpen++
	return ""
}

// release frees the slot admit reserved.
func (l *limiter) release(ip string, svcOpen *int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	*svcOpen--
	if st := l.ips[ip]; st != nil {
		st.open--
	}
}

// prune forgets IPs with no open connection and a full bucket, so the
// map does not grow with every client ever seen.
func (l *limiter) prune() {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for ip, st := range l.ips {
		full := l.rate == 0 || st.tokens+now.Sub(st.last).Seconds()*l.rate >= 2*l.rate
		if st.open == 0 && full {
			delete(l.ips, ip)
		}
	}
}

// rateLimiter is a per-IP token bucket for datagrams.
type rateLimiter struct {
	rate float64
	mu   sync.Mutex
	ips  map[string]*ipState
	now  func() time.Time
}

func newRateLimiter(rate float64) *rateLimiter {
	return &rateLimiter{rate: rate, ips: make(map[string]*ipState), now: time.Now}
}

// allow reports whether one more datagram from ip may be answered.
func (r *rateLimiter) allow(ip string) bool {
	if r.rate <= 0 {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	st := r.ips[ip]
	if st == nil {
		if len(r.ips) > 100000 { // a spoofed-source flood must not grow the map without bound
			clear(r.ips)
		}
		st = &ipState{tokens: 2 * r.rate, last: now}
		r.ips[ip] = st
	}
	st.tokens += now.Sub(st.last).Seconds() * r.rate
	if burst := 2 * r.rate; st.tokens > burst {
		st.tokens = burst
	}
	st.last = now
	if st.tokens < 1 {
		return false
	}
	st.tokens--
	return true
}

func (r *rateLimiter) prune() {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	for ip, st := range r.ips {
		if st.tokens+now.Sub(st.last).Seconds()*r.rate >= 2*r.rate {
			delete(r.ips, ip)
		}
	}
}
