package xmlrpc

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"sync"
)

// errNotPlain stops plainTokens at what is outside their subset; the
// message is then parsed again by encoding/xml.
var errNotPlain = errors.New("xmlrpc: not plain XML")

// plainTokens is a tokenReader for the plain subset of XML that
// XML-RPC peers write: an optional XML declaration (version 1.0, UTF-8)
// first, elements without attributes or namespaces, and text of
// printable ASCII, tab and newline without entity or character
// references. On that subset it gives the tokens encoding/xml's
// RawToken gives, several times faster and without a copy of the text;
// on anything else (attributes, references, comments, CDATA, a
// DOCTYPE, \r, bytes outside ASCII, '>' in text) it answers errNotPlain.
// FuzzPlainTokens checks that what it parses encoding/xml parses the
// same.
type plainTokens struct {
	b     []byte
	i     int
	close xml.Name // the element of a "<name/>" just given as a start
	empty bool     // close is to be given as an end
}

// plainDecoder is a decoder on plainTokens in one piece, pooled.
type plainDecoder struct {
	decoder
	tokens plainTokens
	open   [8]xml.Name
}

func (p *plainDecoder) init(b []byte, lim limits) *decoder {
	p.tokens = plainTokens{b: b}
	p.decoder = decoder{plain: &p.tokens, lim: lim, open: p.open[:0]}
	return &p.decoder
}

func newPlainDecoder(b []byte, lim limits) *decoder { return new(plainDecoder).init(b, lim) }

var plainDecoders = sync.Pool{New: func() any { return new(plainDecoder) }}

func getPlainDecoder() *plainDecoder { return plainDecoders.Get().(*plainDecoder) }

// putPlainDecoder returns p to the pool, holding nothing of its message.
func putPlainDecoder(p *plainDecoder) {
	p.tokens, p.decoder.tok = plainTokens{}, token{}
	plainDecoders.Put(p)
}

func (p *plainTokens) read(t *token) error {
	if p.empty {
		p.empty = false
		*t = token{kind: tokenEnd, name: p.close}
		return nil
	}
	b := p.b
	if p.i >= len(b) {
		return io.EOF
	}
	if b[p.i] != '<' {
		j := p.i
		for ; j < len(b) && b[j] != '<'; j++ {
			if plainClass[b[j]]&plainText == 0 {
				return errNotPlain
			}
		}
		*t = token{kind: tokenText, text: b[p.i:j:j]}
		p.i = j
		return nil
	}
	j := p.i + 1
	if j < len(b) && b[j] == '?' {
		return p.declaration(t)
	}
	closing := j < len(b) && b[j] == '/'
	if closing {
		j++
	}
	k := j
	if k >= len(b) || !(b[k] >= 'a' && b[k] <= 'z' || b[k] >= 'A' && b[k] <= 'Z' || b[k] == '_') {
		return errNotPlain
	}
	for k < len(b) && plainClass[b[k]]&plainName != 0 {
		k++
	}
	empty := !closing && k+1 < len(b) && b[k] == '/' && b[k+1] == '>'
	if empty {
		k++
	}
	if k >= len(b) || b[k] != '>' {
		return errNotPlain
	}
	name := nameOf(b[j : k-boolInt(empty)])
	p.i = k + 1
	if closing {
		*t = token{kind: tokenEnd, name: name}
		return nil
	}
	if empty {
		p.close, p.empty = name, true
	}
	*t = token{kind: tokenStart, name: name}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// plainClass says of each byte whether plainTokens take it in text
// (printable ASCII but & < >, tab, newline) and in a name (letters,
// digits, . _ -).
var plainClass = func() (c [256]uint8) {
	for b := range 256 {
		if b >= 0x20 && b < 0x7f && b != '&' && b != '<' && b != '>' || b == '\t' || b == '\n' {
			c[b] |= plainText
		}
		if b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '.' || b == '_' || b == '-' {
			c[b] |= plainName
		}
	}
	return c
}()

const (
	plainText = 1 << iota
	plainName
)

// plainDeclarations are the XML declarations plainTokens takes.
var plainDeclarations = []string{
	`<?xml version="1.0"?>`,
	`<?xml version="1.0" encoding="UTF-8"?>`,
	`<?xml version="1.0" encoding="utf-8"?>`,
}

// declaration reads an XML declaration at the start of the message.
func (p *plainTokens) declaration(t *token) error {
	if p.i != 0 {
		return errNotPlain
	}
	n := bytes.Index(p.b, []byte("?>"))
	if n < 0 {
		return errNotPlain
	}
	for _, d := range plainDeclarations {
		if sameDeclaration(p.b[:n+2], d) {
			p.i = n + 2
			*t = token{kind: tokenSkip}
			return nil
		}
	}
	return errNotPlain
}

// sameDeclaration reports whether b is d with either quote, ' or ".
func sameDeclaration(b []byte, d string) bool {
	if len(b) != len(d) {
		return false
	}
	for i := range b {
		if b[i] != d[i] && !(b[i] == '\'' && d[i] == '"') {
			return false
		}
	}
	return true
}

// nameOf returns the name of an element; XML-RPC's own names are
// constants, so that naming one costs no allocation (a switch, which
// is faster here than a map).
func nameOf(b []byte) xml.Name {
	switch string(b) {
	case "methodCall":
		return xml.Name{Local: "methodCall"}
	case "methodName":
		return xml.Name{Local: "methodName"}
	case "methodResponse":
		return xml.Name{Local: "methodResponse"}
	case "params":
		return xml.Name{Local: "params"}
	case "param":
		return xml.Name{Local: "param"}
	case "value":
		return xml.Name{Local: "value"}
	case "fault":
		return xml.Name{Local: "fault"}
	case "struct":
		return xml.Name{Local: "struct"}
	case "member":
		return xml.Name{Local: "member"}
	case "name":
		return xml.Name{Local: "name"}
	case "array":
		return xml.Name{Local: "array"}
	case "data":
		return xml.Name{Local: "data"}
	case "string":
		return xml.Name{Local: "string"}
	case "i4":
		return xml.Name{Local: "i4"}
	case "int":
		return xml.Name{Local: "int"}
	case "i8":
		return xml.Name{Local: "i8"}
	case "boolean":
		return xml.Name{Local: "boolean"}
	case "double":
		return xml.Name{Local: "double"}
	case "dateTime.iso8601":
		return xml.Name{Local: "dateTime.iso8601"}
	case "base64":
		return xml.Name{Local: "base64"}
	case "nil":
		return xml.Name{Local: "nil"}
	}
	return xml.Name{Local: string(b)}
}
