package mailstore

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSnapshotShared: handles on one folder share its listing; the
// store's own changes patch it (a delivery appends, a flag change and a
// deletion show) without a new listing of the directories, and a file
// another program drops into new/ shows in the exact listing.
func TestSnapshotShared(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		deliver(t, s, "alice", "", "Subject: x\n\nx\n")
	}
	a, _ := s.Mailbox(ctx, "alice", "")
	b, _ := s.Mailbox(ctx, "alice", "")
	sa, err := a.Snapshot(ctx, true)
	if err != nil || len(sa) != 3 {
		t.Fatalf("Snapshot = %d messages, %v", len(sa), err)
	}
	sb, _ := b.Snapshot(ctx, false)
	if &sa[0] != &sb[0] {
		t.Errorf("two handles on one folder hold two listings")
	}
	uid := deliver(t, s, "alice", "", "Subject: y\n\ny\n")
	if _, err := a.AddFlags(ctx, sa[0].UID, "F"); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, sa[1].UID); err != nil {
		t.Fatal(err)
	}
	// A file another program drops meanwhile is not in the patched
	// snapshot, which shows that it was not listed again, and is in
	// the exact listing.
	home := filepath.Join(s.Dir(), "alice")
	if err := os.WriteFile(filepath.Join(home, "new", "1700000000.x1.host"), []byte("Subject: z\n\nz\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := b.Snapshot(ctx, false)
	if err != nil {
		t.Fatalf("Snapshot after the store's own changes = %v", err)
	}
	if len(got) != 3 || got[0].Flags != "F" || got[1].UID != sa[2].UID || got[2].UID != uid || !got[2].Recent {
		t.Errorf("Snapshot after a flag change, a deletion and a delivery = %+v", got)
	}
	if got, _ := b.Messages(ctx); len(got) != 4 {
		t.Errorf("Messages after a file was dropped into new/ = %d messages, want 4", len(got))
	}
}

// TestWatchSeesChangesBehind: a file another program drops into a
// watched folder is signaled, without anything of the store's doing,
// and is in the snapshot by then.
func TestWatchSeesChangesBehind(t *testing.T) {
	old := watchPoll
	watchPoll = 5 * time.Millisecond
	defer func() { watchPoll = old }()
	ctx := context.Background()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, s, "alice", "", "Subject: x\n\nx\n")
	mb, _ := s.Mailbox(ctx, "alice", "")
	if _, err := mb.Snapshot(ctx, true); err != nil {
		t.Fatal(err)
	}
	ch, stop, err := s.Watch("alice", "")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	home := filepath.Join(s.Dir(), "alice")
	if err := os.WriteFile(filepath.Join(home, "new", "1700000000.x1.host"), []byte("Subject: z\n\nz\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no signal for a file dropped into new/")
	}
	if got, _ := mb.Snapshot(ctx, false); len(got) != 2 {
		t.Errorf("the snapshot after the signal holds %d messages, want 2", len(got))
	}
}
