package daemon

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/plumbnet/plumb/imap"
	"github.com/plumbnet/plumb/pop3"
	"github.com/plumbnet/plumb/smtp"
)

// viewTracker is one client's idea of the selected mailbox, kept from
// the untagged responses alone, as a mail client keeps it.
type viewTracker struct {
	t    *testing.T
	name string
	uids []uint32 // by sequence number - 1; 0 while not yet known
	bad  []string
}

func (v *viewTracker) fail(format string, args ...any) {
	v.bad = append(v.bad, v.name+": "+fmt.Sprintf(format, args...))
}

// handle checks one untagged response against the view and applies it.
func (v *viewTracker) handle(r *imap.Response) bool {
	switch r.Type {
	case "EXISTS":
		if int(r.Num) < len(v.uids) {
			v.fail("EXISTS %d below the %d messages known, without EXPUNGE", r.Num, len(v.uids))
		}
		for len(v.uids) < int(r.Num) {
			v.uids = append(v.uids, 0)
		}
	case "EXPUNGE":
		if r.Num == 0 || int(r.Num) > len(v.uids) {
			v.fail("EXPUNGE %d of %d messages", r.Num, len(v.uids))
			return true
		}
		v.uids = append(v.uids[:r.Num-1], v.uids[r.Num:]...)
	case "FETCH":
		if r.Num == 0 || int(r.Num) > len(v.uids) {
			v.fail("FETCH for message %d of %d announced", r.Num, len(v.uids))
			return true
		}
		fields := r.Fields[0].([]any)
		for i := 0; i+1 < len(fields); i += 2 {
			if strings.EqualFold(fields[i].(string), "UID") {
				var uid uint32
				fmt.Sscan(fields[i+1].(string), &uid)
				if old := v.uids[r.Num-1]; old != 0 && old != uid {
					v.fail("message %d was UID %d, now FETCH says UID %d", r.Num, old, uid)
				}
				v.uids[r.Num-1] = uid
			}
		}
	}
	return true
}

// checkOrder: known UIDs ascend with sequence numbers.
func (v *viewTracker) checkOrder() {
	var last uint32
	for i, u := range v.uids {
		if u == 0 {
			continue
		}
		if u <= last {
			v.fail("UID %d at %d after UID %d", u, i+1, last)
		}
		last = u
	}
}

