package xmlrpc

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Default limits of the parsers; a zero field of Server or Client means these.
const (
	DefaultMaxBytes  = 8 << 20 // a request or response body
	DefaultMaxDepth  = 32      // arrays and structs inside each other
	DefaultMaxValues = 100_000 // <value> elements in one message
)

// limits bound one parse.
type limits struct {
	depth, values int
}

func newLimits(depth, values int) limits {
	if depth <= 0 {
		depth = DefaultMaxDepth
	}
	if values <= 0 {
		values = DefaultMaxValues
	}
	return limits{depth, values}
}

// decoder reads one XML-RPC message from a token stream (encoding/xml's,
// or plainTokens), element by element in the order the grammar gives
// them, into the generic values of the package doc.
type decoder struct {
	x      tokenReader
	plain  *plainTokens // instead of x: a direct call, and no escape to the heap
	lim    limits
	values int
	open   []xml.Name // the elements open, innermost last
	tok    token      // the last token read, which token returns
}

// A token is what a tokenReader gives: an element's start or end, text,
// a directive, or something to skip (a comment, a processing
// instruction). A struct, not an xml.Token, so that text is not boxed
// into an interface, one allocation a token.
type token struct {
	kind tokenKind
	name xml.Name // of a start or an end
	text []byte   // of text or a directive; valid until the message's buffer is reused
}

type tokenKind uint8

const (
	tokenStart tokenKind = iota + 1
	tokenEnd
	tokenText
	tokenDirective
	tokenSkip
)

// tokenReader is encoding/xml's Decoder (xmlTokens), or plainTokens.
type tokenReader interface {
	// read reads the next token into t, or returns io.EOF at the end.
	read(t *token) error
}

// xmlTokens are encoding/xml's raw tokens, which skip the namespace
// machinery XML-RPC does not use.
type xmlTokens struct{ d *xml.Decoder }

func (x xmlTokens) read(tok *token) error {
	t, err := x.d.RawToken()
	if err != nil {
		return err
	}
	switch t := t.(type) {
	case xml.StartElement:
		*tok = token{kind: tokenStart, name: t.Name}
	case xml.EndElement:
		*tok = token{kind: tokenEnd, name: t.Name}
	case xml.CharData:
		// RawToken's text is overwritten by the next token: a copy.
		*tok = token{kind: tokenText, text: bytes.Clone(t)}
	case xml.Directive:
		*tok = token{kind: tokenDirective, text: bytes.Clone(t)}
	default:
		*tok = token{kind: tokenSkip}
	}
	return nil
}

func (d *decoder) read(t *token) error {
	if d.plain != nil {
		return d.plain.read(t)
	}
	return d.x.read(t)
}

func newDecoder(r io.Reader, lim limits) *decoder {
	x := xml.NewDecoder(r)
	x.Strict = true
	x.CharsetReader = charsetReader
	return &decoder{x: xmlTokens{x}, lim: lim, open: make([]xml.Name, 0, 8)}
}

func syntaxf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrSyntax}, args...)...)
}

// token returns the next element boundary or text, past comments and
// processing instructions; it is d.tok, overwritten by the next call. A directive (<!DOCTYPE>, <!ENTITY>) is
// refused: XML-RPC has no use for one, and refusing it closes the door
// on entity tricks whatever the XML library would do with them. It
// checks that each end matches its start.
func (d *decoder) token() (*token, error) {
	for {
		t := &d.tok
		err := d.read(t)
		if err == io.EOF {
			return nil, syntaxf("unexpected end of the message")
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, syntaxf("line %d: %s", se.Line, se.Msg)
			}
			return nil, err // the body's reader: a limit or a broken connection
		}
		switch t.kind {
		case tokenDirective:
			return nil, syntaxf("a directive (<!%s…>) is not allowed", firstWord(t.text))
		case tokenSkip:
			continue
		case tokenStart:
			d.open = append(d.open, t.name)
		case tokenEnd:
			if n := len(d.open); n == 0 || d.open[n-1] != t.name {
				return nil, syntaxf("</%s> does not close the open element", t.name.Local)
			}
			d.open = d.open[:len(d.open)-1]
		}
		return t, nil
	}
}

