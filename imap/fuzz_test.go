package imap

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/plumbnet/plumb/internal/wire"
)

// FuzzSeqSet: a set that parses prints to a form that parses to the same set.
func FuzzSeqSet(f *testing.F) {
	for _, s := range []string{"1", "1:*", "*", "1,3:5,7:*", "$", "0", "4294967295", "1:2:3", ",", "2:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := ParseSeqSet(s)
		if err != nil {
			return
		}
		again, err := ParseSeqSet(set.String())
		if err != nil || again.String() != set.String() {
			t.Fatalf("ParseSeqSet(%q).String() = %q, which parses to %q, %v", s, set.String(), again.String(), err)
		}
	})
}

// FuzzMailboxName: a decoded name encodes to a form that decodes back to it.
func FuzzMailboxName(f *testing.F) {
	for _, s := range []string{"INBOX", "&ZeVnLIqe-", "a&-b", "&AOk-t&AOk-", "日本語", "&", "&Jjo!", "&AGE-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, err := DecodeMailboxName(s)
		if err != nil {
			return
		}
		if !utf8.ValidString(name) {
			t.Fatalf("DecodeMailboxName(%q) = %q, not UTF-8", s, name)
		}
		enc := EncodeMailboxName(name)
		back, err := DecodeMailboxName(enc)
		if err != nil || back != name {
			t.Fatalf("DecodeMailboxName(EncodeMailboxName(%q) = %q) = %q, %v", name, enc, back, err)
		}
	})
}

// FuzzCommand: any command line (with what follows it as literal data)
// parses or fails with a syntax or limit error, never reads past the
// bytes it was given plus what literals announce, and within the limits.
func FuzzCommand(f *testing.F) {
	for _, s := range []string{
		"a FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)]<0.100>)\r\n",
		"a SEARCH OR (FROM a SUBJECT {3+}\r\nabc) NOT SEEN UID 1:5\r\n",
		"a LIST (SUBSCRIBED) \"\" (* %) RETURN (CHILDREN STATUS (MESSAGES))\r\n",
		"a STORE 1,2 +FLAGS.SILENT (\\Seen $Junk)\r\n",
		"a SEARCH " + strings.Repeat("NOT ", 40) + "ALL\r\n",
		"a SEARCH " + strings.Repeat("(", 40) + "ALL" + strings.Repeat(")", 40) + "\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		line, rest, ok := strings.Cut(input, "\r\n")
		if !ok {
			return
		}
		br := bufio.NewReader(strings.NewReader(rest))
		p := newParser(line)
		p.br, p.lr = br, wire.NewReader(br)
		p.maxLiteral, p.budget = 100, 150
		var tag, verb string
		if !p.atom(&tag) || !p.sp() || !p.atom(&verb) || !p.sp() {
			return
		}
		switch strings.ToUpper(verb) {
		case "FETCH":
			var set SeqSet
			var items []fetchItem
			_ = p.seqSet(&set) && p.sp() && p.fetchItems(&items) && p.end()
		case "SEARCH":
			var k searchKey
			_ = p.searchProgram(&k) && p.end()
		case "LIST":
			var s string
			_ = p.astring(&s) && p.sp() && p.listMailbox(&s)
		default:
			var flags []string
			p.flagList(&flags)
		}
		if p.depth != 0 {
			t.Fatalf("parser depth %d after a command", p.depth)
		}
		if p.budget < 0 {
			t.Fatalf("literals held %d bytes over the budget", -p.budget)
		}
	})
}

// FuzzMIME: the structure of any message stays inside it, its parts in
// order and nested, and BODYSTRUCTURE's parentheses balance.
func FuzzMIME(f *testing.F) {
	f.Add([]byte(testMessage))
	f.Add([]byte("Content-Type: message/rfc822\r\n\r\nSubject: in\r\nContent-Type: multipart/alternative; boundary=x\r\n\r\n--x\r\n\r\na\r\n--x\r\nContent-Type: text/html\r\n\r\n<b>\r\n--x--\r\n"))
	f.Add([]byte("no header at all"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		b := toCRLF(msg)
		root := parseMIME(b)
		var check func(p *mimePart, lo, hi int)
		check = func(p *mimePart, lo, hi int) {
			if p.start < lo || p.start > p.bodyStart || p.bodyStart > p.end || p.end > hi {
				t.Fatalf("part [%d %d %d] outside [%d %d]", p.start, p.bodyStart, p.end, lo, hi)
			}
			last := p.bodyStart
			for _, c := range p.parts {
				if c.start < last {
					t.Fatalf("parts out of order")
				}
				check(c, p.bodyStart, p.end)
				last = c.end
			}
			if p.msg != nil {
				check(p.msg, p.bodyStart, p.end)
			}
		}
		check(root, 0, len(b))
		var out bytes.Buffer
		e := &encoder{Writer: bufio.NewWriter(&out)}
		e.bodyStructure(b, root, true)
		e.sp()
		e.envelope(root)
		e.Flush()
		if depth := parenDepth(t, out.Bytes()); depth != 0 {
			t.Fatalf("BODYSTRUCTURE %q: parentheses off by %d", out.Bytes(), depth)
		}
	})
}

// parenDepth counts parentheses outside quoted strings and literals.
func parenDepth(t *testing.T, b []byte) int {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '{':
			j := bytes.IndexByte(b[i:], '}')
			n := 0
			for _, c := range b[i+1 : i+j] {
				n = n*10 + int(c-'0')
			}
			i += j + 2 + n
		case '(':
			depth++
		case ')':
			depth--
		}
	}
	return depth
}

// FuzzCRLFReader: the streamed CRLF form equals the whole-message one,
// whose length is what RFC822.SIZE reports.
func FuzzCRLFReader(f *testing.F) {
	for _, s := range []string{"", "a", "a\n", "a\r", "a\r\nb", "\r\r\n\n", "x\ny\rz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := io.ReadAll(&crlfReader{r: bufio.NewReaderSize(strings.NewReader(s), 16)})
		if err != nil || string(got) != string(toCRLF([]byte(s))) {
			t.Fatalf("crlfReader(%q) = %q, %v; toCRLF = %q", s, got, err, toCRLF([]byte(s)))
		}
	})
}
