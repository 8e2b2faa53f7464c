// Package lifecycle is the one server loop behind every stream server in
// plumb: it accepts on any number of listeners, tracks the sessions it
// starts, and stops them the way net/http's Server does.
//
// A protocol package keeps a Loop in its Server (unexported) and forwards
// Serve, Shutdown and Close to it; each accepted connection becomes a
// [Session] of the protocol's. The rules, the same for every protocol:
//
//   - Serve returns [ErrServerClosed] (which matches net.ErrClosed) once
//     Shutdown or Close has been called, at once if it is called after
//     them, and closes its listener when it returns.
//   - An Accept error other than a closed listener (a full file table, a
//     reset before accept, a bad PROXY header) is logged and retried with
//     a backoff from 5 ms doubling to 1 s, so one bad moment never stops
//     a listener.
//   - Shutdown stops accepting, wakes every session once (a session
//     waiting for a command says goodbye and ends; a busy one finishes its
//     command and then sees [Loop.Closing]), waits for them all, and at
//     ctx's deadline closes what is left and returns ctx's error.
//   - Close closes every listener and session at once, and cancels
//     [Loop.Context], which sessions pass to their backend calls.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// ErrServerClosed is returned by Serve after Shutdown or Close. Every
// protocol package exports it under its own name; it matches
// net.ErrClosed with errors.Is.
var ErrServerClosed = fmt.Errorf("server closed: %w", net.ErrClosed)

// A Session is one accepted connection as the loop sees it.
type Session interface {
	// Serve runs the session until the peer leaves or the connection is
	// closed. It must return soon after Close.
	Serve()
	// Wake is called once, by Shutdown: a session waiting for its next
	// command ends (with the protocol's goodbye, if it has one); a session
	// in the middle of a command lets it finish and ends before reading
	// another, because it checks Loop.Closing between commands.
	Wake()
	// Close closes the connection now.
	Close()
}

// Backoff bounds for retried Accept errors.
const (
	minBackoff = 5 * time.Millisecond
	maxBackoff = time.Second
)

// A Loop accepts connections and tracks sessions. The zero value is ready
// to use; a Loop must not be copied after first use.
type Loop struct {
	// Name prefixes log lines ("smtp", "ftp").
	Name string
	// Logger receives retried Accept errors; nil means slog.Default().
	Logger *slog.Logger

	mu        sync.Mutex
	ctx       context.Context // canceled by Close
	cancel    context.CancelFunc
	closed    bool
	stop      chan struct{}              // closed with closed = true; ends backoff sleeps
	listeners map[*net.Listener]struct{} // by pointer: a listener need not be comparable
	sessions  map[Session]struct{}
	wg        sync.WaitGroup
}

// Serve accepts connections on ln until Shutdown or Close, and serves each
// in its own goroutine as the Session newSession makes of it.
func (l *Loop) Serve(ln net.Listener, newSession func(net.Conn) Session) error {
	if !l.addListener(&ln) {
		ln.Close()
		return ErrServerClosed
	}
	defer func() {
		l.mu.Lock()
		delete(l.listeners, &ln)
		l.mu.Unlock()
		ln.Close()
	}()
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if l.Closing() || errors.Is(err, net.ErrClosed) {
				return ErrServerClosed
			}
			delay = min(max(2*delay, minBackoff), maxBackoff)
			Logger(l.Logger).Warn(l.Name+": accept failed; retrying", "addr", ln.Addr().String(), "err", err, "delay", delay)
			if !l.sleep(delay) {
				return ErrServerClosed
			}
			continue
		}
		delay = 0
		s := newSession(nc)
		if !l.addSession(s) {
			nc.Close()
			return ErrServerClosed
		}
		go func() {
			defer l.wg.Done()
			defer l.removeSession(s)
			s.Serve()
		}()
	}
}

// Closing reports whether Shutdown or Close has been called. A session
// checks it before waiting for its next command.
func (l *Loop) Closing() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

// Shutdown stops accepting, wakes every session once and waits for them
// to end. When ctx is done first it closes the rest and returns ctx.Err().
func (l *Loop) Shutdown(ctx context.Context) error {
	for _, s := range l.closeAll() {
		s.Wake()
	}
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		// Like net/http, do not wait for the sessions Close ends: a
		// backend call that ignores its context would hold Shutdown.
		l.Close()
		return ctx.Err()
	}
}

// Context is canceled by Close (and by Shutdown at its deadline). A
// session passes it, or a context derived from it, to its backend calls,
// so that closing the server ends them.
func (l *Loop) Context() context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	return l.ctx
}

func (l *Loop) init() {
	if l.ctx == nil {
		l.ctx, l.cancel = context.WithCancel(context.Background())
		l.listeners = map[*net.Listener]struct{}{}
		l.sessions = map[Session]struct{}{}
		l.stop = make(chan struct{})
	}
}

// Close stops accepting, closes every session at once and cancels
// Context. It does not wait for the sessions' goroutines to end.
func (l *Loop) Close() error {
	sessions := l.closeAll()
	l.cancel()
	for _, s := range sessions {
		s.Close()
	}
	return nil
}

// closeAll marks the loop closed, closes its listeners and returns its
// sessions, which the caller wakes or closes outside the lock: a
// session's Wake and Close may take the session's own lock, under which
// the session may call Closing.
func (l *Loop) closeAll() []Session {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closeLocked()
	sessions := make([]Session, 0, len(l.sessions))
	for s := range l.sessions {
		sessions = append(sessions, s)
	}
	return sessions
}

// Sessions returns the number of sessions being served.
func (l *Loop) Sessions() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.sessions)
}

func (l *Loop) closeLocked() {
	l.init()
	if !l.closed {
		l.closed = true
		close(l.stop)
	}

	for ln := range l.listeners {
		(*ln).Close()
	}
}

func (l *Loop) addListener(ln *net.Listener) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.init()
	l.listeners[ln] = struct{}{}
	return true
}

func (l *Loop) addSession(s Session) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.sessions[s] = struct{}{}
	l.wg.Add(1)
	return true
}

func (l *Loop) removeSession(s Session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.sessions, s)
}

// sleep waits d or until the loop closes; it reports whether the loop is
// still open.
func (l *Loop) sleep(d time.Duration) bool {
	l.mu.Lock()
	l.init()
	stop := l.stop
	l.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return !l.Closing()
	case <-stop:
		return false
	}
}

// Logger is the house rule for a nil Logger field: slog.Default().
func Logger(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.Default()
}

// Timeout is the house rule for a Duration field: zero means the
// package's default def, a negative value means none (returned as 0,
// which SetDeadline helpers read as "no deadline").
func Timeout(v, def time.Duration) time.Duration {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// Deadline turns a timeout from Timeout into a deadline for
// net.Conn.SetDeadline: the zero time (none) for 0.
func Deadline(d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return time.Now().Add(d)
}
