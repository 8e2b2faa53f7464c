package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plumbnet/plumb/internal/atomicfile"
)

// presenceFile holds the last login of every user, in the data directory.
const presenceFile = "presence.json"

// presenceFlushDelay is how long a login waits to be written: every
// login within it is written in one go, so a flood of logins costs one
// write every few seconds and nothing per login.
const presenceFlushDelay = 3 * time.Second

// maxPresenceFile bounds the file read at start.
const maxPresenceFile = 16 << 20

// presence is who is logged in now, per live session, and when each
// user last logged in, over which protocol: what finger tells. A
// service's builder keeps d.Presence() in its backend (taking it in the
// builder makes the record a component the daemon stops, which writes
// it), records a successful login with one call,
//
//	end := b.presence.Login(user, "imap")
//
// and calls end (once or more) when that session ends. Last logins are
// written to <data>/presence.json with internal/atomicfile, at most
// every presenceFlushDelay and once more when the daemon stops; the
// sessions open now live only in memory.
type presence struct {
	path  string
	log   *slog.Logger
	now   func() time.Time
	delay time.Duration // presenceFlushDelay; tests lengthen it

	mu      sync.Mutex
	last    map[string]lastLogin
	live    map[*liveSession]struct{}
	dirty   bool        // last holds logins not yet written
	pending *time.Timer // a flush is scheduled
	stopped bool        // after Stop, every login is written at once

	flushMu sync.Mutex // one write at a time, in order

	d *Daemon // whose session list LoginConn names the user in; nil in tests
}

// lastLogin is one user's entry of presence.json.
type lastLogin struct {
	Protocol string    `json:"protocol"`
	Time     time.Time `json:"time"`
}

// liveSession is one session open now.
type liveSession struct {
	user, protocol string
	since          time.Time
}

// Presence returns the daemon's presence record, made (and its last
// logins read) the first time a builder asks for it.
func (d *Daemon) Presence() *presence {
	d.stores.presenceOnce.Do(func() {
		d.stores.presence = openPresence(filepath.Join(d.DataDir(), presenceFile), d.Logger())
		d.stores.presence.d = d
		d.addComponent("presence", d.stores.presence)
	})
	return d.stores.presence
}

// openPresence reads the last logins at path; a missing file is empty,
// and an unreadable one is logged and replaced at the next login.
func openPresence(path string, log *slog.Logger) *presence {
	p := &presence{path: path, log: log, now: time.Now, delay: presenceFlushDelay, last: map[string]lastLogin{}, live: map[*liveSession]struct{}{}}
	b, err := readBounded(path, maxPresenceFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		log.Warn("presence: last logins not read; starting afresh", "path", path, "err", err)
	default:
		if err := json.Unmarshal(b, &p.last); err != nil {
			log.Warn("presence: last logins not read; starting afresh", "path", path, "err", err)
			p.last = map[string]lastLogin{}
		}
	}
	return p
}

func readBounded(path string, max int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > max {
		return nil, errors.New("file too large")
	}
	return os.ReadFile(path)
}

// Login records a successful login of user over protocol and returns
// the function that ends the session; calling it again does nothing.
// A nil presence records nothing.
func (p *presence) Login(user, protocol string) (end func()) {
	if p == nil {
		return func() {}
	}
	user = strings.ToLower(user)
	s := &liveSession{user: user, protocol: protocol, since: p.now()}
	p.mu.Lock()
	p.last[user] = lastLogin{Protocol: protocol, Time: s.since.UTC().Truncate(time.Second)}
	p.live[s] = struct{}{}
	p.dirty = true
	flushNow := p.stopped
	if !flushNow && p.pending == nil {
		p.pending = time.AfterFunc(p.delay, p.flush)
	}
	p.mu.Unlock()
	if flushNow {
		p.flush()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			delete(p.live, s)
			p.mu.Unlock()
		})
	}
}

// Last returns user's last login, if one is known.
func (p *presence) Last(user string) (lastLogin, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.last[strings.ToLower(user)]
	return l, ok
}

// Sessions returns the sessions open now, of user or of everyone when
// user is "", by user and then by start.
func (p *presence) Sessions(user string) []liveSession {
	user = strings.ToLower(user)
	p.mu.Lock()
	out := make([]liveSession, 0, len(p.live))
	for s := range p.live {
		if user == "" || s.user == user {
			out = append(out, *s)
		}
	}
	p.mu.Unlock()
	slices.SortFunc(out, func(a, b liveSession) int {
		if c := strings.Compare(a.user, b.user); c != 0 {
			return c
		}
		return a.since.Compare(b.since)
	})
	return out
}

// flush writes the last logins, if any is not written yet.
func (p *presence) flush() {
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	p.mu.Lock()
	p.pending = nil
	if !p.dirty {
		p.mu.Unlock()
		return
	}
	p.dirty = false
	b, err := json.MarshalIndent(p.last, "", "  ")
	p.mu.Unlock()
	if err == nil {
		err = atomicfile.WriteFile(p.path, append(b, '\n'), 0o600)
	}
	if err != nil {
		p.log.Error("presence: last logins not written", "path", p.path, "err", err)
		p.mu.Lock()
		p.dirty = true // the next login tries again
		p.mu.Unlock()
	}
}

// Start does nothing: a flush is scheduled by the first login after the
// last one.
func (p *presence) Start(context.Context) error { return nil }

// Stop writes what a scheduled flush would have written; logins after
// it (a session finishing late) are written at once.
func (p *presence) Stop(context.Context) error {
	p.mu.Lock()
	p.stopped = true
	if p.pending != nil {
		p.pending.Stop()
	}
	p.mu.Unlock()
	p.flush() // after a flush in progress, if one is
	return nil
}
