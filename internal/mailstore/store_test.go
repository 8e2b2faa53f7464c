package mailstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func deliver(t *testing.T, s *Store, user, folder, body string) uint32 {
	t.Helper()
	uid, err := s.Deliver(context.Background(), user, folder, strings.NewReader(body))
	if err != nil {
		t.Fatalf("Deliver(%q, %q) = %v", user, folder, err)
	}
	return uid
}

func messages(t *testing.T, s *Store, user, folder string) []Message {
	t.Helper()
	mb, err := s.Mailbox(context.Background(), user, folder)
	if err != nil {
		t.Fatalf("Mailbox(%q, %q) = %v", user, folder, err)
	}
	msgs, err := mb.Messages(context.Background())
	if err != nil {
		t.Fatalf("Messages() = %v", err)
	}
	return msgs
}

func read(t *testing.T, mb *Mailbox, uid uint32) string {
	t.Helper()
	f, err := mb.Open(uid)
	if err != nil {
		t.Fatalf("Open(%d) = %v", uid, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDeliverAndRead(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	bodies := []string{"Subject: a\r\n\r\none\r\n", "Subject: b\n\ntwo\n", "", "no line end\r"}
	for i, b := range bodies {
		if uid := deliver(t, s, "alice", "", b); uid != uint32(i+1) {
			t.Errorf("Deliver #%d = UID %d, want %d", i, uid, i+1)
		}
	}
	mb, _ := s.Mailbox(context.Background(), "alice", "INBOX")
	msgs := messages(t, s, "alice", "")
	if len(msgs) != 4 {
		t.Fatalf("Messages() has %d, want 4", len(msgs))
	}
	for i, m := range msgs {
		if got := read(t, mb, m.UID); got != bodies[i] {
			t.Errorf("Open(%d) = %q, want %q", m.UID, got, bodies[i])
		}
		if m.Size != int64(len(bodies[i])) {
			t.Errorf("UID %d Size = %d, want %d", m.UID, m.Size, len(bodies[i]))
		}
		want := int64(len(strings.ReplaceAll(strings.ReplaceAll(bodies[i], "\r\n", "\n"), "\n", "\r\n")))
		switch b := bodies[i]; {
		case strings.HasSuffix(b, "\r"):
			want++ // a lone CR at the end is sent as CRLF
		case b != "" && !strings.HasSuffix(b, "\n"):
			want += 2
		}
		if m.CRLFSize != want {
			t.Errorf("UID %d CRLFSize = %d, want %d", m.UID, m.CRLFSize, want)
		}
		if !m.Recent || !strings.Contains(m.Path, "/new/") {
			t.Errorf("UID %d Path = %q, want it in new/", m.UID, m.Path)
		}
	}
	// The files are plain Maildir: in new/, nothing left in tmp/.
	if ents, _ := os.ReadDir(filepath.Join(dir, "alice", "tmp")); len(ents) != 0 {
		t.Errorf("tmp/ holds %d files after delivery, want 0", len(ents))
	}
	// A new Store on the same tree sees the same UIDs.
	s2, _ := Open(dir)
	again := messages(t, s2, "alice", "")
	for i := range msgs {
		if again[i].UID != msgs[i].UID || again[i].Key != msgs[i].Key {
			t.Errorf("reopened message %d = UID %d %q, want %d %q", i, again[i].UID, again[i].Key, msgs[i].UID, msgs[i].Key)
		}
	}
	if uid := deliver(t, s2, "alice", "", "x"); uid != 5 {
		t.Errorf("Deliver after reopen = UID %d, want 5", uid)
	}
}

func TestBehindOurBack(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	deliver(t, s, "bob", "", "one\n")
	deliver(t, s, "bob", "", "two\n")
	msgs := messages(t, s, "bob", "")
	mb, _ := s.Mailbox(context.Background(), "bob", "")
	v1, _, _ := mb.UIDValidity()
	// Another tool removes UID 1 and drops in two files.
	os.Remove(msgs[0].Path)
	os.WriteFile(filepath.Join(dir, "bob", "new", "100.foreign1.host"), []byte("three\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "bob", "cur", "200.foreign2.host:2,S"), []byte("four\r\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "bob", "cur", ".hidden"), []byte("junk"), 0o600)
	got := messages(t, s, "bob", "")
	var uids []uint32
	for _, m := range got {
		uids = append(uids, m.UID)
	}
	if !slices.Equal(uids, []uint32{2, 3, 4}) {
		t.Fatalf("UIDs after outside changes = %v, want [2 3 4]", uids)
	}
	if got[1].Key != "100.foreign1.host" || got[2].Flags != "S" {
		t.Errorf("foreign messages = %q %q, want 100.foreign1.host and flags S", got[1].Key, got[2].Flags)
	}
	if got[1].Size != 6 || got[1].CRLFSize != -1 {
		t.Errorf("foreign Size, CRLFSize = %d, %d, want 6, -1", got[1].Size, got[1].CRLFSize)
	}
	if v, err := mb.CRLFSize(got[1]); err != nil || v != 7 {
		t.Errorf("CRLFSize(foreign) = %d, %v, want 7", v, err)
	}
	v2, next, _ := mb.UIDValidity()
	if v1 != v2 || next != 5 {
		t.Errorf("UIDValidity() = %d, %d, want %d, 5", v2, next, v1)
	}
	// The highest UID is never reused, even when its message goes.
	if err := mb.Delete(context.Background(), 4); err != nil {
		t.Fatal(err)
	}
	if uid := deliver(t, s, "bob", "", "five"); uid != 5 {
		t.Errorf("Deliver after deleting the top UID = %d, want 5", uid)
	}
	s2, _ := Open(dir)
	if uid := deliver(t, s2, "bob", "", "six"); uid != 6 {
		t.Errorf("Deliver in a new Store = %d, want 6", uid)
	}
}

func TestCorruptUIDList(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	deliver(t, s, "carol", "", "one")
	mb, _ := s.Mailbox(context.Background(), "carol", "")
	v1, _, _ := mb.UIDValidity()
	os.WriteFile(filepath.Join(dir, "carol", uidListFile), []byte("garbage\n"), 0o600)
	s2, _ := Open(dir)
	mb2, _ := s2.Mailbox(context.Background(), "carol", "")
	msgs, err := mb2.Messages(context.Background())
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Messages() after corruption = %v, %v; want one message", msgs, err)
	}
	v2, _, _ := mb2.UIDValidity()
	if v2 <= v1 {
		t.Errorf("UIDVALIDITY after a corrupt list = %d, want > %d", v2, v1)
	}
}

func TestFlagsAndDelete(t *testing.T) {
	s, _ := Open(t.TempDir())
	ctx := context.Background()
	uid := deliver(t, s, "dan", "", "hello\n")
	deliver(t, s, "dan", "", "other\n")
	mb, _ := s.Mailbox(ctx, "dan", "")
	if err := mb.SetFlags(ctx, uid, "TSS"); err != nil {
		t.Fatal(err)
	}
	msgs, _ := mb.Messages(ctx)
	if msgs[0].Flags != "ST" || msgs[0].Recent || !strings.HasSuffix(msgs[0].Path, ":2,ST") {
		t.Errorf("after SetFlags: %+v, want flags ST in cur/", msgs[0])
	}
	if got := read(t, mb, uid); got != "hello\n" {
		t.Errorf("Open(%d) after SetFlags = %q", uid, got)
	}
	if err := mb.SetFlags(ctx, 99, "S"); !errors.Is(err, ErrNoSuchMessage) {
		t.Errorf("SetFlags(99) = %v, want ErrNoSuchMessage", err)
	}
	if err := mb.Delete(ctx, uid); err != nil {
		t.Fatal(err)
	}
	msgs, _ = mb.Messages(ctx)
	if len(msgs) != 1 || msgs[0].UID != 2 {
		t.Errorf("after Delete(%d): %v, want only UID 2", uid, msgs)
	}
	if _, err := mb.Open(uid); !errors.Is(err, ErrNoSuchMessage) {
		t.Errorf("Open(deleted) = %v, want ErrNoSuchMessage", err)
	}
	if uid, err := mb.Append(ctx, strings.NewReader("draft"), "D", msgsDate()); err != nil || uid != 3 {
		t.Errorf("Append = %d, %v, want 3", uid, err)
	}
	msgs, _ = mb.Messages(ctx)
	if d, _ := msgs[1].InternalDate(); !d.Equal(msgsDate()) || msgs[1].Flags != "D" {
		t.Errorf("appended message: date %v flags %q, want %v D", d, msgs[1].Flags, msgsDate())
	}
}

func TestLock(t *testing.T) {
	s, _ := Open(t.TempDir())
	ctx := context.Background()
	a, err := s.Lock(ctx, "erin", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lock(ctx, "erin", "INBOX"); !errors.Is(err, ErrLocked) {
		t.Errorf("second Lock = %v, want ErrLocked", err)
	}
	// A second Store (another daemon) is refused too: flock, not a map.
	s2, _ := Open(s.Dir())
	if _, err := s2.Lock(ctx, "erin", ""); !errors.Is(err, ErrLocked) {
		t.Errorf("Lock from a second Store = %v, want ErrLocked", err)
	}
	if _, err := s.Lock(ctx, "frank", ""); err != nil {
		t.Errorf("Lock of another user = %v", err)
	}
	a.Close()
	b, err := s2.Lock(ctx, "erin", "")
	if err != nil {
		t.Fatalf("Lock after Close = %v", err)
	}
	b.Close()
}

func TestQuota(t *testing.T) {
	s, _ := Open(t.TempDir())
	s.Quota = func(user string) int64 {
		if user == "small" {
			return 100
		}
		return 0
	}
	ctx := context.Background()
	deliver(t, s, "small", "", strings.Repeat("a", 60))
	_, err := s.Deliver(ctx, "small", "", strings.NewReader(strings.Repeat("b", 60)))
	var qe *QuotaError
	if !errors.Is(err, ErrQuotaExceeded) || !errors.As(err, &qe) || qe.Permanent() {
		t.Fatalf("Deliver over quota = %v, want a temporary QuotaError", err)
	}
	_, err = s.Deliver(ctx, "small", "", strings.NewReader(strings.Repeat("c", 200)))
	if !errors.As(err, &qe) || !qe.Permanent() {
		t.Errorf("Deliver larger than quota = %v, want a permanent QuotaError", err)
	}
	if n := len(messages(t, s, "small", "")); n != 1 {
		t.Errorf("messages after refusals = %d, want 1", n)
	}
	if err := s.CheckQuota("small", 50); !errors.Is(err, ErrQuotaExceeded) {
		t.Errorf("CheckQuota(50) = %v, want ErrQuotaExceeded", err)
	}
	uids, err := s.DeliverMany(ctx, []string{"big", "small"}, strings.NewReader(strings.Repeat("d", 50)))
	if !errors.Is(err, ErrQuotaExceeded) || uids[0] != 1 || uids[1] != 0 {
		t.Errorf("DeliverMany(big, small) = %v, %v; want [1 0] and a quota error", uids, err)
	}
	// Deleting frees space.
	mb, _ := s.Mailbox(ctx, "small", "")
	mb.Delete(ctx, 1)
	deliver(t, s, "small", "", strings.Repeat("e", 90))
}

func TestDeliverMany(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	deliver(t, s, "u2", "", "earlier")
	uids, err := s.DeliverMany(context.Background(), []string{"u1", "u2", "u1"}, strings.NewReader("shared\r\n"))
	if err != nil || !slices.Equal(uids, []uint32{1, 2, 1}) {
		t.Fatalf("DeliverMany = %v, %v; want [1 2 1]", uids, err)
	}
	a, b := messages(t, s, "u1", ""), messages(t, s, "u2", "")
	if len(a) != 1 || len(b) != 2 || a[0].Key != b[1].Key {
		t.Fatalf("u1 %v, u2 %v: want the same file in both", a, b)
	}
	fa, _ := os.Stat(a[0].Path)
	fb, _ := os.Stat(b[1].Path)
	if !os.SameFile(fa, fb) {
		t.Errorf("DeliverMany wrote two files, want one hard-linked")
	}
}

func TestFolders(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	for _, f := range []string{"Sent", "Archive", "Archive/2024"} {
		if err := s.CreateFolder("gina", f); err != nil {
			t.Fatalf("CreateFolder(%q) = %v", f, err)
		}
	}
	if err := s.CreateFolder("gina", "Sent"); !errors.Is(err, ErrFolderExists) {
		t.Errorf("CreateFolder(Sent) again = %v, want ErrFolderExists", err)
	}
	for _, bad := range []string{"a.b", "/x", "x/", "a//b", "..", "x\ny"} {
		if err := s.CreateFolder("gina", bad); !errors.Is(err, ErrBadName) {
			t.Errorf("CreateFolder(%q) = %v, want ErrBadName", bad, err)
		}
	}
	if _, err := s.Deliver(context.Background(), "../etc", "", strings.NewReader("x")); !errors.Is(err, ErrBadName) {
		t.Errorf("Deliver to user ../etc = %v, want ErrBadName", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "gina", ".Archive.2024", "maildirfolder")); err != nil {
		t.Errorf("Maildir++ layout: %v", err)
	}
	deliver(t, s, "gina", "Archive/2024", "old mail")
	if _, err := s.Deliver(context.Background(), "gina", "Nope", strings.NewReader("x")); !errors.Is(err, ErrNoSuchFolder) {
		t.Errorf("Deliver to a missing folder = %v, want ErrNoSuchFolder", err)
	}
	if err := s.RenameFolder("gina", "Archive", "Old"); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Folders("gina")
	if want := []string{"INBOX", "Old", "Old/2024", "Sent"}; !slices.Equal(got, want) {
		t.Errorf("Folders() = %v, want %v", got, want)
	}
	if msgs := messages(t, s, "gina", "Old/2024"); len(msgs) != 1 || msgs[0].UID != 1 {
		t.Errorf("renamed folder's messages = %v, want UID 1", msgs)
	}
	if err := s.DeleteFolder("gina", "Sent"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteFolder("gina", "Sent"); !errors.Is(err, ErrNoSuchFolder) {
		t.Errorf("DeleteFolder(Sent) again = %v, want ErrNoSuchFolder", err)
	}
	got, _ = s.Folders("gina")
	if want := []string{"INBOX", "Old", "Old/2024"}; !slices.Equal(got, want) {
		t.Errorf("Folders() after delete = %v, want %v", got, want)
	}
}

func TestConcurrentDelivery(t *testing.T) {
	dir := t.TempDir()
	s1, _ := Open(dir)
	s2, _ := Open(dir) // two daemons on one tree
	var wg sync.WaitGroup
	const n = 40
	uids := make([]uint32, 2*n)
	for i := range 2 * n {
		wg.Go(func() {
			s := s1
			if i%2 == 1 {
				s = s2
			}
			uid, err := s.Deliver(context.Background(), "hank", "", strings.NewReader(fmt.Sprint("msg ", i)))
			if err != nil {
				t.Error(err)
			}
			uids[i] = uid
			if i%10 == 0 {
				mb, _ := s.Mailbox(context.Background(), "hank", "")
				mb.Messages(context.Background())
			}
		})
	}
	wg.Wait()
	slices.Sort(uids)
	for i, u := range uids {
		if u != uint32(i+1) {
			t.Fatalf("UIDs from concurrent deliveries = %v, want 1..%d each once", uids, 2*n)
		}
	}
	msgs := messages(t, s1, "hank", "")
	if len(msgs) != 2*n || msgs[len(msgs)-1].UID != 2*n {
		t.Errorf("Messages() = %d messages, last UID %d; want %d", len(msgs), msgs[len(msgs)-1].UID, 2*n)
	}
}
