package mailstore

import (
	"context"
	"strings"
	"testing"
	"time"
)

func signaled(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	case <-time.After(2 * time.Second):
		return false
	}
}

func TestWatch(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ch, stop, err := s.Watch("alice", Inbox)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	uid := deliver(t, s, "alice", "", "Subject: x\r\n\r\nx\r\n")
	if !signaled(ch) {
		t.Fatal("Deliver did not signal the inbox's watcher")
	}
	mb, err := s.Mailbox(context.Background(), "alice", Inbox)
	if err != nil {
		t.Fatal(err)
	}
	if err := mb.SetFlags(context.Background(), uid, "S"); err != nil {
		t.Fatal(err)
	}
	if !signaled(ch) {
		t.Fatal("SetFlags did not signal")
	}
	if err := mb.Delete(context.Background(), uid); err != nil {
		t.Fatal(err)
	}
	if !signaled(ch) {
		t.Fatal("Delete did not signal")
	}
	// Another folder's delivery does not signal the inbox.
	if err := s.CreateFolder("alice", "Work"); err != nil {
		t.Fatal(err)
	}
	deliver(t, s, "alice", "Work", "Subject: y\r\n\r\ny\r\n")
	select {
	case <-ch:
		t.Fatal("a delivery to Work signaled the inbox")
	default:
	}
}

func TestSubscriptions(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"Sent", "Work/Projects", "Sent"} {
		if err := s.SetSubscribed("alice", n, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetSubscribed("alice", "Sent", false); err != nil {
		t.Fatal(err)
	}
	got, err := s.Subscriptions("alice")
	if err != nil || len(got) != 1 || got[0] != "Work/Projects" {
		t.Fatalf("Subscriptions = %q, %v, want [Work/Projects]", got, err)
	}
}

func TestDeliverManyToFolder(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateFolder("alice", "Lists"); err != nil {
		t.Fatal(err)
	}
	uids, err := s.DeliverMany(context.Background(), []string{"alice/Lists", "bob/Nowhere", "carol"}, strings.NewReader("Subject: x\r\n\r\nx\r\n"))
	if err != nil || len(uids) != 3 {
		t.Fatalf("DeliverMany = %v, %v", uids, err)
	}
	if n := len(messages(t, s, "alice", "Lists")); n != 1 {
		t.Errorf("alice/Lists has %d messages, want 1", n)
	}
	if n := len(messages(t, s, "alice", "")); n != 0 {
		t.Errorf("alice's inbox has %d messages, want 0", n)
	}
	if n := len(messages(t, s, "bob", "")); n != 1 {
		t.Errorf("bob's inbox has %d messages (no folder Nowhere), want 1", n)
	}
	if n := len(messages(t, s, "carol", "")); n != 1 {
		t.Errorf("carol's inbox has %d messages, want 1", n)
	}
}
