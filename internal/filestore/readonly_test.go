package filestore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestHomeIfExists: a missing home is fs.ErrNotExist and is not made;
// an existing one is read-only, and its crash leftovers are not walked
// for (that is Home's counting, for a writer).
func TestHomeIfExists(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "files")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.HomeIfExists(ctx, "carol"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("HomeIfExists(carol) = %v, want fs.ErrNotExist", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "home", "carol")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("HomeIfExists made carol's home (stat: %v)", err)
	}
	if _, err := s.HomeIfExists(ctx, "../anonymous"); !errors.Is(err, ErrBadName) {
		t.Errorf("HomeIfExists(../anonymous) = %v, want ErrBadName", err)
	}
	os.MkdirAll(filepath.Join(dir, "home", "alice"), 0o750)
	os.WriteFile(filepath.Join(dir, "home", "alice", ".plan"), []byte("plan"), 0o644)
	tr, err := s.HomeIfExists(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if got := read(t, tr, ".plan"); got != "plan" {
		t.Errorf(".plan = %q", got)
	}
	if err := tr.Mkdir(ctx, "x"); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Mkdir in HomeIfExists's tree = %v, want fs.ErrPermission", err)
	}
	if len(s.usage) != 0 {
		t.Errorf("HomeIfExists counted usage: %v", s.usage)
	}
}

// TestSubIsItsOwnRoot: a symbolic link in a Sub tree cannot lead to
// the rest of the tree it came from.
func TestSubIsItsOwnRoot(t *testing.T) {
	ctx := context.Background()
	_, tr := newTree(t, Limits{})
	if err := put(t, tr, "private.txt", 0, "secret"); err != nil {
		t.Fatal(err)
	}
	if err := tr.Mkdir(ctx, "pub"); err != nil {
		t.Fatal(err)
	}
	if err := put(t, tr, "pub/a.txt", 0, "a"); err != nil {
		t.Fatal(err)
	}
	if err := tr.root.Symlink("../private.txt", "pub/x"); err != nil {
		t.Skipf("symlink: %v", err)
	}
	if err := tr.root.Symlink("a.txt", "pub/y"); err != nil {
		t.Fatal(err)
	}
	if f, err := tr.Open(ctx, "pub/x"); err != nil {
		t.Fatalf("the link works in the whole tree: %v", err)
	} else {
		f.Close()
	}
	sub, err := tr.Sub(ctx, "pub")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if f, err := sub.Open(ctx, "x"); err == nil {
		f.Close()
		t.Error("Sub(pub).Open(x) followed the link out of pub")
	}
	if got := read(t, sub, "y"); got != "a" {
		t.Errorf("Sub(pub) y = %q, want the link inside to work", got)
	}
	if err := sub.Mkdir(ctx, "d"); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Mkdir in Sub = %v, want fs.ErrPermission", err)
	}
	if _, err := tr.Sub(ctx, "pub/a.txt"); err == nil {
		t.Error("Sub of a file succeeded")
	}
}

// TestReadDirN: at most n entries are read, sorted; 0 reads them all.
func TestReadDirN(t *testing.T) {
	ctx := context.Background()
	s, tr := newTree(t, Limits{})
	home := filepath.Join(s.Dir(), "home", "alice")
	for i := range 600 {
		if err := os.WriteFile(filepath.Join(home, fmt.Sprintf("f%03d", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ n, want int }{{0, 600}, {300, 300}, {1, 1}, {1000, 600}} {
		fis, err := tr.ReadDirN(ctx, ".", tc.n)
		if err != nil || len(fis) != tc.want {
			t.Errorf("ReadDirN(%d) = %d entries, %v; want %d", tc.n, len(fis), err, tc.want)
			continue
		}
		if !slices.IsSortedFunc(fis, func(a, b fs.FileInfo) int { return strings.Compare(a.Name(), b.Name()) }) {
			t.Errorf("ReadDirN(%d) not sorted", tc.n)
		}
	}
	empty, err := tr.ReadDirN(ctx, ".", 0)
	if err != nil || empty == nil {
		t.Errorf("ReadDirN = %v, %v", empty, err)
	}
}
