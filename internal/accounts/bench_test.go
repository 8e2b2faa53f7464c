package accounts

import (
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkAuthenticate measures one login at the production bcrypt cost.
func BenchmarkAuthenticate(b *testing.B) {
	o := fastOpts
	o.Cost = 0 // bcrypt.DefaultCost
	o.Throttle.Failures = -1
	db, err := OpenWith(filepath.Join(b.TempDir(), FileName), o)
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Add("alice", "pw"); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := db.Authenticate(ctx, "alice", "pw", client1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLookup measures the per-call cost of noticing (no) change on
// disk: one stat, with 1,000 accounts loaded.
func BenchmarkLookup(b *testing.B) {
	db, err := OpenWith(filepath.Join(b.TempDir(), FileName), fastOpts)
	if err != nil {
		b.Fatal(err)
	}
	err = db.update(func(users map[string]record) error {
		h, _ := db.hash("pw")
		for i := range 1000 {
			n := fmt.Sprintf("user%d", i)
			users[n] = record{Name: n, Hash: h}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, ok := db.Lookup("user500"); !ok {
			b.Fatal("user500 missing")
		}
	}
}

// BenchmarkAdd measures one atomic rewrite of a 1,000-account file
// (the bcrypt hash included).
func BenchmarkAdd(b *testing.B) {
	db, err := OpenWith(filepath.Join(b.TempDir(), FileName), fastOpts)
	if err != nil {
		b.Fatal(err)
	}
	h, _ := db.hash("pw")
	db.update(func(users map[string]record) error {
		for i := range 1000 {
			n := fmt.Sprintf("user%d", i)
			users[n] = record{Name: n, Hash: h}
		}
		return nil
	})
	i := 0
	for b.Loop() {
		i++
		if err := db.Add(fmt.Sprintf("new%d", i), "pw"); err != nil {
			b.Fatal(err)
		}
	}
}
