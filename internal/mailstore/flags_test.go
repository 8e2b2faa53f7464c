package mailstore

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAddFlagsCurrentName: AddFlags and RemoveFlags start from the flags
// the file's name has now, also when another program renamed it after
// the store last listed the folder, both when a rename is needed and
// when the wanted flag is already in the name the store remembers.
func TestAddFlagsCurrentName(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	uid := deliver(t, s, "bob", "", "one\n")
	mb, err := s.Mailbox(context.Background(), "bob", "")
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	if _, err := mb.AddFlags(context.Background(), uid, "S"); err != nil {
		t.Fatal(err)
	}
	// Another tool flags it \Flagged and un-\Seens it behind our back.
	rename := func(flags string) {
		t.Helper()
		old := messages(t, s, "bob", "")[0].Path
		// messages rescans: rename after it, so the store's memory is stale.
		base, _, _ := strings.Cut(filepath.Base(old), ":2,")
		if err := os.Rename(old, filepath.Join(filepath.Dir(old), base+":2,"+flags)); err != nil {
			t.Fatal(err)
		}
	}
	rename("F")
	f, err := mb.AddFlags(context.Background(), uid, "S")
	if err != nil || f != "FS" {
		t.Errorf("AddFlags(S) after a foreign rename = %q, %v; want FS", f, err)
	}
	rename("T")
	f, err = mb.RemoveFlags(context.Background(), uid, "S")
	if err != nil || f != "T" {
		t.Errorf("RemoveFlags(S) after a foreign rename = %q, %v; want T", f, err)
	}
	if got := messages(t, s, "bob", "")[0].Flags; got != "T" {
		t.Errorf("flags on disk = %q, want T", got)
	}
}

// TestIsFlags: isFlags tells the letters NewFlags leaves as they are,
// for every string of up to four of some letters and others.
func TestIsFlags(t *testing.T) {
	const alphabet = "ADSZaz@[`{,"
	var try func(s string)
	try = func(s string) {
		if got, want := isFlags(s), string(NewFlags(s)) == s; got != want {
			t.Errorf("isFlags(%q) = %v, want %v", s, got, want)
		}
		if len(s) < 4 {
			for i := range len(alphabet) {
				try(s + alphabet[i:i+1])
			}
		}
	}
	try("")
}
