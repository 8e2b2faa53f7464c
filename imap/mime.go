package imap

import (
	"bytes"
	"strings"
)

// Limits of the MIME structure parser: a message nested deeper or split
// into more parts is taken as far as the limit and the rest as opaque
// body.
const (
	maxMIMEDepth = 20
	maxMIMEParts = 2000
)

// headerField is one header field, its value unfolded and raw (encoded
// words left as they are, as ENVELOPE wants them).
type headerField struct {
	name, value string
	raw         []byte // the field's lines as they are, CRLF included
}

// mimePart is one entity of a message (RFC 2045): its header and body
// as offsets into the message's CRLF-normalized bytes.
type mimePart struct {
	start, bodyStart, end int
	fields                []headerField
	typ, sub              string      // lower case
	params                [][2]string // in the order given
	parts                 []*mimePart // multipart/*
	msg                   *mimePart   // message/rfc822: the message inside
}

// parseMIME parses b (CRLF line ends) into its MIME structure. It never
// fails: what does not parse is a text/plain leaf, as Dovecot does.
func parseMIME(b []byte) *mimePart {
	count := 0
	return parseEntity(b, 0, len(b), "text", "plain", 0, &count)
}

func parseEntity(b []byte, start, end int, defTyp, defSub string, depth int, count *int) *mimePart {
	*count++
	p := &mimePart{start: start, end: end}
	p.bodyStart, p.fields = parseHeader(b, start, end)
	p.typ, p.sub = defTyp, defSub
	if ct := p.header("Content-Type"); ct != "" {
		mt, params := parseContentType(ct)
		if typ, sub, ok := strings.Cut(mt, "/"); ok && typ != "" && sub != "" && isToken(typ) && isToken(sub) {
			p.typ, p.sub = typ, sub
			p.params = params
		}
	}
	if p.typ == "text" && p.param("charset") == "" {
		// RFC 2045 section 5.2's default, which Dovecot shows too.
		p.params = append([][2]string{{"charset", "us-ascii"}}, p.params...)
	}
	if depth >= maxMIMEDepth || *count >= maxMIMEParts {
		return p
	}
	switch {
	case p.typ == "multipart":
		boundary := p.param("boundary")
		if boundary == "" {
			return p
		}
		sub := "plain"
		typ := "text"
		if p.sub == "digest" {
			typ, sub = "message", "rfc822"
		}
		for _, r := range splitParts(b, p.bodyStart, end, boundary) {
			if *count >= maxMIMEParts {
				break
			}
			p.parts = append(p.parts, parseEntity(b, r[0], r[1], typ, sub, depth+1, count))
		}
	case p.typ == "message" && (p.sub == "rfc822" || p.sub == "global"):
		p.msg = parseEntity(b, p.bodyStart, end, "text", "plain", depth+1, count)
	}
	return p
}

// parseContentType splits a Content-Type (or Content-Disposition)
// value into its lower-case type and its parameters as written: RFC
// 2231's name*=charset”value is kept undecoded, as Dovecot shows it.
func parseContentType(v string) (string, [][2]string) {
	typ, rest, _ := strings.Cut(v, ";")
	var params [][2]string
	for rest != "" {
		var seg string
		seg, rest = cutParam(rest)
		k, val, ok := strings.Cut(seg, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			continue
		}
		val = strings.TrimSpace(val)
		if strings.HasPrefix(val, `"`) {
			val = unquote(val)
		}
		params = append(params, [2]string{strings.ToLower(k), val})
	}
	return strings.ToLower(strings.TrimSpace(typ)), params
}

// cutParam returns the text up to the next ";" outside quotes.
func cutParam(s string) (string, string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if quoted {
				i++
			}
		case '"':
			quoted = !quoted
		case ';':
			if !quoted {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}

func unquote(s string) string {
	s = strings.TrimPrefix(s, `"`)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			break
		}
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}

