package imap

import (
	"bytes"
	"strconv"
	"strings"
)

// A fetchItem is one fetch attribute (RFC 9051 section 6.4.5).
type fetchItem struct {
	name    string // upper case: FLAGS, UID, ENVELOPE, BODY[], BINARY[], ...
	section section
	peek    bool
	partial bool
	offset  int64
	count   int64
}

// section is a body section: part numbers and what of the part.
type section struct {
	path   []int
	spec   string // "", HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT, MIME
	fields []string
}

// label is the name the item is answered under: BODY.PEEK is BODY, and
// a partial's count is left out (RFC 9051 section 7.5.2).
func (it fetchItem) label() string {
	if !strings.HasSuffix(it.name, "[]") {
		return it.name
	}
	var b strings.Builder
	b.WriteString(strings.TrimSuffix(it.name, "[]"))
	b.WriteByte('[')
	b.WriteString(it.section.String())
	b.WriteByte(']')
	if it.partial {
		b.WriteString("<" + strconv.FormatInt(it.offset, 10) + ">")
	}
	return b.String()
}

func (s section) String() string {
	var parts []string
	for _, n := range s.path {
		parts = append(parts, strconv.Itoa(n))
	}
	if s.spec != "" {
		parts = append(parts, s.spec)
	}
	out := strings.Join(parts, ".")
	if len(s.fields) > 0 {
		out += " (" + strings.Join(s.fields, " ") + ")"
	}
	return out
}

// fetchItems parses the fetch attributes: a macro, one item, or a list.
func (p *parser) fetchItems(items *[]fetchItem) bool {
	if p.peek("(") {
		return p.list(false, func() bool { return p.fetchItem(items) })
	}
	for _, m := range []struct{ name, items string }{
		{"ALL", "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE"},
		{"FAST", "FLAGS INTERNALDATE RFC822.SIZE"},
		{"FULL", "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY"},
	} {
		if p.peek(m.name) && !p.peek(m.name+"[") && (len(p.dec.Rest()) == len(m.name) || p.dec.Rest()[len(m.name)] == ' ' || p.dec.Rest()[len(m.name)] == ')') {
			p.expect(m.name)
			for n := range strings.FieldsSeq(m.items) {
				*items = append(*items, fetchItem{name: n})
			}
			return true
		}
	}
	return p.fetchItem(items)
}

var simpleFetch = map[string]bool{"FLAGS": true, "UID": true, "ENVELOPE": true, "BODYSTRUCTURE": true, "BODY": true,
	"INTERNALDATE": true, "RFC822": true, "RFC822.SIZE": true, "RFC822.HEADER": true, "RFC822.TEXT": true, "MODSEQ": true}

func (p *parser) fetchItem(items *[]fetchItem) bool {
	var a string
	if !p.atom(&a) {
		return false
	}
	up := strings.ToUpper(a)
	if !strings.HasSuffix(up, "[") && !strings.Contains(up, "[") {
		if !simpleFetch[up] {
			return p.failf("unknown fetch item %q", a)
		}
		*items = append(*items, fetchItem{name: up})
		return true
	}
	head, sec, _ := strings.Cut(up, "[")
	it := fetchItem{}
	switch head {
	case "BODY", "BINARY", "BINARY.SIZE":
		it.name = head + "[]"
	case "BODY.PEEK", "BINARY.PEEK":
		it.name, it.peek = strings.TrimSuffix(head, ".PEEK")+"[]", true
	default:
		return p.failf("unknown fetch item %q", a)
	}
	if !parseSection(sec, &it.section, head != "BODY" && head != "BODY.PEEK") {
		return p.failf("bad section %q", sec)
	}
	if strings.HasPrefix(it.section.spec, "HEADER.FIELDS") {
		if !p.sp() || !p.list(false, func() bool {
			var f string
			if !p.astring(&f) {
				return false
			}
			it.section.fields = append(it.section.fields, strings.ToUpper(f))
			return true
		}) {
			return false
		}
	}
	if !p.expect("]") {
		return false
	}
	var part string
	if p.peek("<") && p.dec.Atom(&part) {
		if it.name == "BINARY.SIZE[]" {
			return p.failf("BINARY.SIZE takes no partial")
		}
		o, c, ok := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(part, "<"), ">"), ".")
		off, err1 := strconv.ParseInt(o, 10, 64)
		cnt, err2 := strconv.ParseInt(c, 10, 64)
		if !ok || err1 != nil || err2 != nil || off < 0 || cnt <= 0 || !strings.HasSuffix(part, ">") {
			return p.failf("bad partial %q", part)
		}
		it.partial, it.offset, it.count = true, off, cnt
	}
	*items = append(*items, it)
	return true
}

// parseSection parses the inside of [...] up to the field list.
func parseSection(s string, sec *section, numbersOnly bool) bool {
	if s == "" {
		return true
	}
	for s != "" {
		num, rest, _ := strings.Cut(s, ".")
		n, err := strconv.Atoi(num)
		if err != nil {
			break
		}
		if n <= 0 || len(sec.path) >= maxMIMEDepth {
			return false
		}
		sec.path = append(sec.path, n)
		s = rest
	}
	if s == "" {
		return true
	}
	if numbersOnly {
		return false
	}
	switch s {
	case "HEADER", "TEXT", "HEADER.FIELDS", "HEADER.FIELDS.NOT":
	case "MIME":
		if len(sec.path) == 0 {
			return false
		}
	default:
		return false
	}
	sec.spec = s
	return true
}

// sectionBytes returns the bytes of sec in message b (CRLF, parsed as
// root), and false when the message has no such part.
func sectionBytes(b []byte, root *mimePart, sec section) ([]byte, *mimePart, bool) {
	part := root
	if len(sec.path) > 0 {
		part = root.resolve(sec.path)
		if part == nil {
			return nil, nil, false
		}
	}
	switch sec.spec {
	case "":
		if len(sec.path) == 0 {
			return b, part, true
		}
		return b[part.bodyStart:part.end], part, true
	case "MIME":
		return b[part.start:part.bodyStart], part, true
	}
	msg := part
	if len(sec.path) > 0 {
		if part.msg == nil {
			return nil, nil, false
		}
		msg = part.msg
	}
	switch sec.spec {
	case "HEADER":
		return b[msg.start:msg.bodyStart], msg, true
	case "TEXT":
		return b[msg.bodyStart:msg.end], msg, true
	}
	not := sec.spec == "HEADER.FIELDS.NOT"
	var out bytes.Buffer
	for _, f := range msg.fields {
		in := false
		for _, name := range sec.fields {
			if strings.EqualFold(name, f.name) {
				in = true
				break
			}
		}
		if in != not {
			out.Write(f.raw)
			if !bytes.HasSuffix(f.raw, []byte("\r\n")) {
				out.WriteString("\r\n")
			}
		}
	}
	out.WriteString("\r\n")
	return out.Bytes(), msg, true
}

// partialOf cuts b to the <offset.count> of it.
func partialOf(b []byte, it fetchItem) []byte {
	if !it.partial {
		return b
	}
	if it.offset >= int64(len(b)) {
		return nil
	}
	b = b[it.offset:]
	if it.count < int64(len(b)) {
		b = b[:it.count]
	}
	return b
}
