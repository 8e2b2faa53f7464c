package xmlrpc

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
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
	b   []byte
	i   int
	end xml.Token // the end of a "<name/>" just given as a start
}

func newPlainDecoder(b []byte, lim limits) *decoder {
	return &decoder{x: &plainTokens{b: b}, lim: lim, open: make([]xml.Name, 0, 8)}
}

func (p *plainTokens) RawToken() (xml.Token, error) {
	if p.end != nil {
		t := p.end
		p.end = nil
		return t, nil
	}
	b := p.b
	if p.i >= len(b) {
		return nil, io.EOF
	}
	if b[p.i] != '<' {
		j := p.i
		for ; j < len(b) && b[j] != '<'; j++ {
			if c := b[j]; c == '&' || c == '>' || c >= 0x7f || (c < 0x20 && c != '\t' && c != '\n') {
				return nil, errNotPlain
			}
		}
		t := xml.CharData(b[p.i:j:j])
		p.i = j
		return t, nil
	}
	j := p.i + 1
	if j < len(b) && b[j] == '?' {
		return p.declaration()
	}
	closing := j < len(b) && b[j] == '/'
	if closing {
		j++
	}
	k := j
	if k >= len(b) || !(b[k] >= 'a' && b[k] <= 'z' || b[k] >= 'A' && b[k] <= 'Z' || b[k] == '_') {
		return nil, errNotPlain
	}
	for k < len(b) && nameByte(b[k]) {
		k++
	}
	empty := !closing && k+1 < len(b) && b[k] == '/' && b[k+1] == '>'
	if empty {
		k++
	}
	if k >= len(b) || b[k] != '>' {
		return nil, errNotPlain
	}
	start, end := tokensOf(b[j : k-boolInt(empty)])
	p.i = k + 1
	if closing {
		return end, nil
	}
	if empty {
		p.end = end
	}
	return start, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

// plainDeclarations are the XML declarations plainTokens takes, with
// ' for ".
var plainDeclarations = []string{
	`<?xml version="1.0"?>`,
	`<?xml version="1.0" encoding="UTF-8"?>`,
	`<?xml version="1.0" encoding="utf-8"?>`,
}

// declaration reads an XML declaration at the start of the message.
func (p *plainTokens) declaration() (xml.Token, error) {
	if p.i != 0 {
		return nil, errNotPlain
	}
	n := bytes.Index(p.b, []byte("?>"))
	if n < 0 {
		return nil, errNotPlain
	}
	decl := bytes.ReplaceAll(p.b[:n+2], []byte("'"), []byte(`"`))
	for _, d := range plainDeclarations {
		if string(decl) == d {
			p.i = n + 2
			return xml.ProcInst{Target: "xml", Inst: p.b[6:n]}, nil
		}
	}
	return nil, errNotPlain
}

// The tokens of XML-RPC's element names, boxed once.
var plainNames = func() map[string][2]xml.Token {
	m := map[string][2]xml.Token{}
	for _, n := range []string{"methodCall", "methodName", "methodResponse", "params", "param", "value",
		"fault", "struct", "member", "name", "array", "data", "string", "i4", "int", "i8", "boolean",
		"double", "dateTime.iso8601", "base64", "nil"} {
		m[n] = [2]xml.Token{xml.StartElement{Name: xml.Name{Local: n}}, xml.EndElement{Name: xml.Name{Local: n}}}
	}
	return m
}()

// tokensOf returns the start and end tokens of the element name.
func tokensOf(name []byte) (start, end xml.Token) {
	if t, ok := plainNames[string(name)]; ok {
		return t[0], t[1]
	}
	n := xml.Name{Local: string(name)}
	return xml.StartElement{Name: n}, xml.EndElement{Name: n}
}
