package imap

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// A searchKey is one node of a search program (RFC 9051 section 6.4.4).
type searchKey struct {
	op    string // upper case key: ALL, FLAG, NOFLAG, HEADER, BODY, TEXT, AND, OR, NOT, SEQ, UID, ...
	flag  string
	field string // HEADER's field name, or FROM, TO, ... as header names
	value string
	n     int64
	date  time.Time
	set   SeqSet
	kids  []*searchKey
}

// searchFlags maps the flag keys to a flag and whether it must be set.
var searchFlags = map[string]struct {
	flag string
	set  bool
}{
	"ANSWERED": {FlagAnswered, true}, "DELETED": {FlagDeleted, true}, "DRAFT": {FlagDraft, true},
	"FLAGGED": {FlagFlagged, true}, "SEEN": {FlagSeen, true}, "RECENT": {FlagRecent, true},
	"UNANSWERED": {FlagAnswered, false}, "UNDELETED": {FlagDeleted, false}, "UNDRAFT": {FlagDraft, false},
	"UNFLAGGED": {FlagFlagged, false}, "UNSEEN": {FlagSeen, false}, "OLD": {FlagRecent, false},
}

// searchProgram parses the keys up to the end of the line, ANDed.
func (p *parser) searchProgram(k *searchKey) bool {
	*k = searchKey{op: "AND"}
	for {
		var kid searchKey
		if !p.searchKey(&kid) {
			return false
		}
		k.kids = append(k.kids, &kid)
		if p.atEnd() || p.peek(")") {
			return true
		}
		if !p.sp() {
			return false
		}
	}
}

func (p *parser) searchKey(k *searchKey) bool {
	if !p.ok() {
		return false
	}
	if p.peek("(") {
		*k = searchKey{op: "AND"}
		return p.list(false, func() bool {
			var kid searchKey
			if !p.searchKey(&kid) {
				return false
			}
			k.kids = append(k.kids, &kid)
			return true
		})
	}
	if r := p.dec.Rest(); r != "" && (r[0] >= '0' && r[0] <= '9' || r[0] == '*' || r[0] == '$') {
		k.op = "SEQ"
		return p.seqSet(&k.set)
	}
	var a string
	if !p.atom(&a) {
		return false
	}
	k.op = strings.ToUpper(a)
	if f, ok := searchFlags[k.op]; ok {
		k.flag = f.flag
		if k.op = "FLAG"; !f.set {
			k.op = "NOFLAG"
		}
		return true
	}
	switch k.op {
	case "ALL":
		return true
	case "NEW":
		*k = searchKey{op: "AND", kids: []*searchKey{{op: "FLAG", flag: FlagRecent}, {op: "NOFLAG", flag: FlagSeen}}}
		return true
	case "KEYWORD", "UNKEYWORD":
		if k.op = "FLAG"; a[0] == 'U' || a[0] == 'u' {
			k.op = "NOFLAG"
		}
		return p.sp() && p.flag(&k.flag)
	case "BCC", "CC", "FROM", "SUBJECT", "TO":
		k.field, k.op = k.op, "HEADER"
		return p.sp() && p.astring(&k.value)
	case "HEADER":
		return p.sp() && p.astring(&k.field) && p.sp() && p.astring(&k.value)
	case "BODY", "TEXT":
		return p.sp() && p.astring(&k.value)
	case "LARGER", "SMALLER", "MODSEQ":
		var n uint64
		if k.op == "MODSEQ" && p.peek(` "`) {
			var entry, typ string // search-modseq-ext: matched over all flags alike
			if !p.sp() || !p.astring(&entry) || !p.sp() || !p.atom(&typ) {
				return false
			}
		}
		if !p.sp() || !p.number64(&n) {
			return false
		}
		k.n = int64(min(n, 1<<62))
		return true
	case "BEFORE", "ON", "SINCE", "SENTBEFORE", "SENTON", "SENTSINCE":
		return p.sp() && p.date(&k.date)
	case "UID":
		return p.sp() && p.seqSet(&k.set)
	case "NOT":
		var kid searchKey
		if !p.sp() {
			return false
		}
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > MaxNesting {
			return p.fail(errTooDeep)
		}
		if !p.searchKey(&kid) {
			return false
		}
		k.kids = []*searchKey{&kid}
		return true
	case "OR":
		var a, b searchKey
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > MaxNesting {
			return p.fail(errTooDeep)
		}
		if !p.sp() || !p.searchKey(&a) || !p.sp() || !p.searchKey(&b) {
			return false
		}
		k.kids = []*searchKey{&a, &b}
		return true
	}
	return p.failf("unknown search key %q", a)
}

