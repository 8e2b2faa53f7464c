package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plumbnet/plumb/smtp"
)

// outQueue is the persistent outbound queue in <data>/queue: per
// message ID.msg (the message, fsynced) and ID.env (its envelope and
// retry state as JSON, written atomically). An .env file makes a
// message queued; an .msg without one is a spool a crash interrupted
// before the client heard 250, and is removed.
type outQueue struct {
	dir string
	be  *smtpBackend
	log *slog.Logger

	mu      sync.Mutex
	entries map[string]*queueEntry
	running map[string]bool
	wake    chan struct{}
	stopCh  chan struct{}
	stopped sync.Once
	started bool
	wg      sync.WaitGroup
}

// queueEntry is one queued message's envelope and state.
type queueEntry struct {
	ID        string    `json:"id"`
	From      string    `json:"from"`
	Rcpts     []string  `json:"rcpts"`           // not yet delivered
	Never     []string  `json:"never,omitempty"` // recipients with NOTIFY=NEVER: no bounce for them
	UTF8      bool      `json:"utf8,omitempty"`
	Body      string    `json:"body,omitempty"`
	Return    string    `json:"ret,omitempty"`
	EnvID     string    `json:"envid,omitempty"`
	Created   time.Time `json:"created"`
	Attempts  int       `json:"attempts"`
	Next      time.Time `json:"next"`
	LastError string    `json:"last_error,omitempty"`
}

func openQueue(dir string, be *smtpBackend) (*outQueue, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	q := &outQueue{dir: dir, be: be, log: be.log.With("queue", dir),
		entries: map[string]*queueEntry{}, running: map[string]bool{},
		wake: make(chan struct{}, 1), stopCh: make(chan struct{})}
	names, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	for _, n := range names {
		name := n.Name()
		switch {
		case strings.HasSuffix(name, ".env"):
			b, err := os.ReadFile(filepath.Join(dir, name))
			var e queueEntry
			if err == nil {
				err = json.Unmarshal(b, &e)
			}
			if err != nil || e.ID+".env" != name {
				q.log.Error("queue: unreadable envelope; moved aside", "file", name, "err", err)
				os.Rename(filepath.Join(dir, name), filepath.Join(dir, name+".bad"))
				continue
			}
			q.entries[e.ID] = &e
		case strings.HasSuffix(name, ".msg"):
			id := strings.TrimSuffix(name, ".msg")
			if _, err := os.Stat(filepath.Join(dir, id+".env")); errors.Is(err, os.ErrNotExist) {
				os.Remove(filepath.Join(dir, name)) // never acknowledged
			}
		}
	}
	return q, nil
}

// Len returns how many messages are queued.
func (q *outQueue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.entries)
}

func newQueueID() string {
	var b [6]byte
	rand.Read(b[:])
	return fmt.Sprintf("%x-%s", time.Now().UnixNano(), hex.EncodeToString(b[:]))
}

// spoolFile is a message written to the queue but not yet queued.
type spoolFile struct {
	id, path  string
	committed bool
}

// spool writes r to a new queue file and fsyncs it.
func (q *outQueue) spool(r io.Reader) (*spoolFile, error) {
	id := newQueueID()
	path := filepath.Join(q.dir, id+".msg")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("queue: writing %s: %w", path, err)
	}
	return &spoolFile{id: id, path: path}, nil
}

func (s *spoolFile) discard() {
	if !s.committed {
		os.Remove(s.path)
	}
}

// commit queues a spooled message for rcpts: when it returns nil the
// envelope is on disk and the message will be delivered.
func (q *outQueue) commit(s *spoolFile, from string, rcpts, never []string, opts smtp.MailOptions) error {
	now := time.Now()
	e := &queueEntry{ID: s.id, From: from, Rcpts: rcpts, Never: never, UTF8: opts.UTF8, Body: string(opts.Body),
		Return: opts.Return, EnvID: opts.EnvelopeID, Created: now, Next: now}
	if err := q.save(e); err != nil {
		return err
	}
	s.committed = true
	q.mu.Lock()
	q.entries[e.ID] = e
	q.mu.Unlock()
	q.poke()
	return nil
}

// enqueue spools and commits r in one step.
func (q *outQueue) enqueue(from string, rcpts []string, r io.Reader, opts smtp.MailOptions) error {
	s, err := q.spool(r)
	if err != nil {
		return err
	}
	defer s.discard()
	return q.commit(s, from, rcpts, nil, opts)
}

