// Package mta is plumb's mail transfer agent: the persistent outbound
// queue, delivery to other hosts (a smarthost, or the domain's MX hosts
// by RFC 5321 section 5.1), retries on a schedule, and delivery status
// notifications (RFC 3464) for what cannot be delivered. RFC 3461's
// NOTIFY=NEVER is honoured.
//
// A [Queue] is a component the daemon starts after its listeners bind
// and stops after they drain. It knows nothing of the local mail store:
// a bounce to a local sender goes through the [LocalDelivery] the
// daemon gives it.
package mta

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
	"strings"
	"sync"
	"time"

	"github.com/plumbnet/plumb/internal/atomicfile"
	"github.com/plumbnet/plumb/smtp"
)

// Defaults for the zero values of [Config].
const (
	DefaultRetry       = time.Minute
	DefaultExpire      = 5 * 24 * time.Hour
	DefaultConcurrency = 8
)

// Config says how queued mail leaves. Zero values mean the defaults.
type Config struct {
	// Hostname is this host's name, said in EHLO and written in DSNs.
	Hostname string
	// Smarthost is the host:port every message is handed to; empty
	// means the domain's MX hosts on port 25.
	Smarthost string
	// SmarthostTLS is "starttls" (when offered, unverified; the
	// default), "require-starttls" (verified), "tls" (implicit,
	// verified) or "none".
	SmarthostTLS string
	// SmarthostUser, if not empty, authenticates with AUTH PLAIN.
	SmarthostUser     string
	SmarthostPassword string
	// Retry are the waits between attempts; the last one repeats.
	// Empty means DefaultRetry.
	Retry []time.Duration
	// Expire is how long a message may stay queued before its sender
	// gets a bounce; 0 means DefaultExpire.
	Expire time.Duration
	// Concurrency bounds deliveries at once; 0 means DefaultConcurrency.
	Concurrency int
	// Logger receives the queue's logs; nil means slog.Default().
	Logger *slog.Logger
}

// LocalDelivery is what the MTA needs of this host's own mail system:
// it delivers the bounces addressed to local senders. The daemon's SMTP
// backend provides it.
type LocalDelivery interface {
	// DeliverLocal delivers msg, whose envelope sender is from ("" for
	// a bounce), to the local mailboxes rcpt resolves to, and returns
	// the addresses it resolves to elsewhere (rcpt itself when it is
	// not local; an alias may point off this host), which the MTA
	// queues. An error wrapping [ErrNoMailbox] says rcpt is local but
	// has no mailbox: the bounce is dropped, not retried.
	DeliverLocal(ctx context.Context, from, rcpt string, msg io.Reader) (remote []string, err error)
}

// ErrNoMailbox is wrapped by a [LocalDelivery] error for a local
// address without a mailbox.
var ErrNoMailbox = errors.New("mta: no such local mailbox")

// Envelope is a message's sender, recipients and MAIL options.
type Envelope struct {
	From  string
	Rcpts []string
	// Never are the recipients whose RCPT said NOTIFY=NEVER (RFC 3461
	// section 5.2): their failure gets no DSN.
	Never   []string
	Options smtp.MailOptions
}

// Queue is the persistent outbound queue in a directory: per message
// ID.msg (the message, fsynced) and ID.env (its envelope and retry
// state as JSON, written atomically). An .env file makes a message
// queued; an .msg without one is a spool a crash interrupted before the
// client heard 250, and is removed when the queue opens, and so is an
// ID.held, the envelope of a message [Queue.Hold] wrote and
// [Queue.Release] had not yet released.
type Queue struct {
	dir   string
	cfg   Config
	local LocalDelivery
	log   *slog.Logger

	mu      sync.Mutex
	entries map[string]*entry
	running map[string]bool
	wake    chan struct{}
	stopCh  chan struct{}
	stopped sync.Once
	started bool
	wg      sync.WaitGroup
}

// entry is one queued message's envelope and state, as stored in ID.env.
type entry struct {
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

// Open opens (creating it if need be) the queue in dir and loads what
// is queued there. Nothing is delivered before [Queue.Start].
func Open(dir string, local LocalDelivery, cfg Config) (*Queue, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	q := &Queue{dir: dir, cfg: cfg, local: local, log: log.With("queue", dir),
		entries: map[string]*entry{}, running: map[string]bool{},
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
			var e entry
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
		case strings.HasSuffix(name, ".held"):
			// Held and not released: the client was not told 250.
			q.log.Warn("queue: dropping a message held when the process stopped", "file", name)
			os.Remove(filepath.Join(dir, name))
		case atomicfile.IsTemp(name):
			os.Remove(filepath.Join(dir, name)) // an envelope write a crash cut short
		}
	}
	return q, nil
}

// Len returns how many messages are queued.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.entries)
}

func newID() string {
	var b [6]byte
	rand.Read(b[:])
	return fmt.Sprintf("%x-%s", time.Now().UnixNano(), hex.EncodeToString(b[:]))
}

// A Spool is a message written to the queue directory but not yet
// queued: [Queue.Commit] queues it, or [Queue.Hold] and then
// [Queue.Release] do; [Spool.Discard] removes it.
type Spool struct {
	id, path  string
	held      *entry // the envelope Hold wrote, until Release
	committed bool
}

// Open opens the spooled message for reading, for local delivery of the
// same message.
func (s *Spool) Open() (*os.File, error) { return os.Open(s.path) }

// Path returns the spool file's name.
func (s *Spool) Path() string { return s.path }

