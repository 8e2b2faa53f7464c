package mta

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/plumbnet/plumb/internal/testkit"
	"github.com/plumbnet/plumb/smtp"
)

// fakeLocal is the local mail system of the tests: addresses at
// local.test are local, "nobody@local.test" has no mailbox.
type fakeLocal struct {
	mu   sync.Mutex
	msgs map[string][]string // rcpt -> messages
}

func (l *fakeLocal) DeliverLocal(ctx context.Context, from, rcpt string, msg io.Reader) ([]string, error) {
	if !strings.HasSuffix(rcpt, "@local.test") {
		return []string{rcpt}, nil
	}
	if rcpt == "nobody@local.test" {
		return nil, fmt.Errorf("%s: %w", rcpt, ErrNoMailbox)
	}
	b, err := io.ReadAll(msg)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.msgs == nil {
		l.msgs = map[string][]string{}
	}
	l.msgs[rcpt] = append(l.msgs[rcpt], string(b))
	return nil, nil
}

// inbox waits up to 5s for want messages to rcpt and returns them.
func (l *fakeLocal) inbox(rcpt string, want int) []string {
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		l.mu.Lock()
		got := append([]string(nil), l.msgs[rcpt]...)
		l.mu.Unlock()
		if len(got) >= want || time.Now().After(deadline) {
			return got
		}
	}
}

// startSmarthost runs an SMTP server on loopback whose recipients' fate
// a test decides (MemoryBackend.SetVerdict).
func startSmarthost(t *testing.T) (*smtp.MemoryBackend, string) {
	t.Helper()
	h := &smtp.MemoryBackend{}
	srv := &smtp.Server{Backend: h, Hostname: "relay.test", Logger: slog.New(slog.DiscardHandler)}
	return h, testkit.Serve(t, srv, nil)
}

// messages waits up to 5s for want messages at the smarthost.
func messagesAt(h *smtp.MemoryBackend, want int) []*smtp.Message {
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if m := h.Messages(); len(m) >= want || time.Now().After(deadline) {
			return m
		}
	}
}

func openTestQueue(t *testing.T, dir string, local LocalDelivery, smarthost string, retry time.Duration) *Queue {
	t.Helper()
	q, err := Open(dir, local, Config{Hostname: "mx.test", Smarthost: smarthost,
		Retry: []time.Duration{retry}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("Open(%s) = %v", dir, err)
	}
	return q
}

func startQueue(t *testing.T, q *Queue) {
	t.Helper()
	if err := q.Start(context.Background()); err != nil {
		t.Fatalf("Start() = %v", err)
	}
	t.Cleanup(func() { q.Stop(context.Background()) })
}

func waitEmpty(t *testing.T, q *Queue) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); q.Len() > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := q.Len(); n != 0 {
		t.Fatalf("Len() = %d after delivery, want 0", n)
	}
}

func TestQueueDeliversBouncesAndRetries(t *testing.T) {
	h, hostAddr := startSmarthost(t)
	h.SetVerdict(func(rcpt string) error {
		switch {
		case strings.HasPrefix(rcpt, "gone@"):
			return smtp.ErrNoSuchUser
		case strings.HasPrefix(rcpt, "later@"):
			return &smtp.Error{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Msg: "try later"}
		}
		return nil
	})
	local := &fakeLocal{}
	dir := t.TempDir()
	q := openTestQueue(t, dir, local, hostAddr, 50*time.Millisecond)
	startQueue(t, q)
	msg := "Subject: out\r\nFrom: alice@local.test\r\n\r\nto the world\r\n"
	env := Envelope{From: "alice@local.test", Rcpts: []string{"friend@far.test", "gone@far.test", "later@far.test"}}
	if err := q.Enqueue(env, strings.NewReader(msg)); err != nil {
		t.Fatalf("Enqueue() = %v", err)
	}
	if m := messagesAt(h, 1); len(m) != 1 || strings.Join(m[0].To, ",") != "friend@far.test" || !strings.HasSuffix(string(m[0].Data), msg) {
		t.Fatalf("smarthost got %d messages, want one to friend@far.test", len(m))
	}
	// gone@ bounces to alice with a DSN naming it and quoting the header.
	bounces := local.inbox("alice@local.test", 1)
	if len(bounces) != 1 || !strings.Contains(bounces[0], "Final-Recipient: rfc822; gone@far.test") ||
		!strings.Contains(bounces[0], "Status: 5.1.1") || !strings.Contains(bounces[0], "Subject: out") ||
		!strings.Contains(bounces[0], "Reporting-MTA: dns; mx.test") {
		t.Fatalf("alice's bounces = %q, want one DSN for gone@far.test from mx.test quoting the header", bounces)
	}
	// later@ is retried; once the smarthost takes it, the queue empties.
	h.SetVerdict(func(string) error { return nil })
	waitEmpty(t, q)
	if m := h.Messages(); len(m) != 2 || m[1].To[0] != "later@far.test" {
		t.Errorf("smarthost messages = %d, want the retried one to later@far.test", len(m))
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("queue directory still holds %d files", len(ents))
	}
}

