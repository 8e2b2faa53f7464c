package interop

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
	"github.com/plumbnet/plumb/nntp"
)

func peerConfig(host string, port int, push ...string) string {
	c := fmt.Sprintf("[nntp]\naddr = \"127.0.0.1:%d\"\nhostname = %q\n", port, host)
	if len(push) > 0 {
		c += fmt.Sprintf("push = [\"%s\"]\n", strings.Join(push, "\", \""))
	}
	return c + "[nntp.nntps]\naddr = \"127.0.0.1:0\"\n"
}

func groupCount(t *testing.T, addr, group string) int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := nntp.Dial(ctx, addr)
	if err != nil {
		return -1
	}
	defer c.Close()
	g, err := c.Group(ctx, group)
	if err != nil {
		return -1
	}
	return g.Count
}

// TestNNTPPeeringSurvivesSIGKILL: A streams every article to B and
// feeds C by IHAVE. A is killed with SIGKILL mid-feed and restarted on
// its data; B and C end with every article exactly once.
func TestNNTPPeeringSurvivesSIGKILL(t *testing.T) {
	const n = 300
	portA, portB, portC := freePort(t), freePort(t), freePort(t)
	addrA, addrB, addrC := fmt.Sprintf("127.0.0.1:%d", portA), fmt.Sprintf("127.0.0.1:%d", portB), fmt.Sprintf("127.0.0.1:%d", portC)
	dataA, dataB, dataC := t.TempDir(), t.TempDir(), t.TempDir()
	for _, d := range []string{dataA, dataB, dataC} {
		if _, errs, code := plumbNews(t, "", "group", "add", "peer.test", "--data", d); code != 0 {
			t.Fatalf("group add: %s", errs)
		}
	}
	startServeData(t, dataB, peerConfig("b.test", portB))
	startServeData(t, dataC, peerConfig("c.test", portC))
	a := startServeData(t, dataA, peerConfig("a.test", portA, addrB, "ihave:"+addrC))
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	// Feed A from loopback (feed_from): n articles, each acknowledged.
	c, err := nntp.Dial(ctx, addrA)
	if err != nil {
		t.Fatal(err)
	}
	c.ModeStream(ctx)
	for i := range n {
		id := fmt.Sprintf("<p%d@origin.test>", i)
		art := fmt.Sprintf("Path: origin.test!not-for-mail\r\nFrom: o@example.org\r\nNewsgroups: peer.test\r\nSubject: %d\r\nDate: %s\r\nMessage-ID: %s\r\n\r\nbody %d\r\n",
			i, time.Now().UTC().Format(time.RFC1123Z), id, i)
		if err := c.TakeThis(ctx, id, strings.NewReader(art)); err != nil {
			t.Fatalf("TakeThis to A: %v", err)
		}
	}
	c.Close()
	// Kill A while B has some but not all.
	var mid int64
	testkit.Eventually(t, 60*time.Second, "B to get part of the feed", func() bool {
		mid = groupCount(t, addrB, "peer.test")
		return mid > 0
	})
	a.Kill()
	t.Logf("A killed when B had %d of %d", mid, n)
	if mid <= 0 || mid >= n {
		t.Fatalf("B had %d of %d when A was killed: the kill must come mid-feed to test recovery", mid, n)
	}
	startServeData(t, dataA, peerConfig("a.test", portA, addrB, "ihave:"+addrC))
	testkit.Eventually(t, 90*time.Second, fmt.Sprintf("B and C to have all %d", n), func() bool {
		return groupCount(t, addrB, "peer.test") >= n && groupCount(t, addrC, "peer.test") >= n
	})
	if nums := groupCount(t, addrC, "peer.test"); nums != n {
		t.Errorf("C (fed by IHAVE) has %d articles, want %d", nums, n)
	}
	cb, err := nntp.Dial(ctx, addrB)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	nums, err := cb.ListGroup(ctx, "peer.test", "")
	if err != nil || len(nums) != n {
		t.Fatalf("B's LISTGROUP = %d numbers, %v; want %d (no duplicate)", len(nums), err, n)
	}
	seen := map[string]bool{}
	cb.Over(ctx, "1-", func(o nntp.Overview) error {
		if seen[o.MessageID] {
			t.Errorf("B has %s twice", o.MessageID)
		}
		seen[o.MessageID] = true
		return nil
	})
	for i := range n {
		if id := fmt.Sprintf("<p%d@origin.test>", i); !seen[id] {
			t.Errorf("B lacks %s", id)
		}
	}
	// The feed went through A: B's copy names both in its Path.
	var buf strings.Builder
	if _, _, err := cb.Head(ctx, "<p0@origin.test>", &buf); err != nil || !strings.Contains(buf.String(), "Path: b.test!a.test!origin.test") {
		t.Errorf("B's <p0> header = %q, %v", buf.String(), err)
	}

	// A pull peer takes the same articles from B by NEWNEWS and ARTICLE.
	dataP := t.TempDir()
	plumbNews(t, "", "group", "add", "peer.test", "--data", dataP)
	portP := freePort(t)
	addrP := fmt.Sprintf("127.0.0.1:%d", portP)
	startServeData(t, dataP, fmt.Sprintf("[nntp]\naddr = %q\nhostname = \"p.test\"\npull = [%q]\npull_every = \"200ms\"\n[nntp.nntps]\naddr = \"127.0.0.1:0\"\n", addrP, addrB))
	testkit.Eventually(t, 60*time.Second, fmt.Sprintf("the pull peer to have all %d", n), func() bool {
		return groupCount(t, addrP, "peer.test") >= n
	})
	cp, err := nntp.Dial(ctx, addrP)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if nums, err := cp.ListGroup(ctx, "peer.test", ""); err != nil || len(nums) != n {
		t.Errorf("pull peer's LISTGROUP = %d, %v; want %d", len(nums), err, n)
	}
	buf.Reset()
	if _, _, err := cp.Head(ctx, "<p1@origin.test>", &buf); err != nil || !strings.Contains(buf.String(), "Path: p.test!b.test!a.test!origin.test") {
		t.Errorf("pulled <p1> header = %q, %v", buf.String(), err)
	}
}