// Discard removes the spool, and the envelope Hold wrote for it, unless
// it was committed or released; it is meant to be deferred.
func (s *Spool) Discard() {
	if s.committed {
		return
	}
	if s.held != nil {
		dir := filepath.Dir(s.path)
		os.Remove(filepath.Join(dir, s.id+".held"))
		os.Remove(filepath.Join(dir, s.id+".env")) // a Release whose directory fsync failed
	}
	os.Remove(s.path)
}

// Spool writes r to a new queue file and fsyncs it.
func (q *Queue) Spool(r io.Reader) (*Spool, error) {
	id := newID()
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
	return &Spool{id: id, path: path}, nil
}

// Commit queues a spooled message for env: when it returns nil the
// envelope is on disk and the message will be delivered.
func (q *Queue) Commit(s *Spool, env Envelope) error {
	if s.held != nil || s.committed {
		return errors.New("queue: commit of a message already held or queued")
	}
	e := newEntry(s.id, env)
	if err := q.save(e); err != nil {
		return err
	}
	s.committed = true
	q.schedule(e)
	return nil
}

// Hold writes env for a spooled message durably, as ID.held, without
// queueing it: nothing is delivered, and a crash before [Queue.Release]
// drops it when the queue next opens. It is the first half of a
// commit that must go together with another one (the daemon's local
// delivery of the same message): what can fail for want of space or
// from a bad disk fails here, before the other is done, and
// [Spool.Discard] undoes it; Release then has only a rename and a
// directory fsync left to do.
func (q *Queue) Hold(s *Spool, env Envelope) error {
	if s.held != nil || s.committed {
		return errors.New("queue: hold of a message already held or queued")
	}
	e := newEntry(s.id, env)
	if err := q.write(e, e.ID+".held"); err != nil {
		return err
	}
	s.held = e
	return nil
}

// Release queues a message [Queue.Hold] held: ID.held is renamed to
// ID.env and the directory fsynced. When it returns nil the message
// will be delivered; on an error nothing was delivered and
// [Spool.Discard] removes the message.
func (q *Queue) Release(s *Spool) error {
	e := s.held
	if e == nil || s.committed {
		return errors.New("queue: release of a message not held")
	}
	if err := os.Rename(filepath.Join(q.dir, e.ID+".held"), filepath.Join(q.dir, e.ID+".env")); err != nil {
		return fmt.Errorf("queue: releasing %s: %w", e.ID, err)
	}
	if err := atomicfile.SyncDir(q.dir); err != nil {
		return fmt.Errorf("queue: releasing %s: %w", e.ID, err)
	}
	s.committed = true
	q.schedule(e)
	return nil
}

func newEntry(id string, env Envelope) *entry {
	now := time.Now()
	o := env.Options
	return &entry{ID: id, From: env.From, Rcpts: env.Rcpts, Never: env.Never, UTF8: o.UTF8, Body: string(o.Body),
		Return: o.Return, EnvID: o.EnvelopeID, Created: now, Next: now}
}

// schedule makes a committed entry due for delivery.
func (q *Queue) schedule(e *entry) {
	q.mu.Lock()
	q.entries[e.ID] = e
	q.mu.Unlock()
	q.poke()
}

// Enqueue spools and commits r in one step.
func (q *Queue) Enqueue(env Envelope, r io.Reader) error {
	s, err := q.Spool(r)
	if err != nil {
		return err
	}
	defer s.Discard()
	return q.Commit(s, env)
}

// save writes e's envelope and state, ID.env, atomically.
func (q *Queue) save(e *entry) error { return q.write(e, e.ID+".env") }

func (q *Queue) write(e *entry, name string) error {
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(q.dir, name), b, 0o600); err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	return nil
}

func (q *Queue) remove(e *entry) {
	os.Remove(filepath.Join(q.dir, e.ID+".env"))
	os.Remove(filepath.Join(q.dir, e.ID+".msg"))
	if err := atomicfile.SyncDir(q.dir); err != nil {
		q.log.Warn("queue: removing a delivered message", "id", e.ID, "err", err)
	}
	q.mu.Lock()
	delete(q.entries, e.ID)
	q.mu.Unlock()
}

func (q *Queue) poke() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Start starts delivering, in goroutines of the queue's own; ctx bounds
// only the start. A second Start does nothing, and so does a Start after
// Stop.
func (q *Queue) Start(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	select {
	case <-q.stopCh:
		return errors.New("queue: started after Stop")
	default:
	}
	if q.started {
		return nil
	}
	q.started = true
	q.wg.Add(1)
	go q.loop()
	return nil
}

// Stop ends the delivery loop and cuts short the attempts in progress;
// what they did not finish stays queued for the next start. It waits for
// them until ctx is done, and then returns ctx's error.
func (q *Queue) Stop(ctx context.Context) error {
	q.stopped.Do(func() { close(q.stopCh) })
	done := make(chan struct{})
	go func() { q.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("queue: deliveries still stopping: %w", ctx.Err())
	}
}

// Flush makes every queued message due now, as a restart after a long
// outage or an operator's "flush" would.
func (q *Queue) Flush() {
	q.mu.Lock()
	now := time.Now()
	for _, e := range q.entries {
		e.Next = now
	}
	q.mu.Unlock()
	q.poke()
}

func (q *Queue) concurrency() int {
	if n := q.cfg.Concurrency; n > 0 {
		return n
	}
	return DefaultConcurrency
}

func (q *Queue) loop() {
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
func (q *Queue) retryDelay(n int) time.Duration {
	r := q.cfg.Retry
	if len(r) == 0 {
		return DefaultRetry
	}
	return r[min(n-1, len(r)-1)]
}

func (q *Queue) expire() time.Duration {
	if e := q.cfg.Expire; e > 0 {
		return e
	}
	return DefaultExpire
}
