package mailstore

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"
)

// settle dates new/ and cur/ of dir an hour back, as if nothing had
// changed them lately: a listing of them is then settled.
func settle(t testing.TB, dir string) {
	t.Helper()
	then := time.Now().Add(-time.Hour)
	for _, sub := range []string{"new", "cur"} {
		if err := os.Chtimes(filepath.Join(dir, sub), then, then); err != nil {
			t.Fatal(err)
		}
	}
}

// restart opens a new Store on s's tree and lists alice's inbox with
// it, returning the listing, how many times it read the directories,
// and what a listing of the directories gives right after.
func restart(t *testing.T, s *Store) (got []Message, scans int32, want []Message, s2 *Store) {
	t.Helper()
	mb, _, n, s2 := reopen(t, s)
	got, err := mb.Messages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	scans = n.Load()
	err = mb.f.withLock(func() error {
		var err error
		want, err = mb.f.scan()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, scans, slices.Clone(want), s2
}

// cachedStore is a store whose inbox holds n messages (one without
// ",S=" and ",W=", one flagged in cur/), listed settled and closed, so
// that plumb-listing is written.
func cachedStore(t *testing.T, n int) (*Store, string) {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var uids []uint32
	for i := range n {
		uids = append(uids, deliver(t, s, "alice", "", fmt.Sprintf("Subject: %d\n\nbody\n", i)))
	}
	dir := filepath.Join(s.Dir(), "alice")
	mb, _ := s.Mailbox(context.Background(), "alice", "")
	if _, err := mb.AddFlags(context.Background(), uids[0], "S"); err != nil {
		t.Fatal(err)
	}
	// A file another program dropped, its name without sizes.
	if err := os.WriteFile(filepath.Join(dir, "cur", "1.plain.host:2,F"), []byte("a\nb\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	settle(t, dir)
	msgs, err := mb.Messages(context.Background())
	if err != nil || len(msgs) != n+1 {
		t.Fatalf("Messages = %d, %v", len(msgs), err)
	}
	if _, err := mb.CRLFSize(msgs[len(msgs)-1]); err != nil { // known CRLF size of the plain one
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, listingFile)); err != nil {
		t.Fatalf("no listing cache after a settled listing: %v", err)
	}
	return s, dir
}

// TestListingCacheRestart: a restarted store's first exact listing of a
// folder unchanged since a settled listing reads plumb-listing, not the
// directories, and is what a listing of them gives.
func TestListingCacheRestart(t *testing.T) {
	s, _ := cachedStore(t, 5)
	got, scans, want, _ := restart(t, s)
	if scans != 0 {
		t.Errorf("the restarted store read the directories %d times; want the cache", scans)
	}
	if !slices.Equal(got, want) || len(got) != 6 {
		t.Errorf("cached listing\n%v\nwant (a listing of the directories)\n%v", got, want)
	}
	if got[5].Size != 4 || got[5].Flags != "F" || got[0].Flags != "S" || got[1].Recent != true {
		t.Errorf("cached listing lost a size, flags or recency: %+v", got)
	}
}

// TestListingCacheInvalidated: each change behind the store makes the
// restarted store read the directories, and the listing shows it.
func TestListingCacheInvalidated(t *testing.T) {
	cases := []struct {
		name   string
		change func(t *testing.T, dir string)
		n      int
	}{
		{"file dropped into new/", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "new", "9.other.host"), []byte("x\n"), 0o600)
		}, 7},
		{"rename in cur/", func(t *testing.T, dir string) {
			os.Rename(filepath.Join(dir, "cur", "1.plain.host:2,F"), filepath.Join(dir, "cur", "1.plain.host:2,FS"))
		}, 6},
		{"file removed", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "cur", "1.plain.host:2,F"))
		}, 5},
		{"another process's UID list", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, uidListFile))
			os.Remove(filepath.Join(dir, uidListFile))
			os.WriteFile(filepath.Join(dir, uidListFile), b, 0o600) // same text, another file
		}, 6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, dir := cachedStore(t, 5)
			tc.change(t, dir)
			got, scans, want, s2 := restart(t, s)
			if scans != 1 || !slices.Equal(got, want) || len(got) != tc.n {
				t.Errorf("after the change: %d scans, %d messages (want 1 scan, %d), equal to a listing: %v", scans, len(got), tc.n, slices.Equal(got, want))
			}
			if tc.name == "rename in cur/" && got[5].Flags != "FS" {
				t.Errorf("flags after another program's rename = %q, want FS", got[5].Flags)
			}
			// That listing followed a change within uncertainAge: it is not
			// trusted, so the next restart reads the directories again.
			if tc.name != "another process's UID list" {
				_, scans, _, _ = restart(t, s2)
				if scans != 1 {
					t.Errorf("a listing taken just after a change was trusted: %d scans", scans)
				}
			}
		})
	}
}

