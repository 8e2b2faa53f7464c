package nntp

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParseCommand: a parsed command has an upper-case keyword and
// arguments without spaces or control characters, and re-joining them
// parses to the same command.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"GROUP misc.test", "OVER 1-10", "ARTICLE <a@b>", "NEWNEWS * 20240101 000000 GMT", "authinfo user x", "  LIST\tACTIVE  ", "\x00", "X Y Z A B C D E F G"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		c, err := parseCommand(line)
		if err != nil {
			return
		}
		if c.name == "" || c.name != strings.ToUpper(c.name) || len(c.name) > maxKeyword || len(c.args) > maxArgs {
			t.Fatalf("parseCommand(%q) = %+v", line, c)
		}
		for _, a := range c.args {
			if a == "" || strings.ContainsAny(a, " \t\r\n\x00") {
				t.Fatalf("parseCommand(%q): argument %q", line, a)
			}
		}
		again, err := parseCommand(c.name + " " + strings.Join(c.args, " "))
		if err != nil || again.name != c.name || strings.Join(again.args, " ") != strings.Join(c.args, " ") {
			t.Fatalf("reparse of %q = %+v, %v", line, again, err)
		}
	})
}

// FuzzParseArticle: a parsed article, written out and parsed again,
// has the same fields and body.
func FuzzParseArticle(f *testing.F) {
	f.Add([]byte("From: a@b\r\nSubject: x\r\n folded\r\n\r\nbody\r\n"))
	f.Add([]byte("Bad header\r\n\r\n"))
	f.Add([]byte("A:\r\n\r\n"))
	f.Add([]byte(" cont\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseArticle(b)
		if err != nil {
			return
		}
		if len(a.Header) > DefaultMaxHeaderFields {
			t.Fatalf("%d fields over the limit", len(a.Header))
		}
		out := a.Bytes()
		a2, err := ParseArticle(out)
		if err != nil {
			t.Fatalf("reparse of %q: %v", out, err)
		}
		if len(a2.Header) != len(a.Header) {
			t.Fatalf("reparse: %d fields, want %d (%q)", len(a2.Header), len(a.Header), out)
		}
		for i := range a.Header {
			if a.Header[i].Name != a2.Header[i].Name || unfold(a.Header[i].Value) != unfold(a2.Header[i].Value) {
				t.Fatalf("field %d: %q then %q", i, a.Header[i], a2.Header[i])
			}
		}
		if len(a.Header) > 0 && !bytes.Equal(a2.Body, a.Body) {
			t.Fatalf("body %q then %q", a.Body, a2.Body)
		}
	})
}

// FuzzParseResponse: a parsed status line prints back to the input.
func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{"200 ready", "211 3 1 3 misc.test", "100", "2000", "abc", "999 x", "240 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, err := ParseResponse(line)
		if err != nil {
			return
		}
		if r.Code < 100 || r.Code > 599 {
			t.Fatalf("ParseResponse(%q).Code = %d", line, r.Code)
		}
		back := line[:3]
		if len(line) > 3 {
			back += " " + r.Msg
		}
		if back != line {
			t.Fatalf("ParseResponse(%q) prints as %q", line, back)
		}
	})
}

// FuzzParseOverview: the lines the server writes parse back to the
// overview they came from.
func FuzzParseOverview(f *testing.F) {
	f.Add(int64(1), "subj", "from", "date", "<id@x>", "<r@x>", int64(10), int64(2), "h g:1")
	f.Fuzz(func(t *testing.T, n int64, s, fr, d, id, refs string, b, l int64, x string) {
		if n < 0 {
			n = -n
		}
		o := Overview{Number: n, Subject: s, From: fr, Date: d, MessageID: id, References: refs, Bytes: b, Lines: l, Xref: x}
		got, err := ParseOverview(overviewLine(o))
		if err != nil {
			t.Fatalf("ParseOverview(overviewLine(%+v)): %v", o, err)
		}
		want := Overview{Number: n, Subject: field(s), From: field(fr), Date: field(d), MessageID: field(id), References: field(refs), Bytes: b, Lines: l, Xref: strings.TrimSpace(field(x))}
		if got != want {
			t.Fatalf("round trip = %+v, want %+v", got, want)
		}
	})
}

// FuzzWildmat: a pattern without wildcards matches only itself; "*"
// matches everything; "!" before it matches nothing.
func FuzzWildmat(f *testing.F) {
	f.Add("misc.test", "misc.test")
	f.Add("a*b?c", "aXXbYc")
	f.Fuzz(func(t *testing.T, p, name string) {
		if !Wildmat("*", name) || Wildmat("*,!*", name) {
			t.Fatalf("* / !* wrong for %q", name)
		}
		if !strings.ContainsAny(p, "*?!,") && Wildmat(p, name) != (p == name) {
			t.Fatalf("Wildmat(%q, %q) = %v", p, name, Wildmat(p, name))
		}
	})
}