func firstWord(b []byte) string {
	s, _, _ := strings.Cut(string(b), " ")
	if len(s) > 16 {
		s = s[:16]
	}
	return s
}

// next returns the next start or end element, past white space; other
// text is an error.
func (d *decoder) next() (*token, error) {
	for {
		t, err := d.token()
		if err != nil {
			return nil, err
		}
		if t.kind == tokenText {
			if len(bytes.TrimSpace(t.text)) != 0 {
				return nil, syntaxf("unexpected text %.20q", t.text)
			}
			continue
		}
		return t, nil
	}
}

// start reads the start of an element named one of names, and returns its name.
func (d *decoder) start(names ...string) (string, error) {
	t, err := d.next()
	if err != nil {
		return "", err
	}
	if t.kind == tokenStart {
		for _, n := range names {
			if t.name.Local == n {
				return n, nil
			}
		}
		return "", syntaxf("<%s> where <%s> belongs", t.name.Local, strings.Join(names, "> or <"))
	}
	return "", syntaxf("</%s> where <%s> belongs", t.name.Local, strings.Join(names, "> or <"))
}

// startOrEnd reads the start of name, or the end of the element it is
// in (ok false); token has checked that an end matches its start.
func (d *decoder) startOrEnd(name string) (ok bool, err error) {
	t, err := d.next()
	if err != nil {
		return false, err
	}
	if t.kind == tokenStart {
		if t.name.Local != name {
			return false, syntaxf("<%s> where <%s> belongs", t.name.Local, name)
		}
		return true, nil
	}
	return false, nil
}

// end reads the end of the current element, past white space.
func (d *decoder) end() error {
	t, err := d.next()
	if err != nil {
		return err
	}
	if t.kind == tokenStart {
		return syntaxf("unexpected <%s>", t.name.Local)
	}
	return nil
}

// text reads the text of the current element up to its end; an element
// inside is an error. The text is the message's own bytes when it is
// one token (as it is but after a comment or CDATA), so it is only
// valid until the message's buffer is reused: a caller keeps a copy.
func (d *decoder) text() ([]byte, error) {
	var b []byte
	owned := false
	for {
		t, err := d.token()
		if err != nil {
			return nil, err
		}
		switch t.kind {
		case tokenText:
			switch {
			case b == nil:
				b = t.text
			case !owned:
				b, owned = append(bytes.Clone(b), t.text...), true // never into the message
			default:
				b = append(b, t.text...)
			}
		case tokenStart:
			return nil, syntaxf("unexpected <%s> in a scalar value", t.name.Local)
		case tokenEnd:
			return b, nil
		}
	}
}

// eof checks that nothing but white space and comments follows the
// document's element.
func (d *decoder) eof() error {
	for {
		t := &d.tok
		err := d.read(t)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return syntaxf("after the message: %v", err)
		}
		switch t.kind {
		case tokenSkip:
		case tokenDirective:
			return syntaxf("a directive (<!%s…>) is not allowed", firstWord(t.text))
		case tokenText:
			if len(bytes.TrimSpace(t.text)) != 0 {
				return syntaxf("text after the message")
			}
		default:
			return syntaxf("more after the message")
		}
	}
}

// parseCall reads a <methodCall>.
func parseCall(r io.Reader, lim limits) (method string, params []any, err error) {
	return newDecoder(r, lim).call()
}

// parseCallBytes is parseCall of a message in memory: by plainTokens
// when the message keeps to their subset, else (or on any error, which
// encoding/xml then gives) as parseCall.
func parseCallBytes(b []byte, lim limits) (method string, params []any, err error) {
	p := getPlainDecoder()
	method, params, err = p.init(b, lim).call()
	putPlainDecoder(p)
	if err == nil {
		return method, params, nil
	}
	return parseCall(bytes.NewReader(b), lim)
}