// usesModSeq reports whether k has a MODSEQ key (RFC 7162 section 3.1.5).
func (k *searchKey) usesModSeq() bool {
	if k.op == "MODSEQ" {
		return true
	}
	for _, c := range k.kids {
		if c.usesModSeq() {
			return true
		}
	}
	return false
}

// usesDate reports whether k compares internal dates.
func (k *searchKey) usesDate() bool {
	if k.op == "BEFORE" || k.op == "ON" || k.op == "SINCE" {
		return true
	}
	for _, c := range k.kids {
		if c.usesDate() {
			return true
		}
	}
	return false
}

// needsBody reports whether k must read the message.
func (k *searchKey) needsBody() bool {
	switch k.op {
	case "HEADER", "BODY", "TEXT", "SENTBEFORE", "SENTON", "SENTSINCE":
		return true
	}
	for _, c := range k.kids {
		if c.needsBody() {
			return true
		}
	}
	return false
}

// needsText reports whether k looks past the message's header.
func (k *searchKey) needsText() bool {
	if k.op == "BODY" || k.op == "TEXT" {
		return true
	}
	for _, c := range k.kids {
		if c.needsText() {
			return true
		}
	}
	return false
}

// usesDollar reports whether k refers to the saved result ($).
func (k *searchKey) usesDollar() bool {
	if (k.op == "SEQ" || k.op == "UID") && k.set.Dollar {
		return true
	}
	for _, c := range k.kids {
		if c.usesDollar() {
			return true
		}
	}
	return false
}

// searchMsg is what a search key is matched against.
type searchMsg struct {
	seq, maxSeq, maxUID uint32
	info                MessageInfo
	saved               map[uint32]bool        // the saved result, by UID
	load                func() ([]byte, error) // the message's CRLF bytes, or its header's alone
	body                []byte
	root                *mimePart
	err                 error
	loaded, parsed      bool
}

// raw returns the message's bytes unparsed, or nil.
func (m *searchMsg) raw() []byte {
	if !m.loaded {
		m.loaded = true
		m.body, m.err = m.load()
	}
	return m.body
}

func (m *searchMsg) message() ([]byte, *mimePart) {
	if b := m.raw(); b != nil && !m.parsed {
		m.parsed, m.root = true, parseMIME(b)
	}
	return m.body, m.root
}

func (k *searchKey) match(m *searchMsg) bool {
	switch k.op {
	case "AND":
		for _, c := range k.kids {
			if !c.match(m) {
				return false
			}
		}
		return true
	case "OR":
		return k.kids[0].match(m) || k.kids[1].match(m)
	case "NOT":
		return !k.kids[0].match(m)
	case "ALL":
		return true
	case "FLAG", "NOFLAG":
		has := k.flag == FlagRecent && m.info.Recent || slices.ContainsFunc(m.info.Flags, func(f string) bool { return strings.EqualFold(f, k.flag) })
		return has == (k.op == "FLAG")
	case "SEQ":
		if k.set.Dollar {
			return m.saved[m.info.UID]
		}
		return k.set.Contains(m.seq, m.maxSeq)
	case "UID":
		if k.set.Dollar {
			return m.saved[m.info.UID]
		}
		return k.set.Contains(m.info.UID, m.maxUID)
	case "LARGER":
		return m.info.Size > k.n
	case "SMALLER":
		return m.info.Size < k.n
	case "MODSEQ":
		return int64(m.info.ModSeq) >= k.n
	case "BEFORE", "ON", "SINCE":
		return matchDate(k.op, m.info.InternalDate, k.date)
	case "SENTBEFORE", "SENTON", "SENTSINCE":
		_, root := m.message()
		if root == nil {
			return false
		}
		t, err := mail.ParseDate(root.header("Date"))
		return err == nil && matchDate(strings.TrimPrefix(k.op, "SENT"), t, k.date)
	case "HEADER":
		_, root := m.message()
		if root == nil {
			return false
		}
		for _, f := range root.fields {
			if strings.EqualFold(f.name, k.field) && (k.value == "" || containsFold(decodeHeader(f.value), k.value)) {
				return true
			}
		}
		return false
	case "BODY":
		b, root := m.message()
		return root != nil && bodyContains(b, root, k.value)
	case "TEXT":
		b, root := m.message()
		return root != nil && (headersContain(root, k.value) || bodyContains(b, root, k.value))
	}
	return false
}