// parseHeader returns where the body starts and the header's fields.
func parseHeader(b []byte, start, end int) (int, []headerField) {
	var fields []headerField
	pos := start
	for pos < end {
		eol := bytes.Index(b[pos:end], []byte("\r\n"))
		if eol < 0 {
			eol = end - pos
		}
		line := b[pos : pos+eol]
		next := min(pos+eol+2, end)
		if len(line) == 0 {
			return next, fields
		}
		if (line[0] == ' ' || line[0] == '\t') && len(fields) > 0 {
			f := &fields[len(fields)-1]
			f.value += " " + strings.TrimSpace(string(line))
			f.raw = b[pos-len(f.raw) : next]
			pos = next
			continue
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(name) == 0 {
			// Not a header line: the header ended without a blank line.
			return pos, fields
		}
		fields = append(fields, headerField{name: string(bytes.TrimRight(name, " \t")),
			value: strings.TrimSpace(string(value)), raw: b[pos:next]})
		pos = next
	}
	return end, fields
}

// splitParts returns the [start, end) of each body part between the
// boundary delimiter lines (RFC 2046 section 5.1.1).
func splitParts(b []byte, start, end int, boundary string) [][2]int {
	delim := []byte("--" + boundary)
	var parts [][2]int
	partStart := -1
	pos := start
	for pos <= end {
		lineEnd := bytes.Index(b[pos:end], []byte("\r\n"))
		next := end + 1
		if lineEnd >= 0 {
			lineEnd += pos
			next = lineEnd + 2
		} else {
			lineEnd = end
		}
		line := b[pos:lineEnd]
		if bytes.HasPrefix(line, delim) {
			rest := bytes.TrimRight(line[len(delim):], " \t")
			closing := bytes.Equal(rest, []byte("--"))
			if closing || len(rest) == 0 {
				if partStart >= 0 {
					// The CRLF before the delimiter belongs to it.
					parts = append(parts, [2]int{partStart, max(partStart, pos-2)})
				}
				if closing {
					return parts
				}
				partStart = min(next, end)
			}
		}
		pos = next
	}
	if partStart >= 0 {
		parts = append(parts, [2]int{partStart, end})
	}
	return parts
}

// header returns the first field named name, or "".
func (p *mimePart) header(name string) string {
	for _, f := range p.fields {
		if strings.EqualFold(f.name, name) {
			return f.value
		}
	}
	return ""
}

func (p *mimePart) param(name string) string {
	for _, kv := range p.params {
		if kv[0] == name {
			return kv[1]
		}
	}
	return ""
}

// lines counts the body's lines.
func (p *mimePart) lines(b []byte) int {
	body := b[p.bodyStart:p.end]
	// Line ends, as Dovecot counts: a last line without one is not counted.
	return bytes.Count(body, []byte("\n"))
}

// resolve finds the part a section's numbers name (RFC 9051 section
// 6.4.5); nil if there is none.
func (p *mimePart) resolve(path []int) *mimePart {
	cur := p
	for k, n := range path {
		switch {
		case len(cur.parts) > 0:
			if n < 1 || n > len(cur.parts) {
				return nil
			}
			cur = cur.parts[n-1]
		case n == 1 && cur.typ != "multipart":
			// Part 1 of a message that is not multipart is its body.
		default:
			return nil
		}
		if k < len(path)-1 && cur.msg != nil {
			cur = cur.msg
		}
	}
	return cur
}

// toCRLF returns b with every line end (LF, CRLF or a lone CR) as CRLF
// and a CRLF after a last line without one: the form IMAP sizes and
// sends a message in, as RFC822.SIZE counts it.
func toCRLF(b []byte) []byte {
	if bytes.IndexByte(b, '\n') < 0 && bytes.IndexByte(b, '\r') < 0 && len(b) == 0 {
		return b
	}
	out := make([]byte, 0, len(b)+len(b)/32+2)
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch c {
		case '\r':
			out = append(out, '\r', '\n')
			if i+1 < len(b) && b[i+1] == '\n' {
				i++
			}
		case '\n':
			out = append(out, '\r', '\n')
		default:
			out = append(out, c)
		}
	}
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\r', '\n')
	}
	return out
}