// TestListingCacheDamaged: a corrupt, torn or foreign cache is ignored
// (the directories are read) and replaced.
func TestListingCacheDamaged(t *testing.T) {
	for name, damage := range map[string]func([]byte) []byte{
		"corrupt": func(b []byte) []byte { b[len(b)/2] ^= 1; return b },
		"torn":    func(b []byte) []byte { return b[:len(b)/2] },
		"foreign": func(b []byte) []byte {
			return bytes.Replace(b, []byte(listingMagic), []byte("plumb-listing 1"), 1) // the format of before

		},
		"empty": func(b []byte) []byte { return nil },
	} {
		t.Run(name, func(t *testing.T) {
			s, dir := cachedStore(t, 3)
			p := filepath.Join(dir, listingFile)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, damage(b), 0o600)
			got, scans, want, s2 := restart(t, s)
			if scans != 1 || !slices.Equal(got, want) {
				t.Errorf("damaged cache: %d scans, listing equal: %v", scans, slices.Equal(got, want))
			}
			if _, scans, _, _ = restart(t, s2); scans != 0 {
				t.Errorf("damaged cache not replaced: %d scans after", scans)
			}
		})
	}
}

// TestListingCacheOwnChanges: deliveries, flag changes and expunges
// made by this process, then a restart, give the right listing, cached
// once the directories settle.
func TestListingCacheOwnChanges(t *testing.T) {
	s, dir := cachedStore(t, 4)
	ctx := context.Background()
	mb, _ := s.Mailbox(ctx, "alice", "")
	msgs, _ := mb.Messages(ctx)
	uid := deliver(t, s, "alice", "", "Subject: new\n\nnew\n")
	if _, err := mb.AddFlags(ctx, msgs[1].UID, "F"); err != nil {
		t.Fatal(err)
	}
	if err := mb.Delete(ctx, msgs[2].UID); err != nil {
		t.Fatal(err)
	}
	settle(t, dir)
	if _, err := mb.Messages(ctx); err != nil { // settled again: cached
		t.Fatal(err)
	}
	got, scans, want, _ := restart(t, s)
	if scans != 0 || !slices.Equal(got, want) || len(got) != 5 || got[4].UID != uid {
		t.Errorf("after own changes: %d scans, %d messages, equal %v", scans, len(got), slices.Equal(got, want))
	}
	if got[1].Flags != "F" || slices.ContainsFunc(got, func(m Message) bool { return m.UID == msgs[2].UID }) {
		t.Errorf("own flag change or deletion lost: %+v", got)
	}
}

// reopen opens a new Store on s's tree, counting its reads of UID
// lists and of directories, and returns alice's inbox with it.
func reopen(t *testing.T, s *Store) (mb *Mailbox, uidReads, scans *atomic.Int32, s2 *Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s2.Close() })
	uidReads, scans = new(atomic.Int32), new(atomic.Int32)
	s2.hooks.uidListRead = func(string) { uidReads.Add(1) }
	s2.hooks.scanned = func(string) { scans.Add(1) }
	if mb, err = s2.Mailbox(context.Background(), "alice", ""); err != nil {
		t.Fatal(err)
	}
	return mb, uidReads, scans, s2
}