func (d *decoder) call() (method string, params []any, err error) {
	if _, err := d.start("methodCall"); err != nil {
		return "", nil, err
	}
	if _, err := d.start("methodName"); err != nil {
		return "", nil, err
	}
	name, err := d.text()
	if err != nil {
		return "", nil, err
	}
	method = string(bytes.TrimSpace(name))
	if method == "" {
		return "", nil, syntaxf("empty <methodName>")
	}
	ok, err := d.startOrEnd("params")
	if err != nil {
		return "", nil, err
	}
	params = []any{}
	if ok {
		if params, err = d.params(); err != nil {
			return "", nil, err
		}
		if err := d.end(); err != nil { // </methodCall>
			return "", nil, err
		}
	}
	return method, params, d.eof()
}

// params reads <param>s up to </params>.
func (d *decoder) params() ([]any, error) {
	params := make([]any, 0, 4)
	for {
		ok, err := d.startOrEnd("param")
		if err != nil || !ok {
			return params, err
		}
		if _, err := d.start("value"); err != nil {
			return nil, err
		}
		v, err := d.value(0)
		if err != nil {
			return nil, err
		}
		params = append(params, v)
		if err := d.end(); err != nil { // </param>
			return nil, err
		}
	}
}

// parseResponse reads a <methodResponse>: its one value, or its fault.
func parseResponse(r io.Reader, lim limits) (v any, fault *Fault, err error) {
	return newDecoder(r, lim).response()
}

// parseResponseBytes is parseResponse of a message in memory, by
// plainTokens when it can (parseCallBytes).
func parseResponseBytes(b []byte, lim limits) (v any, fault *Fault, err error) {
	p := getPlainDecoder()
	v, fault, err = p.init(b, lim).response()
	putPlainDecoder(p)
	if err == nil {
		return v, fault, nil
	}
	return parseResponse(bytes.NewReader(b), lim)
}

func (d *decoder) response() (v any, fault *Fault, err error) {
	if _, err := d.start("methodResponse"); err != nil {
		return nil, nil, err
	}
	name, err := d.start("params", "fault")
	if err != nil {
		return nil, nil, err
	}
	if name == "fault" {
		if _, err := d.start("value"); err != nil {
			return nil, nil, err
		}
		fv, err := d.value(0)
		if err != nil {
			return nil, nil, err
		}
		if fault, err = faultFrom(fv); err != nil {
			return nil, nil, err
		}
	} else {
		params, err := d.params()
		if err != nil {
			return nil, nil, err
		}
		if len(params) != 1 {
			return nil, nil, syntaxf("a response with %d params, not one", len(params))
		}
		v = params[0]
	}
	if name == "fault" {
		if err := d.end(); err != nil { // </fault>
			return nil, nil, err
		}
	}
	if err := d.end(); err != nil { // </methodResponse>
		return nil, nil, err
	}
	return v, fault, d.eof()
}

// value reads what follows a <value> start, up to and including its end.
func (d *decoder) value(depth int) (any, error) {
	d.values++
	if d.values > d.lim.values {
		return nil, fmt.Errorf("%w: more than %d values", ErrTooLarge, d.lim.values)
	}
	var text []byte
	for {
		t, err := d.token()
		if err != nil {
			return nil, err
		}
		switch t.kind {
		case tokenText:
			text = append(text, t.text...)
		case tokenEnd:
			return string(text), nil // untyped text is a string
		case tokenStart:
			if len(bytes.TrimSpace(text)) != 0 {
				return nil, syntaxf("text and <%s> in one value", t.name.Local)
			}
			v, err := d.typed(t.name.Local, depth)
			if err != nil {
				return nil, err
			}
			return v, d.end() // </value>
		}
	}
}

