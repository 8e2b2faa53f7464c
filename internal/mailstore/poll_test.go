package mailstore

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// pollFixture is a store with n messages in alice's inbox, listed once,
// and a poller that looks every millisecond once watch is called.
type pollFixture struct {
	s     *Store
	mb    *Mailbox
	home  string
	scans atomic.Int32 // listings with the folder held, from when watch was called
}

func newPollFixture(t *testing.T, n int) *pollFixture {
	t.Helper()
	old := watchPoll
	watchPoll = time.Millisecond
	t.Cleanup(func() { watchPoll = old })
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() }) // a settled listing's cache may be being written
	for range n {
		deliver(t, s, "alice", "", "Subject: x\r\n\r\nx\r\n")
	}
	mb, _ := s.Mailbox(context.Background(), "alice", "")
	if _, err := mb.Snapshot(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	return &pollFixture{s: s, mb: mb, home: filepath.Join(s.Dir(), "alice")}
}

// watch sets listed as the poller's hook and starts it.
func (p *pollFixture) watch(t *testing.T, listed func()) <-chan struct{} {
	t.Helper()
	p.s.hooks.listed = func(string) { listed() }
	p.s.hooks.scanned = func(string) { p.scans.Add(1) }
	ch, stop, err := p.s.Watch("alice", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return ch
}

// passDone waits until the poller's pass in progress is over.
func (p *pollFixture) passDone() {
	p.s.scanMu.Lock()
	p.s.scanMu.Unlock()
}

// ages sets the mtimes of new/ and cur/ an hour back, as if the
// changes so far were made long ago.
func (p *pollFixture) age(t *testing.T) {
	t.Helper()
	then := time.Now().Add(-time.Hour)
	for _, d := range []string{"new", "cur"} {
		if err := os.Chtimes(filepath.Join(p.home, d), then, then); err != nil {
			t.Fatal(err)
		}
	}
}

func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal(what)
	}
}

// TestDeliveryWhilePollerLists: a delivery completes while the poller
// is in the middle of listing a watched folder (held there by a gate),
// and the store's own change is not taken for one made behind it: no
// listing under the folder's lock follows.
func TestDeliveryWhilePollerLists(t *testing.T) {
	p := newPollFixture(t, 20)
	p.age(t) // changed behind the store, as far as the stamps tell: listed at once
	listing, release := make(chan struct{}), make(chan struct{})
	var once, releaseOnce sync.Once
	p.watch(t, func() { once.Do(func() { close(listing); <-release }) })
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) }) // before stop, which waits for the pass
	wait(t, listing, "the poller did not list the watched folder")
	done := make(chan error, 1)
	go func() {
		_, err := p.s.Deliver(context.Background(), "alice", "", strings.NewReader("Subject: during\r\n\r\nx\r\n"))
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a delivery waited for the poller's listing")
	}
	releaseOnce.Do(func() { close(release) })
	p.passDone()
	if n := p.scans.Load(); n != 0 {
		t.Errorf("the poller listed the folder under its lock %d times for the store's own delivery", n)
	}
	if got, _ := p.mb.Snapshot(context.Background(), false); len(got) != 21 {
		t.Errorf("the snapshot holds %d messages, want 21", len(got))
	}
}

// TestPollerMakesSnapshotCurrent: after the store's own changes, a
// poller's listing that finds nothing else makes the snapshot current,
// so that an exact Snapshot (IMAP's SELECT) does not list again.
func TestPollerMakesSnapshotCurrent(t *testing.T) {
	p := newPollFixture(t, 3)
	p.age(t)
	if _, err := p.mb.Snapshot(context.Background(), true); err != nil { // read with the old stamps
		t.Fatal(err)
	}
	deliver(t, p.s, "alice", "", "Subject: y\r\n\r\ny\r\n")
	p.age(t) // a second later, as far as the stamps tell
	listed := make(chan struct{}, 1)
	p.watch(t, func() {
		select {
		case listed <- struct{}{}:
		default:
		}
	})
	wait(t, listed, "the poller did not list the watched folder")
	p.passDone()
	got, err := p.mb.Snapshot(context.Background(), true)
	if err != nil || len(got) != 4 {
		t.Fatalf("Snapshot = %d messages, %v; want 4", len(got), err)
	}
	if n := p.scans.Load(); n != 0 {
		t.Errorf("%d listings under the folder's lock after the poller found nothing new, want 0", n)
	}
}

