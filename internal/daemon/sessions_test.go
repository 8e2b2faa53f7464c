package daemon

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"testing/slogtest"
)

// TestLogRingGroups: the console's copy of a record names each
// attribute with the groups open when it was added, nested, and not
// those opened after.
func TestLogRingGroups(t *testing.T) {
	ring := newLogRing(4)
	log := slog.New(ring.tee(slog.NewTextHandler(&bytes.Buffer{}, nil)))
	log.With("a", 1).WithGroup("g").With("b", 2).WithGroup("").WithGroup("h").
		Info("msg", "c", 3, slog.Group("x", "y", 4), slog.Group("empty"), slog.Attr{})
	lines := ring.last(1)
	if len(lines) != 1 {
		t.Fatalf("ring holds %q, want one line", lines)
	}
	got := lines[0][strings.Index(lines[0], "msg"):]
	if want := "msg a=1 g.b=2 g.h.c=3 g.h.x.y=4"; got != want {
		t.Errorf("ring line %q, want %q", got, want)
	}
}

// TestTeeHandler: what passes through the tee to the daemon's own
// handler keeps slog's rules (testing/slogtest).
func TestTeeHandler(t *testing.T) {
	var buf bytes.Buffer
	newHandler := func(*testing.T) slog.Handler {
		buf.Reset()
		return newLogRing(8).tee(slog.NewJSONHandler(&buf, nil))
	}
	result := func(t *testing.T) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
			t.Fatalf("%v: %q", err, buf.String())
		}
		return m
	}
	slogtest.Run(t, newHandler, result)
}

// TestConsoleLogHarmless: the console's log command shows what a client
// put in a logged value without letting it drive the terminal or fake
// a line.
func TestConsoleLogHarmless(t *testing.T) {
	d := New(DefaultConfig(), slog.New(slog.DiscardHandler), io.Discard)
	d.log.Info("login failed", "user", "x\x1b[2J\r\n12:00:00 INFO  fake\u009b1m\xff")
	var out bytes.Buffer
	if err := (&console{d: d}).logLines(&out, nil, nil); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if strings.Count(got, "\n") != 1 || !strings.Contains(got, `user=x^[[2J^M\n12:00:00 INFO  fake\xC2\x9B1m\xFF`) {
		t.Errorf("log shows %q, want one line with the controls escaped", got)
	}
}