// TestListingCacheTakesUIDList: a restarted store's first listing of a
// folder unchanged since its cache was written takes the UID list from
// the cache too, without reading the list's file; the folder then
// works as if it had: a delivery numbers on, a flag change and a
// deletion find their files, and the next restart agrees with a
// listing of the directories.
func TestListingCacheTakesUIDList(t *testing.T) {
	s, dir := cachedStore(t, 4)
	ctx := context.Background()
	mb, uidReads, scans, s2 := reopen(t, s)
	msgs, err := mb.Messages(ctx)
	if err != nil || len(msgs) != 5 {
		t.Fatalf("Messages = %d, %v", len(msgs), err)
	}
	if uidReads.Load() != 0 || scans.Load() != 0 {
		t.Errorf("first listing read the UID list %d times and the directories %d times; want neither", uidReads.Load(), scans.Load())
	}
	uid := deliver(t, s2, "alice", "", "Subject: after\n\nafter\n")
	if uid != msgs[4].UID+1 {
		t.Errorf("delivery after the restart got UID %d; want %d", uid, msgs[4].UID+1)
	}
	if _, err := mb.AddFlags(ctx, msgs[1].UID, "F"); err != nil {
		t.Fatal(err)
	}
	if err := mb.Delete(ctx, msgs[2].UID); err != nil {
		t.Fatal(err)
	}
	if again := deliver(t, s2, "alice", "", "Subject: after\n\nafter\n"); again != uid+1 {
		t.Errorf("second delivery got UID %d; want %d", again, uid+1)
	}
	settle(t, dir)
	if _, err := mb.Messages(ctx); err != nil {
		t.Fatal(err)
	}
	got, _, want, _ := restart(t, s2)
	if !slices.Equal(got, want) || len(got) != 6 || got[1].Flags != "F" || slices.ContainsFunc(got, func(m Message) bool { return m.UID == msgs[2].UID }) {
		t.Errorf("after changes on a list taken from the cache:\n%v\nwant (a listing of the directories)\n%v", got, want)
	}
}

// TestListingCacheKeepsNextUID: a UID list whose next UID is above its
// last entry's (a key listed twice, the second time last) gives that
// next UID after a restart that takes the list from the cache: no UID
// is given twice.
func TestListingCacheKeepsNextUID(t *testing.T) {
	s, dir := cachedStore(t, 3)
	list := filepath.Join(dir, uidListFile)
	b, err := os.ReadFile(list)
	if err != nil {
		t.Fatal(err)
	}
	first := strings.Fields(strings.Split(string(b), "\n")[1]) // "1 <key>"
	dup := fmt.Sprintf("9 %s\n", first[1])
	if err := os.WriteFile(list, append(b, dup...), 0o600); err != nil {
		t.Fatal(err)
	}
	// The list changed: the cache is not used, and is written again.
	mb, uidReads, _, s2 := reopen(t, s)
	if _, err := mb.Messages(context.Background()); err != nil || uidReads.Load() != 1 {
		t.Fatalf("Messages: %v, %d reads of the changed UID list; want 1", err, uidReads.Load())
	}
	mb, uidReads, _, s3 := reopen(t, s2)
	if _, err := mb.Messages(context.Background()); err != nil || uidReads.Load() != 0 {
		t.Fatalf("Messages: %v, %d reads of the UID list; want the cache", err, uidReads.Load())
	}
	if uid := deliver(t, s3, "alice", "", "Subject: x\n\nx\n"); uid != 10 {
		t.Errorf("delivery got UID %d; want 10, above the list's 9", uid)
	}
}

// TestListingTempsRemoved: a temporary file a crash left while writing
// the cache is removed when the folder is first used.
func TestListingTempsRemoved(t *testing.T) {
	s, dir := cachedStore(t, 1)
	left := filepath.Join(dir, listingFile+".tmp123")
	os.WriteFile(left, []byte("half"), 0o600)
	restart(t, s)
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Errorf("leftover %s: %v", left, err)
	}
}

