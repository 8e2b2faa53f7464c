package termsafe

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

func TestBytes(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text\n", "plain text\n"},
		{"a\r\nb\r\n", "a\nb\n"},
		{"\x1b[2J\x07bell\rcr", "^[[2J^Gbell^Mcr"},
		{"del\x7f", "del^?"},
		{"csi \xc2\x9b31m", `csi \xC2\x9B31m`},
		{"bad \xff byte", `bad \xFF byte`},
		{"tab\tkept, café ok", "tab\tkept, café ok"},
	} {
		if got := string(Bytes([]byte(tc.in))); got != tc.want {
			t.Errorf("Bytes(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestWriterCutAnywhere: the Writer's output is Bytes of the whole,
// however the text is cut into writes.
func TestWriterCutAnywhere(t *testing.T) {
	in := []byte("line\r\ncafé \xe2\x82\xac \x1b[0m\xc2\x9b end\r")
	want := string(Bytes(in))
	for cut := range len(in) + 1 {
		var out bytes.Buffer
		w := &Writer{W: &out}
		w.Write(in[:cut])
		w.Write(in[cut:])
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Errorf("cut at %d: %q, want %q", cut, out.String(), want)
		}
	}
}

// FuzzBytes: the output is valid UTF-8 without a control character but
// tab and line feed.
func FuzzBytes(f *testing.F) {
	f.Add([]byte("\x1b[31mred\r\n\xc2\x9b"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out := Bytes(b)
		if !utf8.Valid(out) {
			t.Fatalf("Bytes(%q) = %q, not UTF-8", b, out)
		}
		for _, r := range string(out) {
			if r < ' ' && r != '\t' && r != '\n' || r == 0x7f || r >= 0x80 && r < 0xa0 {
				t.Fatalf("Bytes(%q) = %q holds control %U", b, out, r)
			}
		}
	})
}
