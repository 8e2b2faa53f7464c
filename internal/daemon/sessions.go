package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// connIDs numbers the connections admitted by every daemon of the
// process, so that a session's id is never reused while it runs.
var connIDs atomic.Uint64

// SessionInfo is one open connection, as the operator console lists it.
type SessionInfo struct {
	ID       uint64    `json:"id"`
	Service  string    `json:"service"`
	Peer     string    `json:"peer"`           // the client's address
	User     string    `json:"user,omitempty"` // who logged in on it, if anyone has
	Since    time.Time `json:"since"`
	BytesIn  int64     `json:"bytes_in"`
	BytesOut int64     `json:"bytes_out"`
}

// Sessions lists the open connections of every stream service, oldest first.
func (d *Daemon) Sessions() []SessionInfo {
	d.connMu.Lock()
	out := make([]SessionInfo, 0, len(d.conns))
	for c := range d.conns {
		s := SessionInfo{ID: c.id, Service: c.r.Name, Peer: c.RemoteAddr().String(),
			Since: c.since, BytesIn: c.in.Load(), BytesOut: c.out.Load()}
		if u := c.user.Load(); u != nil {
			s.User = *u
		}
		out = append(out, s)
	}
	d.connMu.Unlock()
	slices.SortFunc(out, func(a, b SessionInfo) int { return int(a.ID) - int(b.ID) })
	return out
}

// LoginConn is Login for a session on the connection between local and
// remote, the addresses of the protocol's ConnInfo: besides recording
// the login, it shows user on that connection in the daemon's session
// list until end is called or the connection closes.
//
//	end := b.presence.LoginConn(u.Name, "imap", c.LocalAddr, c.RemoteAddr)
func (p *presence) LoginConn(user, protocol string, local, remote net.Addr) (end func()) {
	endLogin := p.Login(user, protocol)
	if p == nil || p.d == nil {
		return endLogin
	}
	endUser := p.d.sessionUser(local, remote, user)
	return func() { endLogin(); endUser() }
}

// connEnds is how a tracked connection and a protocol's ConnInfo name
// one connection: by its two addresses, which no other open TCP
// connection of this host shares.
func connEnds(local, remote net.Addr) string {
	if local == nil || remote == nil {
		return ""
	}
	return local.String() + " " + remote.String()
}

// sessionUser shows user on the open connection between local and
// remote until end is called, unless another login on it (an FTP USER
// after REIN) has replaced it by then. A connection the daemon does not
// track (none of its stream services') is left alone.
func (d *Daemon) sessionUser(local, remote net.Addr, user string) (end func()) {
	ends := connEnds(local, remote)
	if ends == "" {
		return func() {}
	}
	var found *trackedConn
	d.connMu.Lock()
	for c := range d.conns {
		if c.ends == ends {
			found = c
			break
		}
	}
	d.connMu.Unlock()
	if found == nil {
		return func() {}
	}
	u := &user
	found.user.Store(u)
	return func() { found.user.CompareAndSwap(u, nil) }
}

// CloseSession closes the open connection with the given id, and
// reports whether there was one.
func (d *Daemon) CloseSession(id uint64) bool {
	d.connMu.Lock()
	var found *trackedConn
	for c := range d.conns {
		if c.id == id {
			found = c
			break
		}
	}
	d.connMu.Unlock()
	if found == nil {
		return false
	}
	d.log.Info("session closed by an operator", "id", id, "service", found.r.Name, "client", found.ip)
	found.Close()
	return true
}

// logRingSize is how many recent log records the console can show.
const logRingSize = 200

// logRing keeps the most recent log records, formatted as text lines,
// for the operator console. It is fed by a handler that tees the
// daemon's own (see tee).
type logRing struct {
	mu    sync.Mutex
	lines []string
	next  int
	full  bool
}

func newLogRing(n int) *logRing { return &logRing{lines: make([]string, n)} }

func (r *logRing) add(line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines[r.next] = line
	r.next = (r.next + 1) % len(r.lines)
	if r.next == 0 {
		r.full = true
	}
}

// last returns up to n of the most recent lines, oldest first.
func (r *logRing) last(n int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var all []string
	if r.full {
		all = append(all, r.lines[r.next:]...)
	}
	all = append(all, r.lines[:r.next]...)
	if n < len(all) {
		all = all[len(all)-n:]
	}
	return all
}

// tee returns a handler that passes every record to h and, at Info and
// above, also to the ring.
func (r *logRing) tee(h slog.Handler) slog.Handler { return &teeHandler{h: h, ring: r} }

type teeHandler struct {
	h    slog.Handler
	ring *logRing
	// pre is the ring's text of the attributes added with WithAttrs,
	// each named with the groups open when it was added.
	pre string
	// group is the open groups' names, each followed by a dot.
	group string
}

func (t *teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || t.h.Enabled(ctx, l)
}

func (t *teeHandler) Handle(ctx context.Context, rec slog.Record) error {
	if rec.Level >= slog.LevelInfo {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %-5s %s", rec.Time.Format("15:04:05"), rec.Level, rec.Message)
		b.WriteString(t.pre)
		rec.Attrs(func(a slog.Attr) bool {
			ringAttr(&b, t.group, a)
			return true
		})
		t.ring.add(b.String())
	}
	if t.h.Enabled(ctx, rec.Level) {
		return t.h.Handle(ctx, rec)
	}
	return nil
}

// ringAttr writes a as " prefix.key=value", a group's attributes each
// under its name, leaving out empty attributes and groups as slog's
// handlers do.
func ringAttr(b *strings.Builder, prefix string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		if a.Key != "" {
			prefix += a.Key + "."
		}
		for _, g := range a.Value.Group() {
			ringAttr(b, prefix, g)
		}
		return
	}
	fmt.Fprintf(b, " %s%s=%v", prefix, a.Key, a.Value)
}

func (t *teeHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *t
	c.h = t.h.WithAttrs(attrs)
	var b strings.Builder
	b.WriteString(t.pre)
	for _, a := range attrs {
		ringAttr(&b, t.group, a)
	}
	c.pre = b.String()
	return &c
}

func (t *teeHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return t
	}
	c := *t
	c.h = t.h.WithGroup(name)
	c.group = t.group + name + "."
	return &c
}
