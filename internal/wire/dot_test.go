package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func dotWrite(t testing.TB, parts ...string) string {
	t.Helper()
	var b bytes.Buffer
	w := NewDotWriter(&b)
	for _, p := range parts {
		if _, err := io.WriteString(w, p); err != nil {
			t.Fatalf("Write(%q) = %v", p, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	return b.String()
}

func TestDotWriter(t *testing.T) {
	for _, tt := range []struct {
		parts []string
		want  string
	}{
		{nil, ".\r\n"},
		{[]string{"a"}, "a\r\n.\r\n"},
		{[]string{"a\r\n"}, "a\r\n.\r\n"},
		{[]string{"a\n"}, "a\r\n.\r\n"},
		{[]string{"a\r"}, "a\r\n.\r\n"},
		{[]string{"a\r", "\nb"}, "a\r\nb\r\n.\r\n"},
		{[]string{"a\rb"}, "a\r\nb\r\n.\r\n"},
		{[]string{".x\n.\n..\n"}, "..x\r\n..\r\n...\r\n.\r\n"},
		{[]string{"a\r\n", ".b"}, "a\r\n..b\r\n.\r\n"},
		{[]string{"a.", "b\n\n.\r\r\n"}, "a.b\r\n\r\n..\r\n\r\n.\r\n"},
	} {
		if got := dotWrite(t, tt.parts...); got != tt.want {
			t.Errorf("dot writing %q = %q, want %q", tt.parts, got, tt.want)
		}
	}
	w := NewDotWriter(io.Discard)
	w.Close()
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("Write after Close = nil, want an error")
	}
}

func TestCRLFWriter(t *testing.T) {
	for in, want := range map[string]string{
		"":             "",
		"a":            "a",
		".a\n.\n":      ".a\r\n.\r\n",
		"a\rb\r":       "a\r\nb\r\n",
		"a\r\nb\n\r\n": "a\r\nb\r\n\r\n",
	} {
		var b bytes.Buffer
		w := NewCRLFWriter(&b)
		io.WriteString(w, in)
		if err := w.Close(); err != nil || b.String() != want {
			t.Errorf("CRLF writing %q = %q, %v; want %q", in, b.String(), err, want)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestDotWriterError(t *testing.T) {
	w := NewDotWriter(bufio.NewWriterSize(failWriter{}, 16))
	_, err := w.Write(bytes.Repeat([]byte("x\n"), 100))
	if err == nil {
		t.Error("Write to a broken connection = nil, want its error")
	}
}

// readDot reads a block from in and returns what it read, the Read
// error, Finish's error and what was left after the block.
func readDot(in string, setup func(*DotReader)) (string, error, error, string) {
	br := bufio.NewReaderSize(strings.NewReader(in), 16)
	d := NewDotReader(br)
	if setup != nil {
		setup(d)
	}
	out, err := io.ReadAll(d)
	ferr := d.Finish()
	rest, _ := io.ReadAll(br)
	return string(out), err, ferr, string(rest)
}

func TestDotReader(t *testing.T) {
	out, err, ferr, rest := readDot("a\r\n..b\r\n.\r\nNOOP\r\n", nil)
	if out != "a\r\n.b\r\n" || err != nil || ferr != nil || rest != "NOOP\r\n" {
		t.Errorf("reading a block = %q, %v, %v, rest %q; want \"a\\r\\n.b\\r\\n\", rest NOOP", out, err, ferr, rest)
	}
	out, err, _, _ = readDot(".\r\n", nil)
	if out != "" || err != nil {
		t.Errorf("reading an empty block = %q, %v; want \"\", nil", out, err)
	}
	_, _, ferr, _ = readDot("a\r\nb", nil)
	if ferr != io.ErrUnexpectedEOF {
		t.Errorf("Finish() of a cut-off block = %v, want io.ErrUnexpectedEOF", ferr)
	}
}

// TestSmuggling: none of the tricks a smuggling attack uses ends the
// block; each fails it, and the real end is found.
func TestSmuggling(t *testing.T) {
	for name, trick := range map[string]string{
		"LF.LF":   "\n.\n",
		"CR.CR":   "\r.\r",
		"LF.CRLF": "\n.\r\n",
		"CRLF.LF": "\r\n.\n",
		"CR.CRLF": "\r.\r\n",
		"CRLF.CR": "\r\n.\r",
		"CR.LF":   "\r.\n",
	} {
		in := "Subject: real\r\n\r\nbody" + trick + "MAIL FROM:<evil@example.org>\r\nDATA\r\nx\r\n.\r\nNOOP\r\n"
		_, err, ferr, rest := readDot(in, nil)
		if !errors.Is(err, ErrBareNewline) || ferr != nil || rest != "NOOP\r\n" {
			t.Errorf("%s: Read error %v, Finish %v, rest %q; want ErrBareNewline, nil, \"NOOP\\r\\n\"", name, err, ferr, rest)
		}
	}
}

func TestDotReaderLimits(t *testing.T) {
	in := strings.Repeat("y\r\n", 10) + ".\r\nNEXT"
	_, err, ferr, rest := readDot(in, func(d *DotReader) { d.MaxSize = 20 })
	if !errors.Is(err, ErrTooLarge) || ferr != nil || rest != "NEXT" {
		t.Errorf("30-byte block with MaxSize 20: %v, %v, rest %q; want ErrTooLarge, nil, NEXT", err, ferr, rest)
	}
	_, err, ferr, rest = readDot("abcdef\r\n.\r\nNEXT", func(d *DotReader) { d.MaxLine = 7 })
	if !errors.Is(err, ErrLineTooLong) || ferr != nil || rest != "NEXT" {
		t.Errorf("8-byte line with MaxLine 7: %v, %v, rest %q; want ErrLineTooLong, nil, NEXT", err, ferr, rest)
	}
	out, err, _, _ := readDot("abcdef\r\n.\r\n", func(d *DotReader) { d.MaxLine = 8; d.MaxSize = 8 })
	if err != nil || out != "abcdef\r\n" {
		t.Errorf("8-byte block at both limits = %q, %v; want it read", out, err)
	}
	big := strings.Repeat("z", 100<<10)
	out, err, _, _ = readDot(big+"\r\n.\r\n", func(d *DotReader) { d.MaxLine, d.MaxSize = -1, -1 })
	if err != nil || len(out) != len(big)+2 {
		t.Errorf("a 100 KiB line with no limits: %d bytes, %v; want it read", len(out), err)
	}
}

type deadlines struct{ set []time.Time }

func (d *deadlines) SetReadDeadline(t time.Time) error { d.set = append(d.set, t); return nil }

func TestDotReaderTimeout(t *testing.T) {
	var dl deadlines
	readDot("a\r\n.\r\n", func(d *DotReader) { d.Conn, d.Timeout = &dl, time.Hour })
	if len(dl.set) == 0 || time.Until(dl.set[0]) < 59*time.Minute {
		t.Errorf("DotReader deadlines = %v, want about an hour ahead", dl.set)
	}
	dl.set = nil
	readDot("a\r\n.\r\n", func(d *DotReader) { d.Conn, d.Timeout = &dl, -1 })
	if len(dl.set) == 0 || !dl.set[0].IsZero() {
		t.Errorf("DotReader deadlines with Timeout -1 = %v, want none (zero time)", dl.set)
	}
}
