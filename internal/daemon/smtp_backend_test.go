package daemon

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plumbnet/plumb/internal/atomicfile"
	"github.com/plumbnet/plumb/internal/mta"
	"github.com/plumbnet/plumb/sasl"
	"github.com/plumbnet/plumb/smtp"
)

// failingQueue is the daemon's queue with one step that fails once.
type failingQueue struct {
	outboundQueue
	failHold, failRelease bool
}

var errInjected = errors.New("injected queue failure")

func (q *failingQueue) Hold(s *mta.Spool, env mta.Envelope) error {
	if q.failHold {
		q.failHold = false
		return errInjected
	}
	return q.outboundQueue.Hold(s, env)
}

func (q *failingQueue) Release(s *mta.Spool) error {
	if q.failRelease {
		q.failRelease = false
		return errInjected // as a failed rename: nothing queued
	}
	return q.outboundQueue.Release(s)
}

// smtpBackendOf returns the backend the daemon's SMTP servers share.
func smtpBackendOf(t *testing.T, d *Daemon) *smtpBackend {
	t.Helper()
	for _, r := range d.running {
		if srv, ok := r.Stream.(*smtp.Server); ok {
			if be, ok := srv.Backend.(*smtpBackend); ok {
				return be
			}
		}
	}
	t.Fatalf("daemon runs no SMTP server with an *smtpBackend")
	return nil
}

// TestSMTPRetryAfterQueueFailureDoesNotDuplicate: a message to local
// and remote recipients whose queue step fails is answered 451 and
// leaves nothing behind, so the client's retry gives every local
// recipient one copy and the queue one entry.
func TestSMTPRetryAfterQueueFailureDoesNotDuplicate(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail failingQueue
	}{
		{"hold", failingQueue{failHold: true}},       // before the local delivery
		{"release", failingQueue{failRelease: true}}, // after it
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := netListen()
			if err != nil {
				t.Fatal(err)
			}
			down := l.Addr().String()
			l.Close() // the smarthost is down: the queued message stays
			d, addrs := startSMTPDaemon(t, func(s *SMTPConfig) { s.Outbound.Smarthost = down })
			be := smtpBackendOf(t, d)
			fq := tc.fail
			fq.outboundQueue = be.queue
			be.queue = &fq // before any session reads it

			c := dialSMTP(t, addrs["submission"])
			if err := c.Auth(sasl.NewPlainClient("", "alice", "pw-alice-123")); err != nil {
				t.Fatalf("Auth = %v", err)
			}
			rcpts := []string{"alice@mx.test", "bob@mx.test", "friend@far.test"}
			msg := "Subject: once\r\n\r\nonly once\r\n"
			err = c.SendMail("alice@mx.test", rcpts, strings.NewReader(msg), nil)
			var se *smtp.Error
			if !errors.As(err, &se) || se.Code != 451 {
				t.Fatalf("SendMail(%v) with a failing queue %s = %v, want 451", rcpts, tc.name, err)
			}
			if err := c.SendMail("alice@mx.test", rcpts, strings.NewReader(msg), nil); err != nil {
				t.Fatalf("SendMail(%v) again = %v, want nil", rcpts, err)
			}
			for _, u := range []string{"alice", "bob"} {
				if got := inbox(t, d, u, 1); len(got) != 1 || !strings.HasSuffix(got[0], msg) {
					t.Errorf("%s's inbox after a 451 and a retry = %d messages, want 1", u, len(got))
				}
			}
			if n := queueOf(t, d).Len(); n != 1 {
				t.Errorf("queue Len() after a 451 and a retry = %d, want 1", n)
			}
			ents, _ := os.ReadDir(filepath.Join(d.DataDir(), "queue"))
			var names []string
			for _, e := range ents {
				if !atomicfile.IsTemp(e.Name()) { // a retry's state being saved
					names = append(names, e.Name())
				}
			}
			if len(names) != 2 || filepath.Ext(names[0]) != ".env" || filepath.Ext(names[1]) != ".msg" {
				t.Errorf("queue directory = %v, want one .env and its .msg", names)
			}
		})
	}
}
