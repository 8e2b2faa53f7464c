package finger

import (
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzParseQuery: a query that parses prints as a line that parses back
// to the same query and is one a client may send; one that does not
// parse is refused with ErrBadQuery.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"", "/W", "/w alice", "alice", "alice@host", "@a@b", "/W  bob@x ", "a b", "/X", "a\x00", "@", "u@@h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		q, err := ParseQuery(line)
		if err != nil {
			if !errors.Is(err, ErrBadQuery) {
				t.Fatalf("ParseQuery(%q) = %v, want an ErrBadQuery", line, err)
			}
			return
		}
		if err := q.Check(); err != nil {
			t.Fatalf("ParseQuery(%q) = %+v, which Check refuses: %v", line, q, err)
		}
		again, err := ParseQuery(q.String())
		if err != nil || !reflect.DeepEqual(again, q) {
			t.Fatalf("ParseQuery(%q) = %+v; printed %q parses to %+v, %v", line, q, q.String(), again, err)
		}
	})
}

// FuzzHarmless: the output is valid UTF-8 with no control character
// but tab and LF, and text with none to begin with passes unchanged.
func FuzzHarmless(f *testing.F) {
	for _, s := range []string{"", "a\r\nb", "\x1b[2J", "\xc2\x9b", "\xff\xfe", "日本"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out := Harmless(b)
		if !utf8.Valid(out) {
			t.Fatalf("Harmless(%q) = %q, not UTF-8", b, out)
		}
		clean := utf8.Valid(b)
		for _, r := range string(out) {
			if (r < 0x20 && r != '\t' && r != '\n') || (r >= 0x7f && r < 0xa0) {
				t.Fatalf("Harmless(%q) = %q holds control %U", b, out, r)
			}
		}
		for _, r := range string(b) {
			if (r < 0x20 && r != '\t' && r != '\n') || (r >= 0x7f && r < 0xa0) {
				clean = false
			}
		}
		if clean && string(out) != string(b) {
			t.Fatalf("Harmless(%q) = %q, want it unchanged", b, out)
		}
	})
}
