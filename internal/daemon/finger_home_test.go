package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/mailstore"
)

// TestFingerLeavesMissingHomeAlone: fingering an account without a
// home answers for it and does not make the home.
func TestFingerLeavesMissingHomeAlone(t *testing.T) {
	d := startFingerDaemon(t, func(c *FingerConfig) { c.Fields = []string{"name", "plan"} })
	if err := d.Accounts().Add("carol", "carol-password"); err != nil {
		t.Fatal(err)
	}
	if got := fingerOf(t, d, "carol"); !strings.Contains(got, "Login: carol") {
		t.Errorf("finger carol (no home) = %q, want her entry", got)
	}
	if _, err := os.Stat(filepath.Join(d.DataDir(), "files", "home", "carol")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("finger carol made her home (stat: %v), want it left alone", err)
	}
}

// TestFingerListHidesNoFinger: the list of users logged in leaves out
// one who opted out with .nofinger.
func TestFingerListHidesNoFinger(t *testing.T) {
	d := startFingerDaemon(t, func(c *FingerConfig) { c.ListUsers = true })
	defer d.Presence().Login("alice", "pop3")()
	defer d.Presence().Login("bob", "ftp")()
	got := fingerOf(t, d, "")
	if !strings.Contains(got, "alice") {
		t.Errorf("empty query = %q, want alice listed", got)
	}
	if strings.Contains(got, "bob") {
		t.Errorf("empty query = %q, lists bob, who has a .nofinger", got)
	}
}

// TestFingerUnreadCountKept: the unread count is made at most once per
// unreadTTL, however many ask, and made again after it.
func TestFingerUnreadCountKept(t *testing.T) {
	ctx := context.Background()
	store, err := mailstore.Open(filepath.Join(t.TempDir(), "mail"))
	if err != nil {
		t.Fatal(err)
	}
	deliver := func() {
		if _, err := store.Deliver(ctx, "alice", "", strings.NewReader("Subject: x\r\n\r\nhi\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	deliver()
	now := time.Unix(1e9, 0)
	b := &fingerBackend{mail: store, now: func() time.Time { return now }}
	alice := accounts.User{Name: "alice", Home: "alice"}
	if n, err := b.unread(ctx, alice); n != 1 || err != nil {
		t.Fatalf("unread = %d, %v; want 1", n, err)
	}
	deliver()
	if n, _ := b.unread(ctx, alice); n != 1 {
		t.Errorf("unread within the TTL = %d, want the kept count 1", n)
	}
	now = now.Add(unreadTTL)
	if n, _ := b.unread(ctx, alice); n != 2 {
		t.Errorf("unread after the TTL = %d, want 2", n)
	}
}
