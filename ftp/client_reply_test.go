package ftp

import (
	"strings"
	"testing"
)

func TestReadReply(t *testing.T) {
	tests := []struct {
		in   string
		code int
		msg  string
	}{
		{"220 ready\r\n", 220, "ready"},
		{"200\r\n", 200, ""},
		{"230 bare LF\n", 230, "bare LF"},
		{"211-Features:\r\n MDTM\r\n SIZE\r\n211 End\r\n", 211, "Features:\n MDTM\n SIZE\nEnd"},
		{"220-first\r\n220-second\r\n220 last\r\n", 220, "first\nsecond\nlast"},
		// Inner lines that start with another code, or with the same code
		// and no separator, are text (RFC 959 section 4.2).
		{"230-hello\r\n123 not the end\r\n230x neither\r\n230 done\r\n", 230, "hello\n123 not the end\n230x neither\ndone"},
		{"250-\r\n  type=dir; /\r\n250\r\n", 250, "\n  type=dir; /\n"},
	}
	for _, tt := range tests {
		code, msg, err := readReply(replyReader(strings.NewReader(tt.in)))
		if err != nil || code != tt.code || msg != tt.msg {
			t.Errorf("readReply(%q) = %d, %q, %v; want %d, %q", tt.in, code, msg, err, tt.code, tt.msg)
		}
	}
}

func TestReadReplyRejects(t *testing.T) {
	for _, in := range []string{
		"",
		"22 short\r\n",
		"abc letters\r\n",
		"600 out of range\r\n",
		"099 out of range\r\n",
		"220_bad separator\r\n",
		"220-unterminated\r\nmore\r\n",
		"220 " + strings.Repeat("x", maxReplyLine+1) + "\r\n",
		"220-" + strings.Repeat(strings.Repeat("y", 1000)+"\r\n", maxReplyBytes/1000+2) + "220 end\r\n",
	} {
		if code, msg, err := readReply(replyReader(strings.NewReader(in))); err == nil {
			t.Errorf("readReply(%q) = %d, %q, nil; want an error", truncate(in, 40), code, truncate(msg, 40))
		}
	}
}

func TestQuotedPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{`"/" is the current directory`, "/"},
		{`"/a ""quoted"" dir" created`, `/a "quoted" dir`},
		{`"/sub dir ü"`, "/sub dir ü"},
	}
	for _, tt := range tests {
		if got, err := quotedPath(tt.in); err != nil || got != tt.want {
			t.Errorf("quotedPath(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"no quotes", `"unterminated`} {
		if got, err := quotedPath(in); err == nil {
			t.Errorf("quotedPath(%q) = %q, nil; want an error", in, got)
		}
	}
}

func TestPassiveReplies(t *testing.T) {
	if p, err := epsvPort("Entering Extended Passive Mode (|||6446|)"); err != nil || p != 6446 {
		t.Errorf("epsvPort = %d, %v, want 6446", p, err)
	}
	if p, err := epsvPort("ok (!!!1234!)"); err != nil || p != 1234 {
		t.Errorf("epsvPort with ! delimiter = %d, %v, want 1234", p, err)
	}
	for _, in := range []string{"(|||0|)", "(|||70000|)", "(||1|)", "no parens", "(|||12a|)", "(| | |1|)"} {
		if p, err := epsvPort(in); err == nil {
			t.Errorf("epsvPort(%q) = %d, nil; want an error", in, p)
		}
	}
	ip, p, err := pasvAddr("Entering Passive Mode (127,0,0,1,200,10).")
	if err != nil || p != 200*256+10 || !ip.Equal([]byte{127, 0, 0, 1}) {
		t.Errorf("pasvAddr = %v, %d, %v, want 127.0.0.1, 51210", ip, p, err)
	}
	if _, p, err := pasvAddr("=10,1,2,3,4,5"); err != nil || p != 4*256+5 {
		t.Errorf("pasvAddr without parens = %d, %v, want 1029", p, err)
	}
	for _, in := range []string{"(1,2,3,4,5)", "(1,2,3,4,256,1)", "(1,2,3,4,0,0)", "none"} {
		if _, p, err := pasvAddr(in); err == nil {
			t.Errorf("pasvAddr(%q) = %d, nil; want an error", in, p)
		}
	}
}

func TestASCIIConversion(t *testing.T) {
	var b strings.Builder
	w := &lfToCRLF{w: &b}
	for _, chunk := range []string{"a\nb\r", "\nc\n\n", "d"} {
		w.Write([]byte(chunk))
	}
	if got, want := b.String(), "a\r\nb\r\nc\r\n\r\nd"; got != want {
		t.Errorf("lfToCRLF = %q, want %q", got, want)
	}
	b.Reset()
	r := &crlfToLF{w: &b}
	for _, chunk := range []string{"a\r", "\nb\rc\r\n", "\r"} {
		r.Write([]byte(chunk))
	}
	r.flush()
	if got, want := b.String(), "a\nb\rc\n\r"; got != want {
		t.Errorf("crlfToLF = %q, want %q", got, want)
	}
}

func FuzzReadReply(f *testing.F) {
	for _, s := range []string{"220 ok\r\n", "211-a\r\n b\r\n211 c\r\n", "230-x\n230-y\n999 z\n230 e\n", "2", "200"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		code, msg, err := readReply(replyReader(strings.NewReader(in)))
		if err != nil {
			return
		}
		if code < 100 || code > 599 {
			t.Fatalf("readReply(%q) code %d out of range", in, code)
		}
		if len(msg) > len(in) {
			t.Fatalf("readReply(%q) message %q is longer than the input", in, msg)
		}
		for _, l := range strings.Split(msg, "\n") {
			if !strings.Contains(in, l) {
				t.Fatalf("readReply(%q) message line %q is not in the input", in, l)
			}
		}
	})
}

func FuzzPassiveReplies(f *testing.F) {
	f.Add("Entering Extended Passive Mode (|||6446|)")
	f.Add("Entering Passive Mode (127,0,0,1,200,10)")
	f.Fuzz(func(t *testing.T, in string) {
		if p, err := epsvPort(in); err == nil && (p < 1 || p > 65535) {
			t.Fatalf("epsvPort(%q) = %d", in, p)
		}
		if ip, p, err := pasvAddr(in); err == nil && (p < 1 || p > 65535 || ip.To4() == nil) {
			t.Fatalf("pasvAddr(%q) = %v, %d", in, ip, p)
		}
	})
}