// TestQueueNotifyNever: RFC 3461 NOTIFY=NEVER on a recipient means no
// failure DSN for it; the other one still bounces.
func TestQueueNotifyNever(t *testing.T) {
	h, hostAddr := startSmarthost(t)
	h.SetVerdict(func(string) error { return smtp.ErrNoSuchUser })
	local := &fakeLocal{}
	q := openTestQueue(t, t.TempDir(), local, hostAddr, time.Hour)
	startQueue(t, q)
	env := Envelope{From: "alice@local.test", Rcpts: []string{"quiet@far.test", "loud@far.test"}, Never: []string{"quiet@far.test"}}
	if err := q.Enqueue(env, strings.NewReader("Subject: both fail\r\n\r\nbody\r\n")); err != nil {
		t.Fatalf("Enqueue() = %v", err)
	}
	bounces := local.inbox("alice@local.test", 1)
	if len(bounces) != 1 || !strings.Contains(bounces[0], "Final-Recipient: rfc822; loud@far.test") {
		t.Fatalf("alice's bounces = %q, want one DSN for loud@far.test", bounces)
	}
	if strings.Contains(bounces[0], "quiet@far.test") {
		t.Errorf("the DSN names quiet@far.test, whose RCPT said NOTIFY=NEVER")
	}
}

func TestBounceToRemoteSenderIsQueued(t *testing.T) {
	local := &fakeLocal{}
	q := openTestQueue(t, t.TempDir(), local, "", time.Hour) // not started: nothing leaves
	err := q.Bounce(context.Background(), "someone@far.test", []Failure{{Addr: "x@local.test", Reply: "552 5.2.2 Mailbox full"}}, nil)
	if err != nil {
		t.Fatalf("Bounce(someone@far.test) = %v", err)
	}
	if q.Len() != 1 {
		t.Errorf("Len() after a bounce to a remote sender = %d, want 1", q.Len())
	}
	if err := q.Bounce(context.Background(), "nobody@local.test", []Failure{{Addr: "x@local.test", Reply: "550"}}, nil); err != nil {
		t.Errorf("Bounce(nobody@local.test) = %v, want nil (dropped)", err)
	}
	if err := q.Bounce(context.Background(), "", []Failure{{Addr: "x@local.test", Reply: "550"}}, nil); err != nil || q.Len() != 1 {
		t.Errorf("Bounce(<>) = %v, Len %d; want nil and no new message: a bounce never bounces", err, q.Len())
	}
}

func TestQueueSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	q := openTestQueue(t, dir, &fakeLocal{}, "", time.Hour)
	if err := q.Enqueue(Envelope{From: "a@mx.test", Rcpts: []string{"x@far.test"}}, strings.NewReader("m\r\n")); err != nil {
		t.Fatal(err)
	}
	// An orphan spool (a crash before 250) is removed on open.
	orphan, err := q.Spool(strings.NewReader("never acknowledged"))
	if err != nil {
		t.Fatal(err)
	}
	q2 := openTestQueue(t, dir, &fakeLocal{}, "", time.Hour)
	if q2.Len() != 1 {
		t.Errorf("reopened queue holds %d messages, want 1", q2.Len())
	}
	if _, err := os.Stat(orphan.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("orphan spool %s still there after reopening: %v", orphan.Path(), err)
	}
}

