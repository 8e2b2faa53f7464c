package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzReader checks ReadLine and DiscardLine against a plain model of
// the rules: what each call returns and how many bytes it consumes.
func FuzzReader(f *testing.F) {
	for _, s := range []string{"a\r\nb\r\n", "a\nb\n", "\r\n\r", "x\ry\r\n", strings.Repeat("z", 40) + "\r\nok\r\n", ""} {
		f.Add(s, uint8(10), false)
		f.Add(s, uint8(3), true)
	}
	f.Fuzz(func(t *testing.T, in string, max8 uint8, lenient bool) {
		max := int(max8%64) + 1
		src := strings.NewReader(in)
		r := NewReader(bufio.NewReaderSize(src, 16))
		r.MaxLine, r.MaxDiscard, r.Lenient = max, 2*max, lenient
		off := 0
		consumed := func() int { return len(in) - src.Len() - r.Buffered() }
		for range len(in) + 2 {
			line, err := r.ReadLine()
			rest := in[off:]
			k := strings.IndexByte(rest, '\n')
			switch {
			case k < 0 && rest == "":
				if err != io.EOF {
					t.Fatalf("ReadLine() at the end = %q, %v; want io.EOF", line, err)
				}
				return
			case k < 0 && len(rest) < max:
				if err != io.ErrUnexpectedEOF {
					t.Fatalf("ReadLine() of unterminated %q = %q, %v; want io.ErrUnexpectedEOF", rest, line, err)
				}
				return
			case k < 0 || k+1 > max:
				if !errors.Is(err, ErrLineTooLong) || consumed()-off != max {
					t.Fatalf("ReadLine() of %q, max %d = %q, %v, consumed %d; want ErrLineTooLong after %d", rest, max, line, err, consumed()-off, max)
				}
				off += max
				derr := r.DiscardLine()
				j := strings.IndexByte(in[off:], '\n')
				switch {
				case j >= 0 && j < 2*max:
					off += j + 1
					if derr != nil {
						t.Fatalf("DiscardLine() before %q = %v, want nil", in[off:], derr)
					}
				case j < 0 && len(in)-off < 2*max:
					if derr != io.ErrUnexpectedEOF {
						t.Fatalf("DiscardLine() of unterminated %q = %v, want io.ErrUnexpectedEOF", in[off:], derr)
					}
					return
				default:
					if !errors.Is(derr, ErrLineTooLong) || consumed()-off != 2*max {
						t.Fatalf("DiscardLine() over the limit = %v, consumed %d; want ErrLineTooLong after %d", derr, consumed()-off, 2*max)
					}
					return
				}
				continue
			}
			raw := rest[:k]
			off += k + 1
			if consumed() != off {
				t.Fatalf("ReadLine() of %q consumed up to %d, want %d", rest, consumed(), off)
			}
			if len(line)+1 > max {
				t.Fatalf("ReadLine() = %q, longer than max %d allows", line, max)
			}
			if lenient {
				if want := strings.TrimSuffix(raw, "\r"); line != want || err != nil {
					t.Fatalf("lenient ReadLine() of %q = %q, %v; want %q", raw, line, err, want)
				}
				continue
			}
			if !strings.HasSuffix(raw, "\r") || strings.Contains(raw[:len(raw)-1], "\r") {
				if !errors.Is(err, ErrBareNewline) {
					t.Fatalf("strict ReadLine() of %q = %q, %v; want ErrBareNewline", raw, line, err)
				}
				continue
			}
			if want := raw[:len(raw)-1]; line != want || err != nil {
				t.Fatalf("strict ReadLine() of %q = %q, %v; want %q", raw, line, err, want)
			}
		}
	})
}

