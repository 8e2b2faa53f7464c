package mta

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/atomicfile"
)

// queueFiles returns the names in the queue directory by suffix.
func queueFiles(t *testing.T, dir string) map[string]int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, e := range ents {
		n[filepath.Ext(e.Name())]++
	}
	return n
}

func TestHoldReleaseDiscard(t *testing.T) {
	dir := t.TempDir()
	q := openTestQueue(t, dir, &fakeLocal{}, "", time.Hour) // not started: nothing leaves
	env := Envelope{From: "a@local.test", Rcpts: []string{"x@far.test"}}

	// Held, then discarded: nothing queued, nothing left.
	s, err := q.Spool(strings.NewReader("m1\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Hold(s, env); err != nil {
		t.Fatalf("Hold() = %v, want nil", err)
	}
	if got := queueFiles(t, dir); got[".held"] != 1 || got[".env"] != 0 || q.Len() != 0 {
		t.Fatalf("queue after Hold = %v, Len %d; want one .held, no .env, Len 0", got, q.Len())
	}
	if err := q.Release(&Spool{id: "nope"}); err == nil {
		t.Errorf("Release() of a spool never held = nil, want an error")
	}
	s.Discard()
	if got := queueFiles(t, dir); len(got) != 0 {
		t.Fatalf("queue directory after Hold and Discard = %v, want empty", got)
	}

	// Held, then released: queued once, and Discard no longer removes it.
	s, _ = q.Spool(strings.NewReader("m2\r\n"))
	if err := q.Hold(s, env); err != nil {
		t.Fatalf("Hold() = %v, want nil", err)
	}
	if err := q.Commit(s, env); err == nil {
		t.Errorf("Commit() of a held message = nil, want an error")
	}
	if err := q.Release(s); err != nil {
		t.Fatalf("Release() = %v, want nil", err)
	}
	s.Discard()
	if got := queueFiles(t, dir); got[".env"] != 1 || got[".msg"] != 1 || got[".held"] != 0 || q.Len() != 1 {
		t.Fatalf("queue after Release = %v, Len %d; want one .env and .msg, Len 1", got, q.Len())
	}
	if err := q.Release(s); err == nil {
		t.Errorf("second Release() = nil, want an error")
	}
}

// TestHeldDroppedOnOpen: a message held when the process died was never
// acknowledged, so reopening the queue drops it (and an envelope write
// a crash cut short), and keeps what was released.
func TestHeldDroppedOnOpen(t *testing.T) {
	dir := t.TempDir()
	q := openTestQueue(t, dir, &fakeLocal{}, "", time.Hour)
	env := Envelope{From: "a@local.test", Rcpts: []string{"x@far.test"}}
	held, _ := q.Spool(strings.NewReader("held\r\n"))
	if err := q.Hold(held, env); err != nil {
		t.Fatal(err)
	}
	released, _ := q.Spool(strings.NewReader("released\r\n"))
	if err := q.Hold(released, env); err != nil {
		t.Fatal(err)
	}
	if err := q.Release(released); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, atomicfile.TempPrefix+"cut"), []byte("{"), 0o600)

	q2 := openTestQueue(t, dir, &fakeLocal{}, "", time.Hour)
	if q2.Len() != 1 {
		t.Errorf("reopened queue Len() = %d, want 1 (the released message only)", q2.Len())
	}
	if got := queueFiles(t, dir); got[".held"] != 0 || got[".env"] != 1 || got[".msg"] != 1 || len(got) != 2 {
		t.Errorf("queue directory after reopening = %v, want one .env and its .msg", got)
	}
	if _, err := os.Stat(released.Path()); err != nil {
		t.Errorf("Stat(%s) of the released message = %v, want it kept", released.Path(), err)
	}
}