// TestIMAPConcurrentSessions: 20 IMAP sessions on one inbox of a
// running daemon while SMTP delivers to it, POP3 sessions delete from
// it and the IMAP sessions set flags: every session's view of sequence
// numbers stays consistent (no EXPUNGE or FETCH for an unknown number,
// no EXISTS going down, UIDs ascending and fixed), and ends equal to the
// store. Four sessions at a time add a different flag each, once, to
// one of the messages POP3 leaves alone: none overwrites another's, so
// all end up set.
func TestIMAPConcurrentSessions(t *testing.T) {
	d, addrs := startSMTPDaemonWith(t, t.TempDir(), func(c *Config) {
		im, p := imapSection.of(c), pop3Section.of(c)
		im.Enabled, im.Addr = true, "127.0.0.1:0"
		p.Enabled, p.Addr = true, "127.0.0.1:0"
	})
	store, err := d.MailStore()
	if err != nil {
		t.Fatal(err)
	}
	addr := addrs["imap"]
	ctx := context.Background()
	const sessions, rounds = 20, 15
	flags := []string{imap.FlagSeen, imap.FlagFlagged, imap.FlagAnswered, imap.FlagDraft}
	keepers := make([]uint32, sessions/len(flags)) // the oldest, which POP3 leaves
	for i := range keepers {
		if keepers[i], err = store.Deliver(ctx, "alice", "", strings.NewReader(fmt.Sprintf("Subject: keeper %d\r\n\r\nx\r\n", i))); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		if _, err := store.Deliver(ctx, "alice", "", strings.NewReader(fmt.Sprintf("Subject: %d\r\n\r\nx\r\n", i))); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	views := make([]*viewTracker, sessions)
	clients := make([]*imap.Client, sessions)
	for i := range sessions {
		c, err := imap.Dial(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Login(ctx, "alice", "pw-alice-123"); err != nil {
			t.Fatal(err)
		}
		v := &viewTracker{t: t, name: fmt.Sprintf("session %d", i)}
		c.Untagged = func(r *imap.Response) { v.handle(r) }
		if _, err := c.Execute(ctx, v.handle, imap.Atom("SELECT"), "INBOX"); err != nil {
			t.Fatal(err)
		}
		views[i], clients[i] = v, c
	}
	stop := make(chan struct{})
	var delivered, deleted atomic.Int64
	var writers sync.WaitGroup
	writers.Add(2)
	go func() { // deliveries over SMTP
		defer writers.Done()
		sc, err := smtp.Dial(ctx, addrs["smtp"])
		if err != nil {
			t.Error(err)
			return
		}
		defer sc.Close()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := sc.SendMail("carol@far.test", []string{"alice@mx.test"}, strings.NewReader(fmt.Sprintf("Subject: new %d\r\n\r\nx\r\n", i)), nil); err != nil {
				t.Errorf("SMTP delivery %d: %v", i, err)
				return
			}
			delivered.Add(1)
		}
	}()
	go func() { // POP3 sessions deleting the oldest message but the keepers
		defer writers.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			pc, err := pop3.Dial(ctx, addrs["pop3"])
			if err != nil {
				t.Error(err)
				return
			}
			if err := pc.Login("alice", "pw-alice-123"); err == nil {
				if list, err := pc.List(); err == nil && len(list) > len(keepers)+5 && pc.Dele(list[len(keepers)].Num) == nil && pc.Quit() == nil {
					deleted.Add(1)
				}
			}
			pc.Close()
		}
	}()
	for i := range sessions {
		wg.Add(1)
		go func(c *imap.Client, v *viewTracker, keeper uint32, flag string) {
			defer wg.Done()
			// The sessions go on until the writers have each done a few.
			for r := 0; r < rounds || delivered.Load() < 5 || deleted.Load() < 5; r++ {
				var err error
				switch r % 3 {
				case 0:
					_, err = c.Execute(ctx, v.handle, imap.Atom("NOOP"))
				case 1:
					_, err = c.Execute(ctx, v.handle, imap.Atom("FETCH"), imap.Atom("1:*"), imap.Atom("(UID FLAGS)"))
				case 2:
					if r == 2 { // once: a lost update is not made good by a later one
						_, err = c.Execute(ctx, v.handle, imap.Atom("UID"), imap.Atom("STORE"), imap.Atom(fmt.Sprint(keeper)), imap.Atom("+FLAGS"), []string{flag})
					} else {
						_, err = c.Execute(ctx, v.handle, imap.Atom("STORE"), imap.Atom("1:*"), imap.Atom("-FLAGS"), []string{imap.FlagDeleted})
					}
				}
				if err != nil {
					v.fail("round %d: %v", r, err)
					return
				}
				v.checkOrder()
			}
		}(clients[i], views[i], keepers[i/len(flags)], flags[i%len(flags)])
	}
	wg.Wait()
	close(stop)
	writers.Wait()
	t.Logf("%d SMTP deliveries and %d POP3 deletions during the sessions", delivered.Load(), deleted.Load())
	mb, err := store.Mailbox(ctx, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	final, err := mb.Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range keepers {
		if i >= len(final) || final[i].UID != k {
			t.Fatalf("keeper UID %d is gone", k)
		}
		if got := final[i].Flags; got != "DFRS" {
			t.Errorf("keeper UID %d has flags %q, want DFRS: every session's +FLAGS kept", k, got)
		}
	}
	for i, v := range views {
		if _, err := clients[i].Execute(ctx, v.handle, imap.Atom("NOOP")); err != nil {
			t.Fatal(err)
		}
		if _, err := clients[i].Execute(ctx, v.handle, imap.Atom("FETCH"), imap.Atom("1:*"), imap.Atom("(UID)")); err != nil && len(final) > 0 {
			t.Fatal(err)
		}
		if len(v.uids) != len(final) {
			v.fail("ends with %d messages, the store has %d", len(v.uids), len(final))
		} else {
			for k, m := range final {
				if v.uids[k] != m.UID {
					v.fail("message %d is UID %d, the store's is %d", k+1, v.uids[k], m.UID)
					break
				}
			}
		}
		for _, b := range v.bad {
			t.Error(b)
		}
	}
}
