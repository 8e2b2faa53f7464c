package daemon

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"hash/maphash"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/mailstore"
	"github.com/plumbnet/plumb/internal/webadmin"
)

// sampleSummaries are summaries as summarize makes them, and edges.
func sampleSummaries() []summary {
	when := time.Date(2026, 12, 2, 6, 30, 0, 123456789, time.FixedZone("", 3600))
	return []summary{
		{Sum: webadmin.Summary{MessageID: "a@b", From: "Ann <ann@example.org>", To: []string{"bob@example.org", "Zoë <z@e>"},
			Cc: []string{"c@d"}, Subject: "Ünïcode \"quoted\" \\ & <tags>\t", Date: when, Received: when.UTC(), Size: 2048},
			Search:  "ann <ann@example.org> bob needle7 \u2028 text",
			Headers: "x-mailer: plumb\nlist-id: <l.example.org>\n"},
		{Sum: webadmin.Summary{To: []string{}}},
		{Sum: webadmin.Summary{To: []string{""}, Date: time.Unix(-1, 5).In(time.FixedZone("", -12*3600)), Received: time.Unix(1<<31, 0).UTC()},
			Search: "\xff not utf-8"},
	}
}

// TestSummaryRecord: a summary's record gives it back (a time as the
// same instant in the same offset), and gives the same record again.
func TestSummaryRecord(t *testing.T) {
	for i, s := range sampleSummaries() {
		rec := encodeRecord(fmt.Sprintf("key%d", i), &s)
		r, n, ok := parseRecord(append(rec, "next"...))
		if !ok || n != len(rec) || string(r.key()) != fmt.Sprintf("key%d", i) {
			t.Fatalf("summary %d: parsed %v, %d of %d bytes", i, ok, n, len(rec))
		}
		got := r.summary()
		if got.Sum.From != s.Sum.From || got.Sum.Subject != s.Sum.Subject || got.Sum.MessageID != s.Sum.MessageID ||
			got.Search != s.Search || got.Headers != s.Headers || got.Sum.Size != s.Sum.Size ||
			fmt.Sprint(got.Sum.To, got.Sum.Cc) != fmt.Sprint(s.Sum.To, s.Sum.Cc) || got.Sum.To == nil {
			t.Errorf("summary %d: got %+v, want %+v", i, got, s)
		}
		for _, p := range [][2]time.Time{{got.Sum.Date, s.Sum.Date}, {got.Sum.Received, s.Sum.Received}} {
			_, o1 := p[0].Zone()
			_, o2 := p[1].Zone()
			if !p[0].Equal(p[1]) || o1 != o2 || p[0].Format(time.RFC3339Nano) != p[1].Format(time.RFC3339Nano) {
				t.Errorf("summary %d: time %v, want %v", i, p[0], p[1])
			}
		}
		if again := encodeRecord(string(r.key()), got); !bytes.Equal(again, rec) {
			t.Errorf("summary %d: encoded again differs", i)
		}
	}
}

// TestSummaryRecordLimits: a record past a bound is not made, and one
// that says it is is refused.
func TestSummaryRecordLimits(t *testing.T) {
	for name, s := range map[string]summary{
		"long":      {Search: strings.Repeat("x", recordMax)},
		"addresses": {Sum: webadmin.Summary{To: make([]string, recordAddrMax+1)}},
		"zone":      {Sum: webadmin.Summary{Date: time.Unix(0, 0).In(time.FixedZone("", recordZoneMax+1))}},
	} {
		if rec := encodeRecord("k", &s); rec != nil {
			t.Errorf("%s: a record of %d bytes was made", name, len(rec))
		}
		if rec, _ := recordOf(nil, "k", &s); len(rec) > 0 {
			if _, _, ok := parseRecord(rec); ok {
				t.Errorf("%s: parseRecord took a record past the bounds", name)
			}
		}
	}
	if rec := encodeRecord("", &summary{}); rec != nil {
		t.Error("a record without a key was made")
	}
	if rec := encodeRecord(strings.Repeat("k", recordKeyMax+1), &summary{}); rec != nil {
		t.Error("a record with a long key was made")
	}
}

