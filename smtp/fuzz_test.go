package smtp

import (
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
