package filestore

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

var cleanSeeds = []string{"", "/", ".", "..", "/a", "a", "/a/b/c.txt", "a/b", "/a/", "//a", "/a//b", "/./a", "/a/.", "/a/..",
	"/../a", "/a/../b", "/a\x00b", "/" + legacyTempPrefix + "x", "/d/.plumb-tmp-1", "/.hidden", "/a/...", "\\a"}

// TestCleanFastAgrees: where cleanFast answers, it answers what the
// general cleanSlow does.
func TestCleanFastAgrees(t *testing.T) {
	for _, name := range cleanSeeds {
		checkClean(t, name)
	}
}

func FuzzCleanFast(f *testing.F) {
	for _, s := range cleanSeeds {
		f.Add(s)
	}
	f.Fuzz(checkClean)
}

func checkClean(t *testing.T, name string) {
	fast, ok := cleanFast(name)
	if !ok {
		return
	}
	slow, err := cleanSlow(name)
	if err != nil || slow != fast {
		t.Errorf("cleanFast(%q) = %q; cleanSlow says %q, %v", name, fast, slow, err)
	}
}

// BenchmarkClean: the clean name every request of a small file has,
// by the fast path and by the general one.
func BenchmarkClean(b *testing.B) {
	const name = "/pub/docs/small.txt"
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := clean(name); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("slow", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := cleanSlow(name); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkTreeStat(b *testing.B) {
	dir := b.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "pub/docs"), 0o750); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pub/docs/small.txt"), []byte("small"), 0o640); err != nil {
		b.Fatal(err)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	tr := &Tree{root: r}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tr.Stat(ctx, "/pub/docs/small.txt"); err != nil {
			b.Fatal(err)
		}
	}
}