func FuzzParseListing(f *testing.F) {
	const prefix = "/mail/alice/"
	c := cachedListing{validity: 1700000000, next: 8, at: 1700000000000000000, stamps: [3]fileStamp{{4096, 17, 3}, {8192, 18, 4}, {100, 19, 5}},
		msgs: []Message{{UID: 1, Path: prefix + "new/1.M1P2Q3.host,S=5,W=6", Size: 5, CRLFSize: 6}, {UID: 7, Path: prefix + "cur/2.x:2,FS", Size: 3, CRLFSize: -1}}}
	f.Add(c.marshal(prefix))
	f.Add((&cachedListing{validity: 1, next: 1}).marshal(prefix))
	f.Add([]byte("plumb-listing 2 0 1 1 0 0 0 0 0 0 0 0 0 0\nend 00000000\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseListing(bytes.NewReader(b), int64(len(b)), prefix, nil)
		// Read a byte at a time, it parses the same.
		c1, err1 := parseListing(iotest.OneByteReader(bytes.NewReader(b)), int64(len(b)), prefix, nil)
		if (err == nil) != (err1 == nil) || !reflect.DeepEqual(c, c1) {
			t.Fatalf("read a byte at a time, %q parses as %+v, %v; want %+v, %v", b, c1, err1, c, err)
		}
		if err != nil {
			return
		}
		for _, m := range c.msgs {
			fn, err := parseFileName(filepath.Base(m.Path))
			if !strings.HasPrefix(m.Path, prefix) || err != nil || fn.key != m.Key || fn.flags != m.Flags ||
				m.Recent != strings.HasPrefix(m.Path, prefix+"new/") {
				t.Fatalf("accepted %q as %+v", b, m)
			}
		}
		if out := c.marshal(prefix); !bytes.Equal(out, b) {
			t.Fatalf("accepted\n%q\nre-encodes to\n%q", b, out)
		}
	})
}

// BenchmarkFirstListing100k is a restarted store's first exact listing
// of a 100,000-message folder, from the cache and from the directories.
func BenchmarkFirstListing100k(b *testing.B) {
	root := b.TempDir()
	dir := filepath.Join(root, "alice")
	for _, sub := range []string{"cur", "new", "tmp"} {
		os.MkdirAll(filepath.Join(dir, sub), 0o700)
	}
	for i := range 100000 {
		name := fmt.Sprintf("%d.M%dP1Q%d.bench,S=1000,W=1020:2,S", 1700000000+i/10, i, i)
		if err := os.WriteFile(filepath.Join(dir, "cur", name), nil, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	settle(b, dir)
	first := func(b *testing.B) {
		s, _ := Open(root)
		mb, _ := s.Mailbox(context.Background(), "alice", "")
		msgs, err := mb.Messages(context.Background())
		if err != nil || len(msgs) != 100000 {
			b.Fatalf("Messages = %d, %v", len(msgs), err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	first(b) // numbers them and writes the cache
	b.Run("cached", func(b *testing.B) {
		for range b.N {
			first(b)
		}
	})
	b.Run("uncached", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			os.Remove(filepath.Join(dir, listingFile))
			b.StartTimer()
			first(b)
		}
	})
}

// TestListingCacheManyFirst: many handles that list a restarted store's
// folder at once all get the cached listing, read once, without a scan.
func TestListingCacheManyFirst(t *testing.T) {
	s, _ := cachedStore(t, 5)
	_, _, want, s2 := restart(t, s) // want: the directories, as listed after the restart
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	s3, err := Open(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	var scans atomic.Int32
	s3.hooks.scanned = func(string) { scans.Add(1) }
	var wg sync.WaitGroup
	got := make([][]Message, 20)
	for i := range got {
		wg.Go(func() {
			mb, err := s3.Mailbox(context.Background(), "alice", "")
			if err != nil {
				t.Error(err)
				return
			}
			defer mb.Close()
			got[i], err = mb.Snapshot(context.Background(), true)
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := scans.Load(); n != 0 {
		t.Errorf("%d scans of the directories; want the cache", n)
	}
	for i, g := range got {
		if !slices.Equal(g, want) {
			t.Fatalf("handle %d listed\n%v\nwant\n%v", i, g, want)
		}
	}
}