// typed reads the value of a type element whose start was name.
func (d *decoder) typed(name string, depth int) (any, error) {
	switch name {
	case "struct":
		return d.structValue(depth + 1)
	case "array":
		return d.array(depth + 1)
	}
	s, err := d.text()
	if err != nil {
		return nil, err
	}
	switch name {
	case "string":
		return string(s), nil
	case "i4", "int", "i8":
		bits := 32
		if name == "i8" {
			bits = 64
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(s)), 10, bits)
		if err != nil {
			return nil, syntaxf("<%s>%.30s</%s> is not a %d-bit integer", name, s, name, bits)
		}
		return int(n), nil
	case "boolean":
		switch string(bytes.TrimSpace(s)) {
		case "0":
			return false, nil
		case "1":
			return true, nil
		}
		return nil, syntaxf("<boolean>%.10s</boolean> is neither 0 nor 1", s)
	case "double":
		f, err := strconv.ParseFloat(string(bytes.TrimSpace(s)), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, syntaxf("<double>%.30s</double> is not a finite number", s)
		}
		return f, nil
	case "dateTime.iso8601":
		return parseTime(string(bytes.TrimSpace(s)))
	case "base64":
		return parseBase64(string(s))
	case "nil":
		if len(bytes.TrimSpace(s)) != 0 {
			return nil, syntaxf("text in <nil/>")
		}
		return nil, nil
	}
	return nil, syntaxf("unknown type <%s>", name)
}

func (d *decoder) structValue(depth int) (any, error) {
	if depth > d.lim.depth {
		return nil, fmt.Errorf("%w: nested deeper than %d", ErrTooLarge, d.lim.depth)
	}
	m := map[string]any{}
	for {
		ok, err := d.startOrEnd("member")
		if err != nil || !ok {
			return m, err
		}
		if _, err := d.start("name"); err != nil {
			return nil, err
		}
		name, err := d.text()
		if err != nil {
			return nil, err
		}
		if _, err := d.start("value"); err != nil {
			return nil, err
		}
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		// A repeated name: the last one counts, as in Python.
		m[string(name)] = v
		if err := d.end(); err != nil { // </member>
			return nil, err
		}
	}
}

func (d *decoder) array(depth int) (any, error) {
	if depth > d.lim.depth {
		return nil, fmt.Errorf("%w: nested deeper than %d", ErrTooLarge, d.lim.depth)
	}
	if _, err := d.start("data"); err != nil {
		return nil, err
	}
	a := []any{}
	for {
		ok, err := d.startOrEnd("value")
		if err != nil {
			return nil, err
		}
		if !ok {
			return a, d.end() // </array>
		}
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
	}
}

// timeLayouts are the forms of dateTime.iso8601 peers send: the spec's,
// and ISO 8601's extended form, each with or without a zone.
var timeLayouts = []string{
	"20060102T15:04:05", "20060102T150405", "2006-01-02T15:04:05",
	"20060102T15:04:05Z07:00", "20060102T150405Z07:00", "2006-01-02T15:04:05Z07:00",
}

// parseTime reads a date; one without a zone is taken as UTC, and one
// with a zone is converted to UTC, since what is written has no zone.
func parseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, syntaxf("<dateTime.iso8601>%.30s</dateTime.iso8601> is not a date like 20060102T15:04:05", s)
}

// parseBase64 reads base64 with line breaks (as Python writes it), with
// or without padding.
func parseBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil {
		return nil, syntaxf("bad base64")
	}
	return b, nil
}

// charsetReader gives encoding/xml the character sets other than UTF-8
// that XML-RPC peers declare.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "us-ascii", "ascii":
		return r, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1":
		return &latin1Reader{r: r}, nil
	}
	return nil, fmt.Errorf("character set %q is not supported (UTF-8, US-ASCII and ISO-8859-1 are)", label)
}

// latin1Reader turns ISO-8859-1 into UTF-8.
type latin1Reader struct {
	r       io.Reader
	pending []byte
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	if len(l.pending) == 0 {
		buf := make([]byte, max(len(p)/2, 1))
		n, err := l.r.Read(buf)
		for _, c := range buf[:n] {
			l.pending = utf8.AppendRune(l.pending, rune(c))
		}
		if n == 0 {
			return 0, err
		}
	}
	n := copy(p, l.pending)
	l.pending = l.pending[n:]
	return n, nil
}