// FuzzSummaryRecord: parseRecord never panics, and a record it takes
// is one appendRecord makes of what it holds, byte for byte; matching
// it never panics either. The input is a record's body, given its head
// (and also parsed as it is, head and all).
func FuzzSummaryRecord(f *testing.F) {
	for i, s := range sampleSummaries() {
		rec := encodeRecord(fmt.Sprint("k", i), &s)
		f.Add(rec[recordHead:])
		f.Add(rec[recordHead : len(rec)-1])
	}
	q := newMatchQuery(lowerQuery(webadmin.Query{Text: "x", To: "b, z", From: "a", Header: map[string]string{"x-mailer": "p"}, Since: time.Unix(5, 0)}))
	f.Fuzz(func(t *testing.T, body []byte) {
		parseRecord(body)
		file := append([]byte(summaryMagic), body...)
		if _, n := walkSummaries(file, nil); countRecords(file) < n {
			t.Fatalf("%d records counted, %d walked", countRecords(file), n)
		}
		head := binary.LittleEndian.AppendUint32(nil, uint32(len(body)))
		head = binary.LittleEndian.AppendUint32(head, crc32.Checksum(body, castagnoli))
		b := append(head, body...)
		r, n, ok := parseRecord(b)
		if !ok {
			return
		}
		if n != len(b) {
			t.Fatalf("took %d bytes of a record of %d", n, len(b))
		}
		if again := encodeRecord(string(r.key()), r.summary()); !bytes.Equal(again, b) {
			t.Fatalf("record %x\nencoded again %x", b, again)
		}
		var buf []byte
		r.matches(mailstore.Message{Key: "k"}, q, &buf)
		if _, _, ok := parseRecord(corrupt(b, len(b)-1)); ok {
			t.Fatal("a record whose last byte changed was taken")
		}
	})
}

// BenchmarkSummaryLoad: a restart's load of a folder's 100,000 summaries.
func BenchmarkSummaryLoad(b *testing.B) {
	path := filepath.Join(b.TempDir(), "s.sum")
	v := &webFolder{sums: newFlatSums(0), path: path, loaded: true, end: -1}
	when := time.Now()
	for i := range 100000 {
		s := &summary{Sum: webadmin.Summary{From: fmt.Sprintf("sender%d@example.org", i), To: []string{"bench@localhost"},
			Subject: fmt.Sprintf("message %d", i), Date: when, Received: when, Size: 2048},
			Search:  strings.Repeat("lorem ipsum ", 45),
			Headers: "message-id: <x@example.org>\ndate: mon, 1 dec 2026 10:00:00 +0000\n"}
		v.keep(fmt.Sprintf("%d.M%dP1Q%d.bench", 1700000000+i, i, i), s)
	}
	v.flush()
	fi, _ := os.Stat(path)
	b.ReportMetric(float64(fi.Size())/1e6, "MB")
	b.ResetTimer()
	for b.Loop() {
		w := &webFolder{sums: newFlatSums(0), path: path, end: -1}
		w.load()
		if w.sums.len() != 100000 {
			b.Fatalf("%d summaries loaded", w.sums.len())
		}
	}
}

// TestSummaryRefAfter: a listing's places found record after record
// are those a lookup of each key finds, in order or not, across chunks,
// with a key missing, and once a record is dead (a key kept again) the
// lookups are made instead.
func TestSummaryRefAfter(t *testing.T) {
	f := newFlatSums(0)
	var keys []string
	for i := range 12 { // 300 KB records: a few to a chunk
		k := fmt.Sprint("k", i)
		keys = append(keys, k)
		f.add(encodeRecord(k, &summary{Search: strings.Repeat("x", 300<<10)}))
	}
	if len(f.chunks) < 3 {
		t.Fatalf("%d chunks; want records in several", len(f.chunks))
	}
	places := func(keys []string) []uint64 {
		var out []uint64
		prev := noRef
		for _, k := range keys {
			prev = f.refAfter(prev, k)
			out = append(out, prev)
		}
		return out
	}
	check := func(what string, keys []string) {
		t.Helper()
		for i, ref := range places(keys) {
			if want := f.ref(keys[i]); ref != want {
				t.Errorf("%s: %s at %x; a lookup finds %x", what, keys[i], ref, want)
			}
		}
	}
	check("in order", keys)
	reversed := slices.Clone(keys)
	slices.Reverse(reversed)
	check("reversed", reversed)
	check("one missing", append(slices.Clone(keys[:5]), append([]string{"gone"}, keys[5:]...)...))

	// In order, a chunk's records after its first are not looked up.
	in := places(keys)
	saved := maps.Clone(f.index)
	for _, k := range keys[1:3] {
		delete(f.index, maphash.String(f.seed, k))
	}
	if got := places(keys[:3]); got[1] != in[1] || got[2] != in[2] {
		t.Errorf("records after the first were looked up: %x, want %x", got, in[:3])
	}
	f.index = saved

	// k4 kept again: its first record is dead, and must not be found.
	f.add(encodeRecord("k4", &summary{Search: "again"}))
	if f.dead == 0 {
		t.Fatal("no dead record")
	}
	check("with a dead record", keys)
	if got := places(keys)[4]; f.at(got).summary().Search != "again" {
		t.Errorf("k4's place holds its dead record")
	}
}
