package smtp

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
)

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"EHLO x", "MAIL FROM:<a@b.c> SIZE=10", "rcpt to:<x@y>", "", "\x00", "DATA", "AUTH PLAIN =", strings.Repeat("A", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		verb, arg, err := parseCommand(line)
		if err != nil {
			return
		}
		if verb != strings.ToUpper(verb) || len(verb) > 16 || strings.ContainsAny(verb+arg, "\r\n\x00") {
			t.Errorf("parseCommand(%q) = %q, %q", line, verb, arg)
		}
	})
}

func FuzzParsePathArg(f *testing.F) {
	for _, s := range []string{"FROM:<a@b.c>", "FROM:<>", "TO:<@r1,@r2:x@y.z> NOTIFY=NEVER", "FROM: <\"q\\\" x\"@[1.2.3.4]> SIZE=1 BODY=8BITMIME",
		"TO:<Postmaster>", "FROM:<jörg@ü.de> SMTPUTF8", "FROM:<a@b.c>x", "TO:<a@b.c> =x"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, arg string, utf8ok bool) {
		prefix := "FROM:"
		if strings.HasPrefix(strings.ToUpper(arg), "TO:") {
			prefix = "TO:"
		}
		addr, params, err := parsePathArg(arg, prefix, prefix == "FROM:", utf8ok)
		if err != nil {
			return
		}
		if strings.ContainsAny(addr, "\r\n\x00<> ") && !strings.HasPrefix(addr, "\"") {
			t.Errorf("parsePathArg(%q) accepted address %q", arg, addr)
		}
		if addr != "" && !strings.EqualFold(addr, "postmaster") {
			if err := CheckMailbox(addr, utf8ok); err != nil {
				t.Errorf("parsePathArg(%q) = %q, which CheckMailbox refuses: %v", arg, addr, err)
			}
		}
		if !utf8ok && !isASCII(addr) {
			t.Errorf("parsePathArg(%q, utf8=false) = %q, not ASCII", arg, addr)
		}
		for _, p := range params {
			if p.Key == "" || strings.ContainsAny(p.Key+p.Value, " =\r\n") {
				t.Errorf("parsePathArg(%q) param %+v", arg, p)
			}
		}
	})
}

// FuzzDataReader checks the DATA reader against a plain model: a
// message ends only at CRLF.CRLF; a bare CR or LF fails it; what comes
// after the end is left for the next command.
func FuzzDataReader(f *testing.F) {
	for _, s := range []string{"a\r\n.\r\n", "a\n.\nb\r\n.\r\n", "..x\r\n.\r\nNOOP\r\n", "\r.\r\r\n.\r\n", ".\r\n", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		br := bufio.NewReaderSize(strings.NewReader(in), 16)
		d := &dataReader{r: br, maxSize: 1 << 20, maxLine: 1 << 20, deadline: func() {}}
		out, err := io.ReadAll(d)
		ferr := d.finish()
		rest, _ := io.ReadAll(br)

		// The model: the end is the first "\r\n.\r\n" counting the start
		// as a line beginning.
		end := strings.Index("\r\n"+in, "\r\n.\r\n")
		if end < 0 {
			if ferr == nil {
				t.Fatalf("input %q has no end but finish() = nil", in)
			}
			return
		}
		if ferr != nil {
			t.Fatalf("finish() = %v for %q", ferr, in)
		}
		msg, after := in[:end], in[end+3:] // msg keeps its last CRLF
		if string(rest) != after {
			t.Fatalf("left %q after the message, want %q (input %q)", rest, after, in)
		}
		bare := strings.ContainsAny(strings.ReplaceAll(msg, "\r\n", ""), "\r\n")
		if bare != (err != nil) {
			t.Fatalf("input %q: bare line end %v, reader error %v", in, bare, err)
		}
		if err == nil {
			want := strings.ReplaceAll("\r\n"+msg, "\r\n.", "\r\n")[2:]
			if !bytes.Equal(out, []byte(want)) {
				t.Fatalf("read %q, want %q (input %q)", out, want, in)
			}
		}
	})
}
