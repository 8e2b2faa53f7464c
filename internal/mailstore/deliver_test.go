package mailstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// tmpFiles returns the names in user's inbox tmp/.
func tmpFiles(t *testing.T, s *Store, user string) []string {
	t.Helper()
	names, err := readDirNames(filepath.Join(s.Dir(), user, "tmp"))
	if err != nil {
		t.Fatalf("listing %s/tmp: %v", user, err)
	}
	return names
}

// TestDeliverManyBrokenMaildir has one recipient's new/ broken on disk:
// the delivery fails for everyone, so a retry cannot duplicate it.
func TestDeliverManyBrokenMaildir(t *testing.T) {
	s, _ := Open(t.TempDir())
	ctx := context.Background()
	users := []string{"a", "b", "c"}
	for _, u := range users {
		deliver(t, s, u, "", "seed\n")
	}
	newDir := filepath.Join(s.Dir(), "b", "new")
	if err := os.Rename(newDir, newDir+".aside"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(newDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeliverMany(ctx, users, strings.NewReader("shared\n")); err == nil {
		t.Fatalf("DeliverMany(a, b, c) with b's new/ broken = nil error, want an error")
	}
	for _, u := range []string{"a", "c"} {
		if n := len(messages(t, s, u, "")); n != 1 {
			t.Errorf("after a failed DeliverMany, %s has %d messages, want 1 (no copy)", u, n)
		}
	}
	for _, u := range users {
		if names := tmpFiles(t, s, u); len(names) != 0 {
			t.Errorf("after a failed DeliverMany, %s/tmp holds %v, want nothing", u, names)
		}
	}
	// The retry after repair delivers exactly one copy each.
	os.Remove(newDir)
	os.Rename(newDir+".aside", newDir)
	if _, err := s.DeliverMany(ctx, users, strings.NewReader("shared\n")); err != nil {
		t.Fatalf("DeliverMany(a, b, c) after repair = %v", err)
	}
	for _, u := range users {
		if n := len(messages(t, s, u, "")); n != 2 {
			t.Errorf("after the retry, %s has %d messages, want 2", u, n)
		}
	}
}

// TestDeliverManyFailsWhole fails each step of a delivery to three
// users in turn: nobody keeps a copy, the quota taken is given back,
// and the retry gives each user exactly one.
func TestDeliverManyFailsWhole(t *testing.T) {
	for _, tc := range []struct {
		step string
		nth  int
	}{
		{"stage", 1}, {"stage", 2}, {"place", 1}, {"place", 3}, {"uid", 1}, {"uid", 3}, {"done", 1},
	} {
		t.Run(fmt.Sprintf("%s#%d", tc.step, tc.nth), func(t *testing.T) {
			s, _ := Open(t.TempDir())
			body := strings.Repeat("x", 600)
			s.Quota = func(string) int64 { return 1000 } // room for one copy each
			ctx := context.Background()
			users := []string{"a", "b", "c"}
			injected := errors.New("injected failure")
			seen := 0
			s.hooks.step = func(step, path string) error {
				if step == tc.step {
					if seen++; seen == tc.nth {
						return injected
					}
				}
				return nil
			}
			uids, err := s.DeliverMany(ctx, users, strings.NewReader(body))
			if !errors.Is(err, injected) {
				t.Fatalf("DeliverMany(a, b, c) failing at %s #%d = %v, %v; want the injected error", tc.step, tc.nth, uids, err)
			}
			for _, u := range users {
				if msgs := messages(t, s, u, ""); len(msgs) != 0 {
					t.Errorf("after the failure, %s has %d messages, want none", u, len(msgs))
				}
				if names := tmpFiles(t, s, u); len(names) != 0 {
					t.Errorf("after the failure, %s/tmp holds %v, want nothing", u, names)
				}
			}
			s.hooks.step = nil
			uids, err = s.DeliverMany(ctx, users, strings.NewReader(body))
			if err != nil || slices.Contains(uids, 0) {
				t.Fatalf("DeliverMany(a, b, c) retried = %v, %v; want a UID each (quota given back)", uids, err)
			}
			for i, u := range users {
				msgs := messages(t, s, u, "")
				if len(msgs) != 1 || msgs[0].UID != uids[i] {
					t.Errorf("after the retry, %s has %v, want one message with UID %d", u, msgs, uids[i])
				}
			}
		})
	}
}

// TestStaleTmpRemoved: files a crash left in tmp/ go when a Store first
// uses the folder, if older than 36 hours; younger ones stay.
func TestStaleTmpRemoved(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	deliver(t, s, "ivy", "", "one\n")
	deliver(t, s, "jay", "", "one\n")
	if err := s.CreateFolder("ivy", "Sent"); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	put := func(rel string, age time.Duration) string {
		p := filepath.Join(dir, rel)
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
		return p
	}
	old := put("ivy/tmp/1.old.host", 37*time.Hour)
	young := put("ivy/tmp/2.young.host", 35*time.Hour)
	oldSent := put("ivy/.Sent/tmp/3.old.host", 40*time.Hour)
	oldJay := put("jay/tmp/4.old.host", 100*time.Hour)
	exists := func(p string) bool { _, err := os.Lstat(p); return err == nil }

	s2, _ := Open(dir) // a restart
	messages(t, s2, "ivy", "")
	if exists(old) {
		t.Errorf("Messages(ivy) in a new Store left %s (37h old), want it removed", old)
	}
	if !exists(young) {
		t.Errorf("Messages(ivy) in a new Store removed %s (35h old), want it kept", young)
	}
	messages(t, s2, "ivy", "Sent")
	if exists(oldSent) {
		t.Errorf("Messages(ivy, Sent) in a new Store left %s (40h old), want it removed", oldSent)
	}
	deliver(t, s2, "jay", "", "two\n")
	if exists(oldJay) {
		t.Errorf("Deliver(jay) in a new Store left %s (100h old), want it removed", oldJay)
	}
}

// TestAppendAfterCutList: a UID list whose last line lost its newline
// (a crash mid-append) gets a newline before the next entry, instead of
// a garbled line that would cost the folder its UIDVALIDITY.
func TestAppendAfterCutList(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	deliver(t, s, "kim", "", "one\n")
	deliver(t, s, "kim", "", "two\n")
	mb, _ := s.Mailbox(context.Background(), "kim", "")
	v1, _, _ := mb.UIDValidity()
	list := filepath.Join(dir, "kim", uidListFile)
	b, err := os.ReadFile(list)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(list, b[:len(b)-1], 0o600); err != nil {
		t.Fatal(err)
	}
	s2, _ := Open(dir)
	if uid := deliver(t, s2, "kim", "", "three\n"); uid != 3 {
		t.Errorf("Deliver after a cut list = UID %d, want 3", uid)
	}
	s3, _ := Open(dir)
	mb3, _ := s3.Mailbox(context.Background(), "kim", "")
	var uids []uint32
	for _, m := range messages(t, s3, "kim", "") {
		uids = append(uids, m.UID)
	}
	if v3, _, _ := mb3.UIDValidity(); v3 != v1 || !slices.Equal(uids, []uint32{1, 2, 3}) {
		t.Errorf("after a cut list: UIDVALIDITY %d, UIDs %v; want %d, [1 2 3]", v3, uids, v1)
	}
}
