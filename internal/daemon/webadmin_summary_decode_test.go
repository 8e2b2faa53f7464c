package daemon

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/webadmin"
)

// sampleSummaryLines are lines as encodeLine writes them (with and without
// HTML escaping, which older files have) and a few it does not write.
func sampleSummaryLines() [][]byte {
	when := time.Date(2026, 12, 2, 6, 30, 0, 123456789, time.FixedZone("", 3600))
	s := summary{
		Sum: webadmin.Summary{MessageID: "<a@b>", From: "Ann <ann@example.org>", To: []string{"bob@example.org", "Zoë <z@e>"},
			Cc: []string{}, Subject: "Ünïcode \"quoted\" \\ & <tags>\t", Date: when, Received: when.UTC(), Size: 2048},
		Search:  "ann <ann@example.org> bob needle7 \u2028 text",
		Headers: "x-mailer: plumb\nlist-id: <l.example.org>\n",
	}
	escaped, _ := json.Marshal(summaryLine{"1700000000.M1P2Q3.host", s})
	return [][]byte{
		encodeLine("1700000000.M1P2Q3.host", &s),
		append(escaped, '\n'),
		encodeLine("k2", &summary{Sum: webadmin.Summary{To: []string{}}}),
		[]byte(`{"k":"x","s":{"to":null,"size":-0,"uid":7},"q":"","h":""}`),
		[]byte(`{"K":"case","s":{}}`),                // json matches names in any case
		[]byte(`{"k":"x","s":{"size":1.5}}`),         // not an int64: the line fails
		[]byte(`{"k":"x","s":{"from":null}}`),        // null into a string leaves it
		[]byte(`{"k":"x","s":{"date":"yesterday"}}`), // not a time: the line fails
		[]byte(`{"k":"x","q":"a\ud83d\ude00b","h":"\u00e9"}`),
		[]byte("{\"k\":\"bad \xff utf-8\"}"),
		[]byte(`{"k":"x"} trailing`),
		[]byte(`{"k":"x","k":"y"}`),
		[]byte(`{"k":"cut short","s":{"from":"a`),
		[]byte(`{"k":"esc \n\t\r\b\f\/\\\" \u00e9\u20AC \u0000","h":"a\u12"}`),
		[]byte(`{"k":"lone \ud800 surrogate","h":"bad \x escape"}`),
	}
}

// TestDecodeSummaryLine: every line decodes as json.Unmarshal decodes
// it, and the lines encodeLine writes take the fast path.
func TestDecodeSummaryLine(t *testing.T) {
	for i, line := range sampleSummaryLines() {
		checkSummaryLine(t, line)
		if i < 3 {
			if _, ok := fastSummaryLine(line); !ok {
				t.Errorf("line %d, as encodeLine writes it, missed the fast path: %s", i, line)
			}
		}
	}
}

func checkSummaryLine(t *testing.T, line []byte) {
	t.Helper()
	var want summaryLine
	wantOK := json.Unmarshal(line, &want) == nil
	got, ok := decodeSummaryLine(line)
	if ok != wantOK {
		t.Fatalf("%q: decoded %v, json.Unmarshal %v", line, ok, wantOK)
	}
	if ok && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %#v\nwant %#v", line, got, want)
	}
}

// FuzzDecodeSummaryLine: whatever the line, decodeSummaryLine agrees
// with json.Unmarshal, on whether it decodes and on what it holds.
func FuzzDecodeSummaryLine(f *testing.F) {
	for _, line := range sampleSummaryLines() {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		if len(line) > 4096 {
			return
		}
		checkSummaryLine(t, line)
	})
}
