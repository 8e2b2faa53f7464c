package interop

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
	"github.com/plumbnet/plumb/nntp"
)

// TestNNTPDaemonFeedsINN: plumb serve with INN as its configured push
// peer (IHAVE only, and streaming) delivers what is posted to it from
// its persistent queue; while INN is shut down the posts wait in the
// queue, and once INN is back every article is there exactly once; so
// too when INN is shut down in the middle of a feed of 300.
func TestNNTPDaemonFeedsINN(t *testing.T) {
	for _, mode := range []struct{ name, prefix string }{{"ihave", "ihave:"}, {"stream", ""}} {
		t.Run(mode.name, func(t *testing.T) {
			inn := startINN(t)
			s := startServe(t, fmt.Sprintf("[nntp]\naddr = \"127.0.0.1:0\"\nhostname = \"plumb.test\"\npush = [%q]\n[nntp.nntps]\naddr = \"127.0.0.1:0\"\n", mode.prefix+inn.addr))
			if _, errs, code := plumbUser(t, s.Data, "alice-password\n", "add", "alice"); code != 0 {
				t.Fatalf("plumb user add alice: exit %d: %s", code, errs)
			}
			if _, errs, code := plumbNews(t, "", "group", "add", "local.test", "--data", s.Data); code != 0 {
				t.Fatalf("plumb news group add: exit %d: %s", code, errs)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
			defer cancel()
			poster, err := nntp.Dial(ctx, s.Addr(t, "nntp"))
			if err != nil {
				t.Fatal(err)
			}
			defer poster.Close()
			if err := poster.Auth(ctx, "alice", "alice-password"); err != nil {
				t.Fatalf("Auth: %v", err)
			}
			const n = 10
			id := func(i int) string { return fmt.Sprintf("<feed-%s-%d@plumb.test>", mode.name, i) }
			post := func(i int) {
				t.Helper()
				art := fmt.Sprintf("From: alice@example.org\r\nNewsgroups: local.test\r\nSubject: feed %d\r\nMessage-ID: %s\r\n\r\nposted at plumb, %d\r\n.dotted line\r\n", i, id(i), i)
				if err := poster.Post(ctx, strings.NewReader(art)); err != nil {
					t.Fatalf("Post %d to plumb: %v", i, err)
				}
			}
			for i := range n / 2 {
				post(i)
			}
			testkit.Eventually(t, 30*time.Second, "INN to get the first half from plumb's feed", func() bool {
				return innCount(inn.addr) == n/2
			})

			// INN goes down; what is posted meanwhile waits in the queue.
			inn.shutdown(t)
			for i := n / 2; i < n; i++ {
				post(i)
			}
			testkit.Eventually(t, 30*time.Second, "plumb's feed to find INN down", func() bool {
				return strings.Contains(s.Stderr(), "feed peer unreachable")
			})
			inn.start(t)
			testkit.Eventually(t, 90*time.Second, fmt.Sprintf("INN to have all %d after it came back", n), func() bool {
				return innCount(inn.addr) >= n
			})

			seen := innIDs(t, inn.addr)
			for i := range n {
				if seen[id(i)] != 1 {
					t.Errorf("INN has %s %d times, want once", id(i), seen[id(i)])
				}
			}
			if len(seen) != n {
				t.Errorf("INN's local.test has %d articles, want %d: %v", len(seen), n, seen)
			}
			r, err := nntp.Dial(ctx, inn.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			r.ModeReader(ctx)
			var buf bytes.Buffer
			if _, _, err := r.Article(ctx, id(n-1), &buf); err != nil {
				t.Fatalf("ARTICLE %s at INN: %v", id(n-1), err)
			}
			if a := buf.String(); !strings.Contains(a, "Path: inn.test!plumb.test!not-for-mail") ||
				!strings.HasSuffix(a, fmt.Sprintf("\r\n\r\nposted at plumb, %d\r\n.dotted line\r\n", n-1)) {
				t.Errorf("article fed to INN = %q", a)
			}

			// INN shut down in the middle of a feed: what it answered
			// is not offered again, what was in flight is, and INN's
			// history refuses any it had taken.
			const m = 300
			feeder, err := nntp.Dial(ctx, s.Addr(t, "nntp"))
			if err != nil {
				t.Fatal(err)
			}
			defer feeder.Close()
			if err := feeder.ModeStream(ctx); err != nil {
				t.Fatalf("MODE STREAM at plumb: %v", err)
			}
			mid := func(i int) string { return fmt.Sprintf("<mid-%s-%d@origin.test>", mode.name, i) }
			fed := make(chan error, 1)
			go func() { // plumb takes the feed while it feeds INN
				for i := range m {
					art := fmt.Sprintf("Path: origin.test!not-for-mail\r\nFrom: o@example.org\r\nNewsgroups: local.test\r\nSubject: mid %d\r\nDate: %s\r\nMessage-ID: %s\r\n\r\nbody %d\r\n",
						i, time.Now().UTC().Format(time.RFC1123Z), mid(i), i)
					if err := feeder.TakeThis(ctx, mid(i), strings.NewReader(art)); err != nil {
						fed <- fmt.Errorf("TakeThis %d to plumb: %w", i, err)
						return
					}
				}
				fed <- nil
			}()
			var had int
			testkit.Eventually(t, 60*time.Second, "INN to get part of the second feed", func() bool {
				had = innCount(inn.addr)
				return had > n
			})
			inn.shutdown(t)
			t.Logf("INN had %d of %d when its shutdown began", had, n+m)
			if had >= n+m {
				t.Fatalf("INN had all %d before it was shut down: the shutdown must come mid-feed", n+m)
			}
			if err := <-fed; err != nil {
				t.Fatal(err)
			}
			inn.start(t)
			testkit.Eventually(t, 90*time.Second, fmt.Sprintf("INN to have all %d after it came back", n+m), func() bool {
				return innCount(inn.addr) >= n+m
			})
			seen = innIDs(t, inn.addr)
			for i := range m {
				if seen[mid(i)] != 1 {
					t.Errorf("INN has %s %d times, want once", mid(i), seen[mid(i)])
				}
			}
			if len(seen) != n+m {
				t.Errorf("INN's local.test has %d articles, want %d", len(seen), n+m)
			}
		})
	}
}

// innIDs counts the Message-IDs in INN's local.test by OVER.
func innIDs(t *testing.T, addr string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := nntp.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.ModeReader(ctx)
	g, err := r.Group(ctx, "local.test")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	if err := r.Over(ctx, fmt.Sprintf("%d-%d", g.Low, g.High), func(o nntp.Overview) error { seen[o.MessageID]++; return nil }); err != nil {
		t.Fatalf("OVER at INN: %v", err)
	}
	return seen
}

// innCount is the number of articles INN's local.test holds by OVER
// (not GROUP's estimate), or -1 when INN does not answer.
func innCount(addr string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := nntp.Dial(ctx, addr)
	if err != nil {
		return -1
	}
	defer c.Close()
	c.ModeReader(ctx)
	g, err := c.Group(ctx, "local.test")
	if err != nil {
		return -1
	}
	if g.Count == 0 {
		return 0
	}
	n := 0
	if err := c.Over(ctx, fmt.Sprintf("%d-%d", g.Low, g.High), func(nntp.Overview) error { n++; return nil }); err != nil {
		return -1
	}
	return n
}