// TestQueueDeliversAfterRestart queues a message while the smarthost is
// down, stops the queue, and opens a new one on the same directory with
// the smarthost up: the message leaves from the queue.
func TestQueueDeliversAfterRestart(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := l.Addr().String()
	l.Close() // nothing listens there now
	dir := t.TempDir()
	q := openTestQueue(t, dir, &fakeLocal{}, down, time.Hour)
	startQueue(t, q)
	if err := q.Enqueue(Envelope{From: "alice@local.test", Rcpts: []string{"friend@far.test"}}, strings.NewReader("Subject: queued\r\n\r\nx\r\n")); err != nil {
		t.Fatalf("Enqueue() = %v", err)
	}
	// Wait for the failed attempt to be written down.
	var envs []string
	var b []byte
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		envs, _ = filepath.Glob(filepath.Join(dir, "*.env"))
		if len(envs) == 1 {
			if b, _ = os.ReadFile(envs[0]); strings.Contains(string(b), `"attempts": 1`) {
				break
			}
		}
	}
	if err := q.Stop(context.Background()); err != nil {
		t.Fatalf("Stop() = %v", err)
	}
	if len(envs) != 1 || !strings.Contains(string(b), `"attempts": 1`) || !strings.Contains(string(b), "connecting to") {
		t.Fatalf("envelope after a failed attempt = %s, want attempts 1 and the error", b)
	}

	h, hostAddr := startSmarthost(t)
	q2 := openTestQueue(t, dir, &fakeLocal{}, hostAddr, time.Hour)
	startQueue(t, q2)
	q2.Flush() // the retry is an hour away by the schedule
	if m := messagesAt(h, 1); len(m) != 1 || m[0].To[0] != "friend@far.test" {
		t.Fatalf("smarthost got %d messages after the restart, want the queued one", len(m))
	}
	waitEmpty(t, q2)
}

func TestStopLeavesNoGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// A smarthost that accepts and never answers: the attempt hangs
	// until Stop cuts it short.
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := l.Accept(); err == nil {
			accepted <- c
		}
	}()
	q := openTestQueue(t, t.TempDir(), &fakeLocal{}, l.Addr().String(), time.Hour)
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := q.Enqueue(Envelope{From: "a@local.test", Rcpts: []string{"x@far.test"}}, strings.NewReader("m\r\n")); err != nil {
		t.Fatal(err)
	}
	c := <-accepted
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := q.Stop(ctx); err != nil {
		t.Fatalf("Stop() with an attempt in progress = %v, want nil", err)
	}
	if q.Len() != 1 {
		t.Errorf("Len() after Stop cut an attempt short = %d, want 1 (still queued)", q.Len())
	}
	if err := q.Start(context.Background()); err == nil {
		t.Errorf("Start() after Stop = nil, want an error")
	}
}

// TestStopMidAttemptKeepsDeliveries: recipients an attempt delivered
// before a stop are not sent the message again after the restart.
func TestStopMidAttemptKeepsDeliveries(t *testing.T) {
	dir := t.TempDir()
	q := openTestQueue(t, dir, &fakeLocal{}, "127.0.0.1:1", time.Hour)
	env := Envelope{From: "a@local.test", Rcpts: []string{"done@one.test", "cut@two.test"}}
	if err := q.Enqueue(env, strings.NewReader("m\r\n")); err != nil {
		t.Fatal(err)
	}
	var e *entry
	for _, x := range q.entries {
		e = x
	}
	q.forgetDelivered(e, map[string]rcptResult{"done@one.test": {}, "cut@two.test": {err: context.Canceled}})
	reopened := openTestQueue(t, dir, &fakeLocal{}, "127.0.0.1:1", time.Hour)
	var got []string
	for _, x := range reopened.entries {
		got = append(got, x.Rcpts...)
	}
	if !slices.Equal(got, []string{"cut@two.test"}) {
		t.Errorf("recipients queued after a stop mid-attempt = %q, want only the one not delivered", got)
	}
}
