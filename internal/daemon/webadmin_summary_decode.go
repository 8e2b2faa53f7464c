package daemon

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/plumbnet/plumb/internal/webadmin"
)

// decodeSummaryLine decodes one line of a summary file as
// json.Unmarshal into a summaryLine would, a restart's loading of
// 100,000 of them being mostly encoding/json's reflection otherwise:
// the fields encodeLine writes, in any order, are read directly, and
// anything else (an unknown or differently cased field name, a number
// that is not a plain integer, a null where a string goes) makes the
// whole line go through json.Unmarshal. FuzzDecodeSummaryLine checks
// that the two agree.
func decodeSummaryLine(line []byte) (summaryLine, bool) {
	if l, ok := fastSummaryLine(line); ok {
		return l, true
	}
	var l summaryLine
	if json.Unmarshal(line, &l) != nil {
		return summaryLine{}, false
	}
	return l, true
}

// lineScan reads the JSON of a summary line from b.
type lineScan struct {
	b  []byte
	i  int
	ok bool
}

func fastSummaryLine(line []byte) (summaryLine, bool) {
	d := &lineScan{b: line, ok: true}
	var l summaryLine
	d.object(func(name string) {
		switch name {
		case "k":
			l.Key = d.str()
		case "q":
			l.Search = d.str()
		case "h":
			l.Headers = d.str()
		case "s":
			d.object(func(name string) { d.field(&l.Sum, name) })
		default:
			d.ok = false
		}
	})
	d.ws()
	if !d.ok || d.i != len(d.b) {
		return summaryLine{}, false
	}
	return l, true
}

// field reads the value of the Summary field name.
func (d *lineScan) field(s *webadmin.Summary, name string) {
	switch name {
	case "user":
		s.User = d.str()
	case "folder":
		s.Folder = d.str()
	case "uid":
		n, err := strconv.ParseUint(d.integer(), 10, 32)
		d.ok = d.ok && err == nil
		s.UID = uint32(n)
	case "message_id":
		s.MessageID = d.str()
	case "from":
		s.From = d.str()
	case "to":
		s.To = d.strs()
	case "cc":
		s.Cc = d.strs()
	case "subject":
		s.Subject = d.str()
	case "date":
		d.time(&s.Date)
	case "received":
		d.time(&s.Received)
	case "size":
		n, err := strconv.ParseInt(d.integer(), 10, 64)
		d.ok = d.ok && err == nil
		s.Size = n
	case "flags":
		s.Flags = d.strs()
	default:
		d.ok = false
	}
}

func (d *lineScan) ws() {
	for d.i < len(d.b) && (d.b[d.i] == ' ' || d.b[d.i] == '\t' || d.b[d.i] == '\n' || d.b[d.i] == '\r') {
		d.i++
	}
}

// next skips white space and reports whether the next byte is c, and
// if so takes it.
func (d *lineScan) next(c byte) bool {
	d.ws()
	if d.ok && d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// object reads an object, calling member for each name with d at its
// value.
func (d *lineScan) object(member func(name string)) {
	if !d.next('{') {
		d.ok = false
		return
	}
	if d.next('}') {
		return
	}
	for d.ok {
		name := d.str()
		if !d.next(':') {
			d.ok = false
			return
		}
		member(name)
		if d.next(',') {
			continue
		}
		if !d.next('}') {
			d.ok = false
		}
		return
	}
}

// token returns the raw bytes of the string at d, quotes included, and
// whether it holds an escape.
func (d *lineScan) token() (raw []byte, escaped bool) {
	if !d.next('"') {
		d.ok = false
		return nil, false
	}
	start := d.i - 1
	for d.i < len(d.b) {
		switch c := d.b[d.i]; {
		case c == '"':
			d.i++
			return d.b[start:d.i], escaped
		case c == '\\':
			escaped = true
			d.i += 2
		case c < 0x20:
			d.ok = false
			return nil, false
		default:
			d.i++
		}
	}
	d.ok = false
	return nil, false
}

// str reads a string; one with escapes or bytes that are not UTF-8 is
// decoded by encoding/json, as the rest of the line would be.
func (d *lineScan) str() string {
	raw, escaped := d.token()
	if !d.ok {
		return ""
	}
	body := raw[1 : len(raw)-1]
	if !escaped && utf8.Valid(body) {
		return string(body)
	}
	if s, ok := unescape(body); ok {
		return s
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		d.ok = false
	}
	return s
}

// strs reads an array of strings, or null (nil).
func (d *lineScan) strs() []string {
	if d.literal("null") {
		return nil
	}
	if !d.next('[') {
		d.ok = false
		return nil
	}
	out := []string{}
	if d.next(']') {
		return out
	}
	for d.ok {
		out = append(out, d.str())
		if d.next(',') {
			continue
		}
		if !d.next(']') {
			d.ok = false
		}
		break
	}
	return out
}

// literal takes word at d if it is there.
func (d *lineScan) literal(word string) bool {
	d.ws()
	if bytes.HasPrefix(d.b[d.i:], []byte(word)) {
		d.i += len(word)
		return true
	}
	return false
}

// integer returns the digits of a plain integer at d (no fraction or
// exponent, which would send the line to encoding/json).
func (d *lineScan) integer() string {
	d.ws()
	start := d.i
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	digits := d.b[start:d.i]
	if len(digits) == 0 || len(digits) > 1 && digits[0] == '0' || len(digits) > 2 && digits[0] == '-' && digits[1] == '0' {
		d.ok = false // not JSON's form of a number
	}
	if d.i < len(d.b) {
		if c := d.b[d.i]; c == '.' || c == 'e' || c == 'E' {
			d.ok = false
		}
	}
	return string(digits)
}

// time reads a time as time.Time's UnmarshalJSON does.
func (d *lineScan) time(t *time.Time) {
	raw, _ := d.token()
	if d.ok && t.UnmarshalJSON(raw) != nil {
		d.ok = false
	}
}

// unescape decodes the escapes of a JSON string's body, or reports
// that it holds what it leaves to encoding/json: a UTF-16 surrogate,
// a malformed escape, bytes that are not UTF-8.
func unescape(body []byte) (string, bool) {
	out := make([]byte, 0, len(body))
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i++; i >= len(body) {
			return "", false
		}
		switch body[i] {
		case '"', '\\', '/':
			out = append(out, body[i])
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'u':
			if i+4 >= len(body) {
				return "", false
			}
			var r rune
			for _, h := range body[i+1 : i+5] {
				switch {
				case h >= '0' && h <= '9':
					r = r<<4 | rune(h-'0')
				case h >= 'a' && h <= 'f':
					r = r<<4 | rune(h-'a'+10)
				case h >= 'A' && h <= 'F':
					r = r<<4 | rune(h-'A'+10)
				default:
					return "", false
				}
			}
			if utf16.IsSurrogate(r) {
				return "", false
			}
			out = utf8.AppendRune(out, r)
			i += 4
		default:
			return "", false
		}
	}
	if !utf8.Valid(out) {
		return "", false
	}
	return string(out), true
}