// TestNNTPPeeringReceiverKilled: B, the receiver, is killed with
// SIGKILL while A streams to it, and restarted on its data; A's feed
// resumes from its cursor and B ends with every article exactly once.
func TestNNTPPeeringReceiverKilled(t *testing.T) {
	const n = 300
	portA, portB := freePort(t), freePort(t)
	addrA, addrB := fmt.Sprintf("127.0.0.1:%d", portA), fmt.Sprintf("127.0.0.1:%d", portB)
	dataA, dataB := t.TempDir(), t.TempDir()
	for _, d := range []string{dataA, dataB} {
		if _, errs, code := plumbNews(t, "", "group", "add", "peer.test", "--data", d); code != 0 {
			t.Fatalf("group add: %s", errs)
		}
	}
	b := startServeData(t, dataB, peerConfig("b.test", portB))
	startServeData(t, dataA, peerConfig("a.test", portA, addrB))
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	c, err := nntp.Dial(ctx, addrA)
	if err != nil {
		t.Fatal(err)
	}
	c.ModeStream(ctx)
	for i := range n {
		id := fmt.Sprintf("<r%d@origin.test>", i)
		art := fmt.Sprintf("Path: origin.test!not-for-mail\r\nFrom: o@example.org\r\nNewsgroups: peer.test\r\nSubject: %d\r\nDate: %s\r\nMessage-ID: %s\r\n\r\nbody %d\r\n",
			i, time.Now().UTC().Format(time.RFC1123Z), id, i)
		if err := c.TakeThis(ctx, id, strings.NewReader(art)); err != nil {
			t.Fatalf("TakeThis to A: %v", err)
		}
	}
	c.Close()
	var mid int64
	testkit.Eventually(t, 60*time.Second, "B to get part of the feed", func() bool {
		mid = groupCount(t, addrB, "peer.test")
		return mid > 0
	})
	b.Kill()
	if mid >= n {
		t.Fatalf("B had all %d before it was killed: the kill must come mid-feed", n)
	}
	t.Logf("B killed when it had %d of %d", mid, n)
	startServeData(t, dataB, peerConfig("b.test", portB))
	testkit.Eventually(t, 90*time.Second, fmt.Sprintf("B to have all %d", n), func() bool {
		return groupCount(t, addrB, "peer.test") >= n
	})
	cb, err := nntp.Dial(ctx, addrB)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	if nums, err := cb.ListGroup(ctx, "peer.test", ""); err != nil || len(nums) != n {
		t.Fatalf("B's LISTGROUP = %d numbers, %v; want %d (no duplicate, none lost)", len(nums), err, n)
	}
}
