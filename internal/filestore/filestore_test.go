package filestore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/atomicfile"
)

func newTree(t *testing.T, l Limits) (*Store, *Tree) {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "files"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tr, err := s.Home(context.Background(), "alice", l)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return s, tr
}

func put(t *testing.T, tr *Tree, name string, offset int64, data string) error {
	t.Helper()
	ctx := context.Background()
	u, err := tr.Create(ctx, name, offset)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(u, data); err != nil {
		u.Abort()
		return err
	}
	return u.Commit(ctx)
}

func read(t *testing.T, tr *Tree, name string) string {
	t.Helper()
	f, err := tr.Open(context.Background(), name)
	if err != nil {
		t.Fatalf("Open(%q): %v", name, err)
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	return string(b)
}

func TestUploadCommitAppendResume(t *testing.T) {
	_, tr := newTree(t, Limits{})
	if err := put(t, tr, "a.txt", 0, "hello"); err != nil {
		t.Fatal(err)
	}
	if got := read(t, tr, "a.txt"); got != "hello" {
		t.Fatalf("read(a.txt) = %q, want %q", got, "hello")
	}
	if err := put(t, tr, "a.txt", AppendOffset, " world"); err != nil {
		t.Fatal(err)
	}
	if got := read(t, tr, "/a.txt"); got != "hello world" {
		t.Fatalf("after append read = %q, want %q", got, "hello world")
	}
	if err := put(t, tr, "a.txt", 6, "there"); err != nil {
		t.Fatal(err)
	}
	if got := read(t, tr, "a.txt"); got != "hello there" {
		t.Fatalf("after resume at 6 read = %q, want %q", got, "hello there")
	}
	if err := put(t, tr, "a.txt", 100, "x"); !errors.Is(err, fs.ErrInvalid) {
		t.Fatalf("Create at offset past the end: err = %v, want fs.ErrInvalid", err)
	}
	if err := put(t, tr, "new.txt", AppendOffset, "x"); err != nil {
		t.Fatalf("append to a new file: %v", err)
	}
	if got, want := tr.Used(), int64(len("hello there")+1); got != want {
		t.Fatalf("Used() = %d, want %d", got, want)
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	_, tr := newTree(t, Limits{})
	ctx := context.Background()
	if err := put(t, tr, "keep.txt", 0, "old"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"gone.txt", "keep.txt"} {
		u, err := tr.Create(ctx, name, AppendOffset)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(u, "partial")
		// While it is written, the listing shows no temporary file.
		ents, _ := tr.ReadDir(ctx, ".")
		for _, e := range ents {
			if isTemp(e.Name()) {
				t.Fatalf("ReadDir shows upload in progress %q", e.Name())
			}
		}
		u.Abort()
	}
	if _, err := tr.Stat(ctx, "gone.txt"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Stat(gone.txt) after Abort: err = %v, want not exist", err)
	}
	if got := read(t, tr, "keep.txt"); got != "old" {
		t.Fatalf("read(keep.txt) after aborted append = %q, want %q", got, "old")
	}
	ents, _ := os.ReadDir(filepath.Join(tr.root.Name()))
	if len(ents) != 1 {
		t.Fatalf("directory holds %d entries after aborts, want 1", len(ents))
	}
	if got := tr.Used(); got != 3 {
		t.Fatalf("Used() = %d, want 3", got)
	}
}

func TestQuotaAndMaxFileSize(t *testing.T) {
	_, tr := newTree(t, Limits{Quota: 10, MaxFileSize: 8})
	ctx := context.Background()
	if err := put(t, tr, "a", 0, "123456789"); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("9 bytes with max 8: err = %v, want ErrTooLarge", err)
	}
	if err := put(t, tr, "a", 0, "12345678"); err != nil {
		t.Fatal(err)
	}
	if err := put(t, tr, "b", 0, "123"); !errors.Is(err, ErrQuota) {
		t.Fatalf("3 more bytes over quota 10: err = %v, want ErrQuota", err)
	}
	if _, err := tr.Stat(ctx, "b"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("over-quota upload left a file: Stat err = %v", err)
	}
	// Replacing a file counts only the growth.
	if err := put(t, tr, "a", 0, "1234567"); err != nil {
		t.Fatalf("replacing with a smaller file: %v", err)
	}
	if err := put(t, tr, "b", 0, "123"); err != nil {
		t.Fatalf("3 bytes within quota: %v", err)
	}
	if err := tr.Remove(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if got := tr.Used(); got != 3 {
		t.Fatalf("Used() after remove = %d, want 3", got)
	}
}

func TestJail(t *testing.T) {
	s, tr := newTree(t, Limits{})
	ctx := context.Background()
	outside := filepath.Join(filepath.Dir(s.Dir()), "secret")
	os.WriteFile(outside, []byte("secret"), 0o600)
	home := tr.root.Name()
	os.Symlink(outside, filepath.Join(home, "abs-link"))
	os.Symlink("../../../secret", filepath.Join(home, "rel-link"))
	os.Symlink("../bob", filepath.Join(home, "sibling"))
	os.WriteFile(filepath.Join(home, "in.txt"), []byte("in"), 0o600)
	os.Symlink("in.txt", filepath.Join(home, "ok-link"))

	for _, name := range []string{"abs-link", "rel-link", "sibling/x", "../../secret", "../alice/../../secret"} {
		if f, err := tr.Open(ctx, name); err == nil {
			b, _ := io.ReadAll(f)
			f.Close()
			if string(b) == "secret" {
				t.Fatalf("Open(%q) read the file outside the tree", name)
			}
		}
	}
	if got := read(t, tr, "ok-link"); got != "in" {
		t.Fatalf("read(ok-link) = %q, want %q", got, "in")
	}
	if got := read(t, tr, "../../in.txt"); got != "in" {
		t.Fatalf("read(../../in.txt) = %q, want the tree's in.txt", got)
	}
	if err := put(t, tr, "abs-link", 0, "x"); err == nil {
		b, _ := os.ReadFile(outside)
		if string(b) != "secret" {
			t.Fatal("an upload through a symlink overwrote a file outside the tree")
		}
	}
	if _, err := tr.Open(ctx, atomicfile.TempPrefix+"x"); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("Open of a temporary name: err = %v, want permission", err)
	}
	if _, err := s.Home(ctx, "../x", Limits{}); !errors.Is(err, ErrBadName) {
		t.Fatalf("Home(../x): err = %v, want ErrBadName", err)
	}
}

func TestReadOnlyAndDirs(t *testing.T) {
	s, tr := newTree(t, Limits{})
	ctx := context.Background()
	if err := tr.Mkdir(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if err := put(t, tr, "d/f", 0, "x"); err != nil {
		t.Fatal(err)
	}
	if err := tr.RemoveDir(ctx, "d"); err == nil {
		t.Fatal("RemoveDir of a non-empty directory succeeded")
	}
	if err := tr.Remove(ctx, "d"); !errors.Is(err, ErrIsDir) {
		t.Fatalf("Remove(dir): err = %v, want ErrIsDir", err)
	}
	if err := tr.Rename(ctx, "d/f", "g"); err != nil {
		t.Fatal(err)
	}
	if err := tr.RemoveDir(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if err := tr.Chmod(ctx, "g", 0o604); err != nil {
		t.Fatal(err)
	}
	ro, err := s.Anonymous(ctx, Limits{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := put(t, ro, "x", 0, "x"); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("upload to a read-only tree: err = %v, want permission", err)
	}
	if err := ro.Mkdir(ctx, "x"); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("Mkdir in a read-only tree: err = %v, want permission", err)
	}
}

func TestUsageCountedOnOpenAndCrashLeftoversRemoved(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "files")
	home := filepath.Join(dir, homesDir, "bob")
	os.MkdirAll(home, 0o750)
	os.WriteFile(filepath.Join(home, "a"), make([]byte, 100), 0o600)
	leftovers := []string{atomicfile.TempPrefix + "dead", legacyTempPrefix + "dead"}
	for _, l := range leftovers {
		os.WriteFile(filepath.Join(home, l), make([]byte, 50), 0o600)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tr, err := s.Home(context.Background(), "bob", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if got := tr.Used(); got != 100 {
		t.Fatalf("Used() = %d, want 100", got)
	}
	for _, l := range leftovers {
		if _, err := os.Stat(filepath.Join(home, l)); !os.IsNotExist(err) {
			t.Errorf("Stat(%s) of an upload a crash left = %v, want not exist", l, err)
		}
	}
}

// TestCommitNotDurableIsAnError: when the directory fsync after the
// rename fails, the upload is in place but a crash could undo it, so
// Commit must not report it stored; the quota still counts the bytes
// that are there.
func TestCommitNotDurableIsAnError(t *testing.T) {
	_, tr := newTree(t, Limits{})
	if err := put(t, tr, "a.txt", 0, "old"); err != nil {
		t.Fatal(err)
	}
	commitFile = func(f *atomicfile.File, ctx context.Context) error {
		if err := f.Commit(ctx); err != nil {
			return err
		}
		return fmt.Errorf("%w: a.txt: fsync .: injected EIO", atomicfile.ErrNotDurable)
	}
	defer func() { commitFile = (*atomicfile.File).Commit }()
	err := put(t, tr, "a.txt", 0, "longer")
	if !errors.Is(err, atomicfile.ErrNotDurable) {
		t.Fatalf("Commit() with a failing directory fsync = %v, want an error wrapping ErrNotDurable", err)
	}
	if got := read(t, tr, "a.txt"); got != "longer" {
		t.Errorf("read(a.txt) after a commit that was not durable = %q, want %q (in place)", got, "longer")
	}
	if got := tr.Used(); got != int64(len("longer")) {
		t.Errorf("Used() = %d, want %d", got, len("longer"))
	}
}

// TestCommitFailureKeepsOldAndQuota: any other failed commit leaves the
// old content and gives back the reserved quota.
func TestCommitFailureKeepsOldAndQuota(t *testing.T) {
	s, tr := newTree(t, Limits{})
	if err := put(t, tr, "a.txt", 0, "old"); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("injected fsync failure")
	commitFile = func(f *atomicfile.File, ctx context.Context) error {
		f.Abort()
		return boom
	}
	defer func() { commitFile = (*atomicfile.File).Commit }()
	if err := put(t, tr, "a.txt", 0, "longer"); !errors.Is(err, boom) {
		t.Fatalf("Commit() with a failing fsync = %v, want %v", err, boom)
	}
	if got := read(t, tr, "a.txt"); got != "old" {
		t.Errorf("read(a.txt) after a failed commit = %q, want %q", got, "old")
	}
	if got := tr.Used(); got != 3 {
		t.Errorf("Used() after a failed commit = %d, want 3", got)
	}
	ents, _ := os.ReadDir(filepath.Join(s.Dir(), homesDir, "alice"))
	for _, e := range ents {
		if isTemp(e.Name()) {
			t.Errorf("ReadDir after a failed commit shows %s, want no temporary file", e.Name())
		}
	}
}

func TestChtimes(t *testing.T) {
	s, tr := newTree(t, Limits{})
	ctx := context.Background()
	want := time.Date(2014, 3, 4, 5, 6, 7, 0, time.UTC)
	if err := tr.Mkdir(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if err := put(t, tr, "d/f.txt", 0, "x"); err != nil {
		t.Fatal(err)
	}
	if err := tr.Chtimes(ctx, "/d/f.txt", want, want); err != nil {
		t.Fatalf("Chtimes(/d/f.txt) = %v, want nil", err)
	}
	if fi, err := tr.Stat(ctx, "d/f.txt"); err != nil || !fi.ModTime().Equal(want) {
		t.Fatalf("Stat(d/f.txt) after Chtimes = %v, %v; want time %v", fi.ModTime(), err, want)
	}
	if err := tr.Chtimes(ctx, "d", want, want); err != nil {
		t.Fatalf("Chtimes(d) of a directory = %v, want nil", err)
	}
	if err := tr.Chtimes(ctx, "missing", want, want); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Chtimes(missing) = %v, want fs.ErrNotExist", err)
	}
	if err := tr.Chtimes(ctx, atomicfile.TempPrefix+"x", want, want); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Chtimes of a temporary name = %v, want fs.ErrPermission", err)
	}
	if err := tr.Chtimes(ctx, "a\x00b", want, want); !errors.Is(err, ErrBadName) {
		t.Errorf("Chtimes of a name with NUL = %v, want ErrBadName", err)
	}

	// A symbolic link out of the tree is not followed.
	outside := filepath.Join(filepath.Dir(s.Dir()), "secret")
	os.WriteFile(outside, []byte("secret"), 0o600)
	before, _ := os.Stat(outside)
	home := tr.root.Name()
	os.Symlink(outside, filepath.Join(home, "abs-link"))
	os.Symlink("../../../secret", filepath.Join(home, "rel-link"))
	for _, name := range []string{"abs-link", "rel-link", "../../secret"} {
		if err := tr.Chtimes(ctx, name, want, want); err == nil {
			t.Errorf("Chtimes(%q) = nil, want an error (outside the tree)", name)
		}
	}
	if after, err := os.Stat(outside); err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("Stat(outside) after Chtimes through links = %v, %v; want time %v unchanged", after.ModTime(), err, before.ModTime())
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := tr.Chtimes(cancelled, "d/f.txt", time.Now(), time.Now()); !errors.Is(err, context.Canceled) {
		t.Errorf("Chtimes with a cancelled context = %v, want context.Canceled", err)
	}

	ro, err := s.Home(ctx, "alice", Limits{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.Chtimes(ctx, "d/f.txt", time.Now(), time.Now()); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Chtimes in a read-only tree = %v, want fs.ErrPermission", err)
	}
	if fi, err := tr.Stat(ctx, "d/f.txt"); err != nil || !fi.ModTime().Equal(want) {
		t.Errorf("Stat(d/f.txt) after refused Chtimes = %v, %v; want time %v", fi.ModTime(), err, want)
	}
}

// TestRenameSyncsDirectories: a rename is reported done only once both
// directories' new names are durable; so are Mkdir, Remove and RemoveDir
// once their parent is.
func TestRenameSyncsDirectories(t *testing.T) {
	_, tr := newTree(t, Limits{})
	if err := tr.Mkdir(context.Background(), "sub"); err != nil {
		t.Fatal(err)
	}
	if err := put(t, tr, "a.txt", 0, "x"); err != nil {
		t.Fatal(err)
	}
	var synced []string
	syncDirIn = func(r *os.Root, dir string) error {
		synced = append(synced, dir)
		return atomicfile.SyncDirIn(r, dir)
	}
	defer func() { syncDirIn = atomicfile.SyncDirIn }()
	if err := tr.Rename(context.Background(), "a.txt", "sub/b.txt"); err != nil {
		t.Fatalf("Rename(a.txt, sub/b.txt) = %v", err)
	}
	if !slices.Equal(synced, []string{".", "sub"}) {
		t.Errorf("Rename(a.txt, sub/b.txt) synced %q, want [. sub]", synced)
	}
	boom := errors.New("injected EIO")
	syncDirIn = func(*os.Root, string) error { return boom }
	ctx := context.Background()
	// In this order, each on what the one before left (the change is
	// made; only its fsync fails).
	for _, tc := range []struct {
		name string
		op   func() error
	}{
		{"Rename", func() error { return tr.Rename(ctx, "sub/b.txt", "c.txt") }},
		{"Remove", func() error { return tr.Remove(ctx, "c.txt") }},
		{"Mkdir", func() error { return tr.Mkdir(ctx, "new") }},
		{"RemoveDir", func() error { return tr.RemoveDir(ctx, "sub") }},
	} {
		if err := tc.op(); !errors.Is(err, boom) {
			t.Errorf("%s with a failing directory fsync = %v, want the fsync's error", tc.name, err)
		}
	}
}