// FuzzDotRoundTrip: whatever is written through NewDotWriter, in
// whatever pieces, a strict DotReader reads back as the same text with
// every line end made CRLF, and stops right at the end marker.
func FuzzDotRoundTrip(f *testing.F) {
	for _, s := range []string{"a\nb\n", "a\r\nb", ".\r\n", "..\n.\n", "\r", "x\r\r\n", "", "\n\n.x", "a\r.\r\n"} {
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, msg string, cut uint8) {
		var wire bytes.Buffer
		w := NewDotWriter(&wire)
		at := int(cut) % (len(msg) + 1)
		io.WriteString(w, msg[:at])
		io.WriteString(w, msg[at:])
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		wire.WriteString("NEXT")
		br := bufio.NewReaderSize(bytes.NewReader(wire.Bytes()), 16)
		d := NewDotReader(br)
		d.MaxLine, d.MaxSize = -1, -1
		back, err := io.ReadAll(d)
		if err != nil {
			t.Fatalf("reading back %q (from %q) = %v", wire.Bytes(), msg, err)
		}
		want := strings.ReplaceAll(msg, "\r\n", "\n")
		want = strings.ReplaceAll(strings.ReplaceAll(want, "\r", "\n"), "\n", "\r\n")
		var crlf bytes.Buffer
		cw := NewCRLFWriter(&crlf)
		io.WriteString(cw, msg[:at])
		io.WriteString(cw, msg[at:])
		if cw.Close(); crlf.String() != want {
			t.Fatalf("CRLF writing %q = %q, want %q", msg, crlf.Bytes(), want)
		}
		if want != "" && !strings.HasSuffix(want, "\r\n") {
			want += "\r\n"
		}
		if string(back) != want {
			t.Fatalf("%q went out as %q and read back as %q, want %q", msg, wire.Bytes(), back, want)
		}
		if rest, _ := io.ReadAll(br); string(rest) != "NEXT" {
			t.Fatalf("after the block %q is left, want NEXT", rest)
		}
	})
}

// FuzzDotReader checks the strict DotReader against a plain model: a
// block ends only at CRLF.CRLF; a bare CR or LF fails it; what comes
// after the end is left for the next command.
func FuzzDotReader(f *testing.F) {
	for _, s := range []string{"a\r\n.\r\n", "a\n.\nb\r\n.\r\n", "..x\r\n.\r\nNOOP\r\n", "\r.\r\r\n.\r\n", ".\r\n", "x"} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, in string, limit uint8) {
		// limit 0: none; otherwise small limits the input may break.
		maxLine, maxSize := -1, int64(-1)
		if limit > 0 {
			maxLine, maxSize = int(limit%16)+1, int64(limit/16)+1
		}
		out, err, ferr, rest := readDot(in, func(d *DotReader) { d.MaxLine, d.MaxSize = maxLine, maxSize })
		// The model: the end is the first "\r\n.\r\n" counting the start
		// as a line beginning.
		end := strings.Index("\r\n"+in, "\r\n.\r\n")
		if end < 0 {
			if ferr == nil {
				t.Fatalf("input %q has no end but Finish() = nil", in)
			}
			return
		}
		if ferr != nil {
			t.Fatalf("Finish() = %v for %q", ferr, in)
		}
		msg, after := in[:end], in[end+3:] // msg keeps its last CRLF
		if rest != after {
			t.Fatalf("left %q after the block, want %q (input %q)", rest, after, in)
		}
		bare := strings.ContainsAny(strings.ReplaceAll(msg, "\r\n", ""), "\r\n")
		if limit > 0 {
			if err != nil && !errors.Is(err, ErrBareNewline) && !errors.Is(err, ErrLineTooLong) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("input %q: reader error %v, want a policy sentinel", in, err)
			}
			if bare && err == nil {
				t.Fatalf("input %q: bare line end passed", in)
			}
			if len(out) > int(maxSize) {
				t.Fatalf("input %q: read %q, over MaxSize %d", in, out, maxSize)
			}
			for _, l := range strings.SplitAfter(out, "\r\n") {
				if len(l) > maxLine {
					t.Fatalf("input %q: read line %q, over MaxLine %d", in, l, maxLine)
				}
			}
			return
		}
		if bare != (err != nil) {
			t.Fatalf("input %q: bare line end %v, reader error %v", in, bare, err)
		}
		if err == nil {
			if want := strings.ReplaceAll("\r\n"+msg, "\r\n.", "\r\n")[2:]; out != want {
				t.Fatalf("read %q, want %q (input %q)", out, want, in)
			}
		}
	})
}

