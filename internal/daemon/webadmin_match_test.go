package daemon

import (
	"context"
	"fmt"
	"testing"

	"github.com/plumbnet/plumb/internal/mailstore"
	"github.com/plumbnet/plumb/internal/webadmin"
)

// TestMatchAllInParts: a search of a folder large enough to be matched
// a part on each CPU finds exactly the messages one pass would, at the
// parts' edges too, and stops when its context ends.
func TestMatchAllInParts(t *testing.T) {
	const n = 10007 // not a multiple of the parts
	v := &webFolder{byKey: map[string]*summary{}}
	msgs := make([]mailstore.Message, n)
	for i := range msgs {
		key := fmt.Sprintf("k%05d", i)
		msgs[i] = mailstore.Message{UID: uint32(i + 1), Key: key}
		text := "nothing here"
		if i%7 == 0 || i == n-1 || i == n/2 || i == n/2-1 {
			text = "the needle is here"
		}
		v.byKey[key] = &summary{Search: text}
	}
	q := lowerQuery(webadmin.Query{Text: "NEEDLE"})
	match, err := v.matchAll(context.Background(), msgs, q)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range msgs {
		if want := v.byKey[m.Key].matches(m, q); match[i] != want {
			t.Fatalf("message %d: matched %v, want %v", i, match[i], want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := v.matchAll(ctx, msgs, q); err == nil {
		t.Error("a search whose context ended answered")
	}
}
