package accounts

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestVerifierSharesAndRemembersMatches(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("right"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	v := newVerifier()
	var calls atomic.Int32
	v.cmp = func(h, p []byte) error {
		calls.Add(1)
		time.Sleep(50 * time.Millisecond) // a slow hash, so that checks overlap
		return bcrypt.CompareHashAndPassword(h, p)
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if !v.compare(hash, "right") {
				t.Error("compare(right) = false during concurrent checks")
			}
		})
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("50 concurrent checks of one password ran %d bcrypt comparisons, want 1", n)
	}
	if !v.compare(hash, "right") || calls.Load() != 1 {
		t.Errorf("a remembered match ran bcrypt again (%d calls)", calls.Load())
	}
	for i := range 3 {
		if v.compare(hash, "wrong") {
			t.Fatal("compare(wrong) = true")
		}
		if n := calls.Load(); n != int32(2+i) {
			t.Errorf("wrong password check %d: %d bcrypt calls, want %d (failures are never remembered)", i, n, 2+i)
		}
	}
	other, _ := bcrypt.GenerateFromPassword([]byte("right"), bcrypt.MinCost)
	before := calls.Load()
	if !v.compare(other, "right") || calls.Load() != before+1 {
		t.Error("a new hash (changed password) hit an entry of the old one")
	}
	v.now = func() time.Time { return time.Now().Add(verifiedTTL + time.Second) }
	before = calls.Load()
	v.compare(hash, "right")
	if calls.Load() != before+1 {
		t.Error("an expired match was not checked again")
	}
}
