package daemon

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/plumbnet/plumb/imap"
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

// TestIMAPConcurrentSessions: 20 sessions on one inbox while deliveries
// (SMTP's path into the store) add messages, a POP3-style locked handle
// deletes some, and the sessions set flags: every session's view of
// sequence numbers stays consistent, and ends equal to the store.
func TestIMAPConcurrentSessions(t *testing.T) {
	addr, store := imapFixture(t, 10)
	ctx := context.Background()
	const sessions, rounds = 20, 15
	var wg sync.WaitGroup
	views := make([]*viewTracker, sessions)
	clients := make([]*imap.Client, sessions)
	for i := range sessions {
		c, err := imap.Dial(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Login(ctx, "alice", "alice-password"); err != nil {
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
	var writers sync.WaitGroup
	writers.Add(2)
	go func() { // deliveries
		defer writers.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			store.Deliver(ctx, "alice", "", strings.NewReader(fmt.Sprintf("Subject: new %d\r\n\r\nx\r\n", i)))
		}
	}()
	go func() { // POP3-style deletions of the oldest message
		defer writers.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			mb, err := store.Lock(ctx, "alice", "")
			if err != nil {
				continue
			}
			if msgs, err := mb.Messages(ctx); err == nil && len(msgs) > 5 {
				mb.Delete(ctx, msgs[0].UID)
			}
			mb.Close()
		}
	}()
	for i := range sessions {
		wg.Add(1)
		go func(c *imap.Client, v *viewTracker) {
			defer wg.Done()
			for r := range rounds {
				var err error
				switch r % 3 {
				case 0:
					_, err = c.Execute(ctx, v.handle, imap.Atom("NOOP"))
				case 1:
					_, err = c.Execute(ctx, v.handle, imap.Atom("FETCH"), imap.Atom("1:*"), imap.Atom("(UID FLAGS)"))
				case 2:
					_, err = c.Execute(ctx, v.handle, imap.Atom("STORE"), imap.Atom("1"), imap.Atom("+FLAGS"), []string{imap.FlagSeen})
				}
				if err != nil {
					v.fail("round %d: %v", r, err)
					return
				}
				v.checkOrder()
			}
		}(clients[i], views[i])
	}
	wg.Wait()
	close(stop)
	writers.Wait()
	mb, err := store.Mailbox(ctx, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	final, err := mb.Messages(ctx)
	if err != nil {
		t.Fatal(err)
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
