package accounts

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// guessTest is a DB whose password checks are watched: how many of
// the guesses at alice run at once, and in what order they ran.
type guessTest struct {
	db    *DB
	th    Throttle
	mu    sync.Mutex
	now   int // checks of alice's guesses in flight
	most  int
	order []string // passwords, in the order they were checked
}

func newGuessTest(t *testing.T, th Throttle) *guessTest {
	t.Helper()
	o := fastOpts
	o.Throttle = th
	db, err := OpenWith(filepath.Join(t.TempDir(), FileName), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "bob"} {
		if err := db.Add(u, "right-"+u); err != nil {
			t.Fatal(err)
		}
	}
	g := &guessTest{db: db, th: th.withDefaults()}
	// A stand-in for bcrypt (slow under -race, and what is timed here is
	// the throttle) that takes long enough for overlaps to show.
	db.verified.cmp = func(hash, pw []byte) error {
		match := func() error {
			if p := string(pw); p == "right-alice" || p == "right-bob" {
				return nil
			}
			return bcrypt.ErrMismatchedHashAndPassword
		}
		if string(pw) == "right-bob" {
			return match()
		}
		g.mu.Lock()
		g.now++
		g.most = max(g.most, g.now)
		g.order = append(g.order, string(pw))
		g.mu.Unlock()
		time.Sleep(200 * time.Microsecond)
		g.mu.Lock()
		g.now--
		g.mu.Unlock()
		return match()
	}
	return g
}

func (g *guessTest) checked() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.order)
}

// wantDelay is the wait Throttle documents after n failures.
func (g *guessTest) wantDelay(n int) time.Duration {
	if n < g.th.Failures {
		return 0
	}
	d := g.th.Delay
	for range n - g.th.Failures {
		if d >= g.th.MaxDelay {
			break
		}
		d *= 2
	}
	return min(d, g.th.MaxDelay)
}

// TestThrottleParallelGuesses fires guesses at once from one address,
// the right password among them, starting with no failure counted: the
// checks run one at a time, the whole burst takes at least the sum of
// the delays the throttle promises, and the right password is not
// accepted before its turn. Meanwhile another address logs in at once.
func TestThrottleParallelGuesses(t *testing.T) {
	th := Throttle{Failures: 3, Delay: 2 * time.Millisecond, MaxDelay: 6 * time.Millisecond, Window: time.Minute}
	for _, tc := range []struct {
		name     string
		attempts int
		from     func(i int) net.Addr
		other    net.Addr
	}{
		{"IPv4", 100, func(int) net.Addr { return client1 }, client2},
		{"IPv6 /64", 30, func(i int) net.Addr {
			return &net.TCPAddr{IP: net.ParseIP(fmt.Sprintf("2001:db8:1:2::%x", i+1)), Port: 4000 + i}
		}, &net.TCPAddr{IP: net.ParseIP("2001:db8:1:3::1"), Port: 4000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGuessTest(t, th)
			const right = "right-alice"
			rightAt := tc.attempts / 2
			errs := make([]error, tc.attempts)
			var start time.Time // set before the gate opens
			var rightDone time.Duration
			gate := make(chan struct{})
			var wg sync.WaitGroup
			for i := range tc.attempts {
				pw := fmt.Sprintf("guess-%d", i)
				if i == rightAt {
					pw = right
				}
				wg.Go(func() {
					<-gate
					_, errs[i] = g.db.Authenticate(ctx, "alice", pw, tc.from(i))
					if i == rightAt {
						rightDone = time.Since(start)
					}
				})
			}
			start = time.Now()
			close(gate)

			// Another address, while the burst is throttled, is not slowed.
			deadline := time.Now().Add(10 * time.Second)
			for g.checked() < 10 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			t2 := time.Now()
			_, err := g.db.Authenticate(ctx, "bob", "right-bob", tc.other)
			d2, checkedBy := time.Since(t2), g.checked()
			if err != nil || d2 > 100*time.Millisecond || checkedBy >= tc.attempts {
				t.Errorf("Authenticate(bob, right, %v) during the burst = %v after %v with %d of %d guesses checked; want nil within 100ms, before the burst ends",
					tc.other, err, d2, checkedBy, tc.attempts)
			}

			wg.Wait()
			elapsed := time.Since(start)
			if g.most != 1 {
				t.Errorf("%d guesses at once from one address: up to %d checked at the same time, want 1", tc.attempts, g.most)
			}
			if len(g.order) != tc.attempts {
				t.Fatalf("%d guesses made %d checks, want %d", tc.attempts, len(g.order), tc.attempts)
			}
			var want, wantRight time.Duration
			n := 0
			for _, pw := range g.order {
				want += g.wantDelay(n)
				if pw == right {
					wantRight = want
				} else {
					n++
				}
			}
			if elapsed < want {
				t.Errorf("%d guesses at once took %v, want at least the sum of their delays, %v", tc.attempts, elapsed, want)
			}
			if errs[rightAt] != nil || rightDone < wantRight {
				t.Errorf("Authenticate(alice, right) among the guesses = %v after %v, want success not before %v", errs[rightAt], rightDone, wantRight)
			}
			for i, err := range errs {
				if i != rightAt && !errors.Is(err, ErrAuthFailed) {
					t.Errorf("guess %d = %v, want ErrAuthFailed", i, err)
				}
			}
		})
	}
}

// TestThrottleTurnCancel: an attempt whose context ends while it waits
// for its turn gives up without taking one, and the table forgets an
// address with no failures once its attempts are done.
func TestThrottleTurnCancel(t *testing.T) {
	f := newFailures(Throttle{}.withDefaults())
	end, err := f.begin(ctx, "k")
	if err != nil {
		t.Fatalf("begin(k) = %v", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := f.begin(cctx, "k"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("begin(k) while another attempt has the turn, ctx expiring = %v, want DeadlineExceeded", err)
	}
	if endOther, err := f.begin(ctx, "other"); err != nil {
		t.Errorf("begin(other) while k has the turn = %v, want nil", err)
	} else {
		endOther(false)
	}
	end(false)
	end2, err := f.begin(ctx, "k")
	if err != nil {
		t.Fatalf("begin(k) after the turn ended = %v", err)
	}
	end2(false)
	if _, ok := f.m["k"]; ok {
		t.Errorf("failure table still holds k after its attempts succeeded, want it forgotten")
	}
}
