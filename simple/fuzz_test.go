package simple

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func FuzzParseQuotes(f *testing.F) {
	f.Add("one\n%\ntwo\n\nthree\n")
	f.Add("\r\n%\r\n\x00\x1b\n" + strings.Repeat("z", 600))
	f.Add("%%\n% \n\t\n")
	f.Fuzz(func(t *testing.T, in string) {
		quotes, _, err := ParseQuotes(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, q := range quotes {
			if q == "" || len(q)+2 > MaxQuote {
				t.Fatalf("quote %q: empty or too long for a reply (%d bytes)", q, len(q))
			}
			for _, line := range strings.Split(q, "\r\n") {
				if line == "" || line == "%" || strings.ContainsAny(line, "\r\n\x00\x1b\x7f") {
					t.Fatalf("quote %q has a blank, separator or control line %q", q, line)
				}
			}
		}
	})
}

func FuzzDecodeTime(f *testing.F) {
	f.Add([]byte{0x83, 0xaa, 0x7e, 0x80})
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := DecodeTime(b)
		if len(b) != 4 {
			if err == nil {
				t.Fatalf("DecodeTime(% x) = %v, want an error for %d bytes", b, got, len(b))
			}
			return
		}
		if err != nil {
			t.Fatalf("DecodeTime(% x) = %v", b, err)
		}
		if enc := EncodeTime(got); !bytes.Equal(enc[:], b) {
			t.Fatalf("EncodeTime(DecodeTime(% x)) = % x", b, enc)
		}
		if got.Year() < 1968 || got.Year() > 2104 {
			t.Fatalf("DecodeTime(% x) = %v, outside 1968..2104", b, got)
		}
		if !got.Equal(got.Truncate(time.Second)) {
			t.Fatalf("DecodeTime(% x) = %v, not whole seconds", b, got)
		}
	})
}

func FuzzChargenOffset(f *testing.F) {
	f.Add([]byte(" !\"#"), 0, 10)
	f.Add([]byte("xyz"), 500, 3000)
	f.Fuzz(func(t *testing.T, b []byte, off, n int) {
		if off >= 0 && n >= 0 && n <= 20000 {
			off %= chargenCycleLen
			piece := chargenStream[off : off+min(n, len(chargenStream)-off)]
			if got := ChargenOffset(piece); got < 0 || !matchChargen(piece, got) {
				t.Fatalf("ChargenOffset(pattern from %d, %d bytes) = %d", off, len(piece), got)
			}
		}
		if len(b) > 2000 {
			return
		}
		got := ChargenOffset(b)
		if got >= 0 && !matchChargen(b, got) {
			t.Fatalf("ChargenOffset(%q) = %d, but the pattern there differs", b, got)
		}
		if got < 0 {
			for _, c := range b {
				if c < ' ' || c > '~' {
					return
				}
			}
		}
	})
}
