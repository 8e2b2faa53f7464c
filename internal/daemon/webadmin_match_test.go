package daemon

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/mailstore"
	"github.com/plumbnet/plumb/internal/webadmin"
)

// TestMatchAllInParts: a search of a folder large enough to be matched
// a part on each CPU finds exactly the messages one pass would, at the
// parts' edges too, and stops when its context ends.
func TestMatchAllInParts(t *testing.T) {
	const n = 10007 // not a multiple of the parts
	v := &webFolder{sums: newFlatSums(0), loaded: true}
	msgs := make([]mailstore.Message, n)
	for i := range msgs {
		key := fmt.Sprintf("k%05d", i)
		msgs[i] = mailstore.Message{UID: uint32(i + 1), Key: key}
		text := "nothing here"
		if i%7 == 0 || i == n-1 || i == n/2 || i == n/2-1 {
			text = "the needle is here"
		}
		v.keep(key, &summary{Search: text})
	}
	q := lowerQuery(webadmin.Query{Text: "NEEDLE"})
	match, err := v.matchAll(context.Background(), msgs, q)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range msgs {
		want := i%7 == 0 || i == n-1 || i == n/2 || i == n/2-1
		if r, _ := v.sums.get(m.Key); match[i] != want || r.summary().matches(m, q) != want {
			t.Fatalf("message %d: matched %v, want %v", i, match[i], want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := v.matchAll(ctx, msgs, q); err == nil {
		t.Error("a search whose context ended answered")
	}
}

// TestMatchFields: each field of a query matches what it did when the
// summaries were strings: lowercased From, To and Cc joined, Subject,
// header lines, the unseen flag and the received time.
func TestMatchFields(t *testing.T) {
	when := time.Date(2026, 12, 2, 8, 0, 0, 500, time.UTC)
	s := &summary{Sum: webadmin.Summary{From: "Ann <ANN@Example.org>", To: []string{"bob@x.test", "Zoë <z@x.test>"},
		Cc: []string{"CC@x.test"}, Subject: "Quarterly ÉTAT", Received: when, Date: when},
		Search: "ann hello world", Headers: "x-mailer: plumb 1\nlist-id: <l.example.org>\n"}
	m := mailstore.Message{Key: "k", Flags: mailstore.NewFlags("S")}
	for _, c := range []struct {
		q    webadmin.Query
		want bool
	}{
		{webadmin.Query{}, true},
		{webadmin.Query{Text: "Hello"}, true},
		{webadmin.Query{Text: "absent"}, false},
		{webadmin.Query{From: "ann@example"}, true},
		{webadmin.Query{From: "bob"}, false},
		{webadmin.Query{To: "ZOË"}, true},
		{webadmin.Query{To: "x.test>, cc@"}, true}, // across the lists, as they were joined
		{webadmin.Query{To: "x.test, zoë"}, true},
		{webadmin.Query{To: "nobody"}, false},
		{webadmin.Query{Subject: "état"}, true},
		{webadmin.Query{Subject: "etat"}, false},
		{webadmin.Query{Header: map[string]string{"X-Mailer": "PLUMB"}}, true},
		{webadmin.Query{Header: map[string]string{"x-mailer": "list"}}, false},
		{webadmin.Query{Header: map[string]string{"list-id": "example"}}, true},
		{webadmin.Query{Unseen: true}, false},
		{webadmin.Query{Since: when}, true},
		{webadmin.Query{Since: when.Add(time.Nanosecond)}, false},
		{webadmin.Query{Since: when.Add(-time.Hour), Text: "world", From: "ann"}, true},
	} {
		q := lowerQuery(c.q)
		var buf []byte
		rec := encodeRecord("k", s)
		if got := sumRec(rec[recordHead:]).matches(m, newMatchQuery(q), &buf); got != c.want {
			t.Errorf("%+v: record matched %v, want %v", c.q, got, c.want)
		}
		if got := s.matches(m, q); got != c.want {
			t.Errorf("%+v: summary matched %v, want %v", c.q, got, c.want)
		}
	}
	if !hasLower([]byte("ABC"+strings.Repeat("x", 10)), "bcx") || hasLower([]byte("AB"), "abc") || !hasLower(nil, "") {
		t.Error("hasLower")
	}
}
