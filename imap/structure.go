package imap

import (
	"mime"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
)

// encodedWord is an RFC 2047 encoded word.
var encodedWord = regexp.MustCompile(`=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=`)

// writeEnvelope writes a message's ENVELOPE (RFC 9051 section 7.5.2).
func (e *encoder) envelope(m *mimePart) {
	e.open()
	e.nstr(m.header("Date"))
	e.sp()
	e.nstr(m.header("Subject"))
	from := m.header("From")
	for _, name := range []string{"From", "Sender", "Reply-To"} {
		e.sp()
		v := m.header(name)
		if v == "" {
			v = from // RFC 9051: sender and reply-to default to from
		}
		e.addresses(v)
	}
	for _, name := range []string{"To", "Cc", "Bcc"} {
		e.sp()
		e.addresses(m.header(name))
	}
	e.sp()
	e.nstr(m.header("In-Reply-To"))
	e.sp()
	e.nstr(m.header("Message-Id"))
	e.close()
}

// addresses writes an address list, NIL when empty or unparseable.
func (e *encoder) addresses(v string) {
	if strings.TrimSpace(v) == "" {
		e.WriteString("NIL")
		return
	}
	// Encoded words stand in as plain atoms while the list is parsed, so
	// that names come out as written (ENVELOPE is not decoded).
	words := encodedWord.FindAllString(v, -1)
	masked := v
	for i, w := range words {
		masked = strings.Replace(masked, w, "plumbEW"+strconv.Itoa(i)+"x", 1)
	}
	list, err := (&mail.AddressParser{}).ParseList(masked)
	if err != nil || len(list) == 0 {
		e.WriteString("NIL")
		return
	}
	e.open()
	for _, a := range list {
		local, host, _ := strings.Cut(a.Address, "@")
		name := a.Name
		for i := len(words) - 1; i >= 0; i-- {
			name = strings.ReplaceAll(name, "plumbEW"+strconv.Itoa(i)+"x", words[i])
		}
		if !quotable(name, false) {
			name = mime.QEncoding.Encode("utf-8", name)
		}
		e.open()
		e.nstr(name)
		e.WriteString(" NIL ")
		e.nstr(local)
		e.sp()
		e.nstr(host)
		e.close()
	}
	e.close()
}

// params writes a body parameter list, NIL when empty.
func (e *encoder) params(ps [][2]string) {
	if len(ps) == 0 {
		e.WriteString("NIL")
		return
	}
	e.open()
	for i, kv := range ps {
		if i > 0 {
			e.sp()
		}
		e.str(kv[0])
		e.sp()
		e.str(kv[1])
	}
	e.close()
}

// disposition writes body-fld-dsp: ("attachment" ("filename" "a")) or NIL.
func (e *encoder) disposition(p *mimePart) {
	d := p.header("Content-Disposition")
	if d == "" {
		e.WriteString("NIL")
		return
	}
	typ, params := parseContentType(d)
	if typ == "" {
		e.WriteString("NIL")
		return
	}
	e.open()
	e.str(typ)
	e.sp()
	e.params(params)
	e.close()
}

// bodyStructure writes BODY (ext false) or BODYSTRUCTURE (ext true)
// of part p of message b (RFC 9051 section 7.5.2).
func (e *encoder) bodyStructure(b []byte, p *mimePart, ext bool) {
	e.open()
	if len(p.parts) > 0 {
		for _, c := range p.parts {
			e.bodyStructure(b, c, ext)
		}
		e.sp()
		e.str(p.sub)
		if ext {
			e.sp()
			e.params(p.params)
			e.sp()
			e.disposition(p)
			e.sp()
			e.nstr(p.header("Content-Language"))
			e.sp()
			e.nstr(p.header("Content-Location"))
		}
		e.close()
		return
	}
	typ, sub := p.typ, p.sub
	if typ == "multipart" {
		// A multipart without parts (no boundary, or none found) is one
		// empty text part, as Dovecot shows it.
		e.WriteString(`("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0`)
		if ext {
			e.WriteString(" NIL NIL NIL NIL")
		}
		e.WriteString(") ")
		e.str(sub)
		if ext {
			e.sp()
			e.params(p.params)
			e.sp()
			e.disposition(p)
			e.WriteString(" NIL NIL")
		}
		e.close()
		return
	}
	e.str(typ)
	e.sp()
	e.str(sub)
	e.sp()
	e.params(p.params)
	e.sp()
	e.nstr(p.header("Content-Id"))
	e.sp()
	e.nstr(p.header("Content-Description"))
	e.sp()
	enc := strings.ToLower(p.header("Content-Transfer-Encoding"))
	if enc == "" {
		enc = "7bit"
	}
	e.str(enc)
	e.sp()
	e.num64(int64(p.end - p.bodyStart))
	switch {
	case p.msg != nil:
		e.sp()
		e.envelope(p.msg)
		e.sp()
		e.bodyStructure(b, p.msg, ext)
		e.sp()
		e.num64(int64(p.lines(b)))
	case typ == "text":
		e.sp()
		e.num64(int64(p.lines(b)))
	}
	if ext {
		e.sp()
		e.nstr(p.header("Content-MD5"))
		e.sp()
		e.disposition(p)
		e.sp()
		e.nstr(p.header("Content-Language"))
		e.sp()
		e.nstr(p.header("Content-Location"))
	}
	e.close()
}