// TestPollerSeesChangesBehindWhileDelivering: a file another program
// drops into new/ and a flag change it makes by a rename in cur/ reach
// the snapshot and the watchers, also when the store delivers while
// the poller lists; with the store idle meanwhile, the poller's own
// listing is taken in, without a second one under the folder's lock.
func TestPollerSeesChangesBehindWhileDelivering(t *testing.T) {
	ctx := context.Background()
	p := newPollFixture(t, 3)
	msgs, _ := p.mb.Messages(ctx)
	if _, err := p.mb.AddFlags(ctx, msgs[0].UID, "S"); err != nil { // into cur/
		t.Fatal(err)
	}
	msgs, _ = p.mb.Messages(ctx)
	if err := os.Rename(msgs[0].Path, msgs[0].Path+"F"); err != nil { // ":2,S" -> ":2,SF"
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.home, "new", "1700000000.x1.host"), []byte("Subject: z\n\nz\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var first sync.Once
	var during error
	listed := make(chan struct{}, 1)
	ch := p.watch(t, func() {
		first.Do(func() {
			_, during = p.s.Deliver(ctx, "alice", "", strings.NewReader("Subject: during\r\n\r\nx\r\n"))
		})
		select {
		case listed <- struct{}{}:
		default:
		}
	})
	wait(t, listed, "the poller did not list the watched folder")
	p.passDone()
	if during != nil {
		t.Fatal(during)
	}
	got, _ := p.mb.Snapshot(ctx, false) // the snapshot as it is: the poller's doing
	if len(got) != 5 || got[0].Flags != "FS" {
		t.Fatalf("the snapshot after the poller's pass = %+v, want 5 messages, the first flagged FS", got)
	}
	wait(t, ch, "no signal")

	// Nothing of the store's own now: the unlocked listing is taken in.
	for len(ch) > 0 {
		<-ch
	}
	before := p.scans.Load()
	if err := os.WriteFile(filepath.Join(p.home, "new", "1700000001.x2.host"), []byte("Subject: w\n\nw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wait(t, ch, "no signal for a second file dropped into new/")
	if got, _ := p.mb.Snapshot(ctx, false); len(got) != 6 {
		t.Errorf("the snapshot after the signal holds %d messages, want 6", len(got))
	}
	if n := p.scans.Load() - before; n != 0 {
		t.Errorf("%d listings under the folder's lock for a change the poller had listed, want 0", n)
	}
}

// TestPollerWaitsForOwnChangesToSettle: stamps that moved by the
// store's own delivery alone are not listed for until they are
// uncertainAge old; then the folder is listed once, which finds a file
// another program dropped that the stamps could not tell from the
// store's change (the same clock tick, simulated here).
func TestPollerWaitsForOwnChangesToSettle(t *testing.T) {
	p := newPollFixture(t, 2)
	deliver(t, p.s, "alice", "", "Subject: y\r\n\r\ny\r\n")
	if err := os.WriteFile(filepath.Join(p.home, "new", "1700000000.x1.host"), []byte("Subject: z\n\nz\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := p.mb.f
	f.mu.Lock()
	f.chain, f.chained = f.dirStamps(), true // as if the delivery had left these stamps
	f.mu.Unlock()
	ages := make(chan time.Duration, 1)
	ch := p.watch(t, func() {
		fi, err := os.Stat(filepath.Join(p.home, "new"))
		if err == nil {
			select {
			case ages <- time.Since(fi.ModTime()):
			default:
			}
		}
	})
	select {
	case age := <-ages:
		if age < uncertainAge {
			t.Errorf("the poller listed for the store's own delivery %v after it, want >= %v", age, uncertainAge)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the poller never listed the folder")
	}
	wait(t, ch, "no signal for the file dropped behind the delivery")
	if got, _ := p.mb.Snapshot(context.Background(), false); len(got) != 4 {
		t.Errorf("the snapshot holds %d messages, want 4", len(got))
	}
}

// TestPollerRelistsWhileOwnChangesGoOn: a folder whose stamps the
// store's own changes keep recent (here: set in the future, so they
// never settle) is still listed every ownRelist, which finds a file
// dropped behind the store that the stamps hide.
func TestPollerRelistsWhileOwnChangesGoOn(t *testing.T) {
	old := ownRelist
	ownRelist = time.Millisecond
	t.Cleanup(func() { ownRelist = old }) // after the poller's stop, registered later
	p := newPollFixture(t, 2)
	if err := os.WriteFile(filepath.Join(p.home, "new", "1700000000.x1.host"), []byte("Subject: z\n\nz\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	for _, d := range []string{"new", "cur"} {
		if err := os.Chtimes(filepath.Join(p.home, d), later, later); err != nil {
			t.Fatal(err)
		}
	}
	f := p.mb.f
	f.mu.Lock()
	f.chain, f.chained = f.dirStamps(), true // as if the store's own change had left these stamps
	f.mu.Unlock()
	ch := p.watch(t, func() {})
	wait(t, ch, "no signal for the file hidden behind the store's own changes")
	if got, _ := p.mb.Snapshot(context.Background(), false); len(got) != 3 {
		t.Errorf("the snapshot holds %d messages, want 3", len(got))
	}
}

// TestSettledSnapshotIsNotListed: a snapshot listed exactly from
// settled stamps, with nothing changed since, is what a listing would
// find (the poller skips it); a delivery here, or a file another
// program drops, makes it need a listing again.
func TestSettledSnapshotIsNotListed(t *testing.T) {
	ctx := context.Background()
	p := newPollFixture(t, 3)
	p.age(t)
	if _, err := p.mb.Snapshot(ctx, true); err != nil {
		t.Fatal(err)
	}
	f := p.mb.f
	if !f.settled(f.dirStamps()) {
		t.Fatal("a snapshot of settled stamps, nothing changed since: not settled")
	}
	deliver(t, p.s, "alice", "", "Subject: y\r\n\r\ny\r\n")
	if f.settled(f.dirStamps()) {
		t.Error("settled after a delivery made here")
	}
	p.age(t)
	if _, err := p.mb.Snapshot(ctx, true); err != nil {
		t.Fatal(err)
	}
	if !f.settled(f.dirStamps()) {
		t.Fatal("not settled after listing again")
	}
	if err := os.WriteFile(filepath.Join(p.home, "new", "1700000000.x2.host"), []byte("Subject: z\n\nz\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if f.settled(f.dirStamps()) {
		t.Error("settled after another program's file in new/")
	}
}