// FuzzDecoder runs a program of decoder calls over a line: it never
// panics, every token follows its grammar and stays within MaxToken,
// the position only moves forward, and the first error is sticky.
func FuzzDecoder(f *testing.F) {
	for _, s := range []string{`A1 LOGIN "a\"b" {5}`, "GROUP a.b 12", `"x`, "{12+}", "  ", "a(b)"} {
		f.Add(s, []byte{0, 1, 0, 1, 4, 1, 6, 7})
	}
	f.Fuzz(func(t *testing.T, line string, prog []byte) {
		d := NewDecoder(line)
		d.MaxToken = 8
		var firstErr error
		left := len(line)
		for _, op := range prog {
			var s string
			var n uint64
			var size int64
			var plus bool
			var ok bool
			switch op % 9 {
			case 0:
				ok = d.Atom(&s)
				if ok && (s == "" || len(s) > 8 || strings.IndexFunc(s, func(r rune) bool { return r > 0x7f || !IsAtomChar(byte(r)) }) >= 0) {
					t.Fatalf("Atom in %q = %q", line, s)
				}
			case 1:
				ok = d.SP()
			case 2:
				ok = d.ExpectSP()
			case 3:
				ok = d.ExpectWord(&s)
				if ok && (s == "" || len(s) > 8 || strings.ContainsAny(s, " \t\r\n\x00")) {
					t.Fatalf("ExpectWord in %q = %q", line, s)
				}
			case 4:
				ok = d.Quoted(&s)
				if ok && (len(s) > 8 || strings.ContainsAny(s, "\r\n\x00")) {
					t.Fatalf("Quoted in %q = %q", line, s)
				}
			case 5:
				ok = d.ExpectNumber(&n)
			case 6:
				ok = d.Literal(&size, &plus)
				if ok && (size < 0 || d.Rest() != "") {
					t.Fatalf("Literal in %q = %d, rest %q", line, size, d.Rest())
				}
			case 7:
				ok = d.End()
				if ok && d.Rest() != "" {
					t.Fatalf("End() true with %q left", d.Rest())
				}
			case 8:
				ok = d.Expect("a ")
			}
			if firstErr != nil && (ok || d.Err() != firstErr) {
				t.Fatalf("after error %v: op %d gave %v, Err() = %v", firstErr, op%9, ok, d.Err())
			}
			if firstErr == nil && d.Err() != nil {
				firstErr = d.Err()
				if !errors.Is(firstErr, ErrSyntax) {
					t.Fatalf("Err() = %v, not an ErrSyntax", firstErr)
				}
			}
			if len(d.Rest()) > left {
				t.Fatalf("the decoder went back: %q left after %q", d.Rest(), line[len(line)-left:])
			}
			left = len(d.Rest())
		}
	})
}

// quote is the encoder Quoted inverts.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// FuzzQuotedRoundTrip: a string without CR, LF and NUL, quoted, decodes
// back to itself, and the decoder stops right after it.
func FuzzQuotedRoundTrip(f *testing.F) {
	for _, s := range []string{"", `a"b`, `\`, `\"`, "ü x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsAny(s, "\r\n\x00") || len(s) > DefaultMaxToken {
			return
		}
		d := NewDecoder(quote(s) + " x")
		var got string
		if !d.ExpectQuoted(&got) || got != s || d.Rest() != " x" {
			t.Fatalf("Quoted(%s) = %q, rest %q, %v; want %q", quote(s), got, d.Rest(), d.Err(), s)
		}
	})
}