// matchDate compares dates by day, disregarding time and zone (RFC 9051).
func matchDate(op string, t, day time.Time) bool {
	y, mo, d := t.Date()
	td := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
	switch op {
	case "BEFORE":
		return td.Before(day)
	case "ON":
		return td.Equal(day)
	}
	return !td.Before(day)
}

var wordDecoder = &mime.WordDecoder{CharsetReader: passCharset}

// decodeHeader decodes RFC 2047 encoded words; what does not decode
// is kept as it is.
func decodeHeader(v string) string {
	if !strings.Contains(v, "=?") {
		return v
	}
	d, err := wordDecoder.DecodeHeader(v)
	if err != nil {
		return v
	}
	return d
}

// passCharset reads ISO-8859-1 as such and any other unknown charset as
// it is, so that a search can still find its ASCII.
func passCharset(charset string, r io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1", "iso8859-1", "windows-1252":
		return strings.NewReader(latin1(b)), nil
	}
	return bytes.NewReader(b), nil
}

func latin1(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		s.WriteRune(rune(c))
	}
	return s.String()
}

// headersContain searches the header lines, names and decoded values,
// of p and of every part and attached message inside it: TEXT's
// "header (including MIME header fields)" (RFC 9051 section 6.4.4).
func headersContain(p *mimePart, sub string) bool {
	for _, f := range p.fields {
		if containsFold(f.name+": "+decodeHeader(f.value), sub) {
			return true
		}
	}
	for _, c := range p.parts {
		if headersContain(c, sub) {
			return true
		}
	}
	return p.msg != nil && headersContain(p.msg, sub)
}

// bodyContains searches the decoded text of every leaf part.
func bodyContains(b []byte, p *mimePart, sub string) bool {
	if len(p.parts) > 0 {
		for _, c := range p.parts {
			if bodyContains(b, c, sub) {
				return true
			}
		}
		return false
	}
	if p.msg != nil {
		return bodyContains(b, p.msg, sub)
	}
	if isASCII(sub) {
		// Charset conversion makes no ASCII of what was not: the
		// transfer-decoded bytes are searched as they are.
		return containsFoldASCII(transferDecoded(b, p), sub)
	}
	return containsFold(decodedBody(b, p), sub)
}

// decodedBody undoes a part's transfer encoding and charset.
func decodedBody(b []byte, p *mimePart) string {
	body := transferDecoded(b, p)
	if cs := strings.ToLower(p.param("charset")); cs != "" && cs != "utf-8" && cs != "us-ascii" && !utf8.Valid(body) {
		return latin1(body)
	}
	return string(body)
}

// transferDecoded is a part's body with its transfer encoding undone:
// b's own bytes for an identity encoding.
func transferDecoded(b []byte, p *mimePart) []byte {
	body := b[p.bodyStart:p.end]
	switch strings.ToLower(p.header("Content-Transfer-Encoding")) {
	case "base64":
		dec, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(bytes.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, body))))
		if err == nil || len(dec) > 0 {
			body = dec
		}
	case "quoted-printable":
		if dec, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body))); err == nil || len(dec) > 0 {
			body = dec
		}
	}
	return body
}