func (q *outQueue) save(e *queueEntry) error {
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(q.dir, e.ID+".env"), b, 0o600); err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	return syncDirectory(q.dir)
}

func (q *outQueue) remove(e *queueEntry) {
	os.Remove(filepath.Join(q.dir, e.ID+".env"))
	os.Remove(filepath.Join(q.dir, e.ID+".msg"))
	syncDirectory(q.dir)
	q.mu.Lock()
	delete(q.entries, e.ID)
	q.mu.Unlock()
}

func syncDirectory(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (q *outQueue) poke() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *outQueue) start() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started {
		return
	}
	q.started = true
	q.wg.Add(1)
	go q.loop()
}

// stop ends the delivery loop and waits for attempts in progress, which
// are cut short; what they did not finish stays queued.
func (q *outQueue) stop() {
	q.stopped.Do(func() { close(q.stopCh) })
	q.wg.Wait()
}

func (q *outQueue) concurrency() int {
	if n := q.be.cfg.Outbound.Concurrency; n > 0 {
		return n
	}
	return 8
}

func (q *outQueue) loop() {
	defer q.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		next := now.Add(time.Hour)
		q.mu.Lock()
		for id, e := range q.entries {
			switch {
			case q.running[id]:
			case !e.Next.After(now) && len(q.running) < q.concurrency():
				q.running[id] = true
				q.wg.Add(1)
				go q.attempt(e)
			case e.Next.Before(next):
				next = e.Next
			}
		}
		q.mu.Unlock()
		timer.Reset(max(time.Until(next), 10*time.Millisecond))
		select {
		case <-q.stopCh:
			return
		case <-q.wake:
		case <-timer.C:
		}
	}
}

// retryDelay is the wait after the n-th failed attempt.
func (q *outQueue) retryDelay(n int) time.Duration {
	r := q.be.cfg.Outbound.Retry
	if len(r) == 0 {
		return time.Minute
	}
	return r[min(n-1, len(r)-1)].Duration
}

func (q *outQueue) expire() time.Duration {
	if e := q.be.cfg.Outbound.Expire.Duration; e > 0 {
		return e
	}
	return 5 * 24 * time.Hour
}

// attempt tries every pending recipient of e once.
func (q *outQueue) attempt(e *queueEntry) {
	defer q.wg.Done()
	defer func() {
		q.mu.Lock()
		delete(q.running, e.ID)
		q.mu.Unlock()
		q.poke()
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-q.stopCh:
			cancel()
		case <-ctx.Done():
		}
	}()
	msgPath := filepath.Join(q.dir, e.ID+".msg")
	results := q.be.deliverRemote(ctx, e, msgPath)
	if ctx.Err() != nil {
		return // stopping: try again after the restart
	}
	var pending []string
	var failed []failedRcpt
	for _, r := range e.Rcpts {
		res, ok := results[r]
		switch {
		case !ok || res.err == nil:
		case res.permanent:
			failed = append(failed, failedRcpt{Addr: r, Reply: res.err.Error()})
		default:
			pending = append(pending, r)
			e.LastError = res.err.Error()
		}
	}
	if len(pending) > 0 && time.Since(e.Created) > q.expire() {
		for _, r := range pending {
			failed = append(failed, failedRcpt{Addr: r, Reply: "gave up after " + q.expire().String() + ": " + e.LastError})
		}
		pending = nil
	}
	failed = slices.DeleteFunc(failed, func(f failedRcpt) bool { return slices.Contains(e.Never, f.Addr) })
	if len(failed) > 0 {
		if e.From == "" {
			q.log.Warn("queue: bounce undeliverable; dropped", "id", e.ID, "failed", len(failed))
		} else if err := q.be.bounceFile(ctx, e.From, failed, msgPath); err != nil {
			// Keep the message so the bounce is tried again.
			q.log.Error("queue: could not queue a bounce", "id", e.ID, "err", err)
			for _, f := range failed {
				pending = append(pending, f.Addr)
			}
		}
	}
	if len(pending) == 0 {
		q.log.Info("queue: message done", "id", e.ID, "failed", len(failed))
		q.remove(e)
		return
	}
	q.mu.Lock()
	e.Rcpts = pending
	e.Attempts++
	e.Next = time.Now().Add(q.retryDelay(e.Attempts))
	q.mu.Unlock()
	q.log.Info("queue: delivery deferred", "id", e.ID, "pending", len(pending), "next", e.Next, "err", e.LastError)
	if err := q.save(e); err != nil {
		q.log.Error("queue: saving state", "id", e.ID, "err", err)
	}
}
