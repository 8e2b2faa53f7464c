package webadmin

import (
	"encoding/json"
	"testing"
	"time"
	"unsafe"
)

func TestSSEFrame(t *testing.T) {
	for _, c := range []struct{ data, want string }{
		{"", "event: k\ndata: \n\n"},
		{"a", "event: k\ndata: a\n\n"},
		{"a\nb", "event: k\ndata: a\ndata: b\n\n"},
		{"a\n", "event: k\ndata: a\ndata: \n\n"},
	} {
		if got := sseFrame("k", c.data); got != c.want {
			t.Errorf("sseFrame(%q) = %q, want %q", c.data, got, c.want)
		}
	}
}

// TestEventFramesOnce: the frame of an event that goes to many streams
// is encoded once; another event gets its own, and the cache stays bounded.
func TestEventFramesOnce(t *testing.T) {
	now := time.Now()
	ev := Event{Kind: "delivery", Time: now, Message: &MessageRef{"alice", "INBOX", 7}}
	a, b := eventFrames.get(ev), eventFrames.get(ev)
	want := `event: delivery` + "\n" + `data: {"kind":"delivery","time":` + string(mustJSON(t, now)) +
		`,"message":{"user":"alice","folder":"INBOX","uid":7}}` + "\n\n"
	if a != want {
		t.Errorf("frame = %q, want %q", a, want)
	}
	if unsafe.StringData(a) != unsafe.StringData(b) {
		t.Errorf("one event was encoded twice")
	}
	other := ev
	other.Message = &MessageRef{"alice", "INBOX", 8}
	if c := eventFrames.get(other); c == a {
		t.Errorf("another message's event got the first one's frame")
	}
	for i := range 2 * maxFrames {
		eventFrames.get(Event{Kind: "post", Group: "g", Number: int64(i)})
	}
	eventFrames.mu.Lock()
	n := len(eventFrames.items)
	eventFrames.mu.Unlock()
	if n > maxFrames {
		t.Errorf("%d frames kept, want at most %d", n, maxFrames)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
