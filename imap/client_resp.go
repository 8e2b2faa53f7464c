package imap

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits of the client's response reader.
const (
	// DefaultMaxResponse bounds the bytes of one response outside its literals.
	DefaultMaxResponse = 16 << 20
	// DefaultMaxClientLiteral bounds one literal of a response.
	DefaultMaxClientLiteral = 256 << 20
	// maxResponseDepth bounds nested lists in a response.
	maxResponseDepth = 64
)

// Response is one line of the server's, its literals included.
type Response struct {
	// Tag is "*" for untagged data, "+" for a continuation request, or
	// the tag of the command it completes.
	Tag string
	// Num is the number of "* 3 EXISTS" or "* 3 FETCH (...)", else 0.
	Num uint32
	// Type is upper case: OK, NO, BAD, BYE, PREAUTH, CAPABILITY, LIST,
	// FETCH, EXISTS, EXPUNGE, SEARCH, ESEARCH, STATUS, ...
	Type string
	// Code and Text are a status response's code (without brackets,
	// e.g. "UIDNEXT 5") and its human-readable text.
	Code, Text string
	// Fields are the data after Type: strings (atoms, numbers, quoted
	// strings and literals), nil for NIL, []any for lists.
	Fields []any
}

var statusTypes = map[string]bool{"OK": true, "NO": true, "BAD": true, "BYE": true, "PREAUTH": true}

// respReader reads responses from a server, with bounds on size and nesting.
type respReader struct {
	br         *bufio.Reader
	n          int // bytes read of this response outside literals
	maxResp    int
	maxLiteral int64
	// sink, if set, takes the literal of a FETCH item (BODY[...],
	// BINARY[...], RFC822) as a stream instead of memory; the item's
	// value then reads as "".
	sink func(item string, r io.Reader) error
}

func (r *respReader) errf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrProtocol}, args...)...)
}

func (r *respReader) readByte() (byte, error) {
	if r.n++; r.n > r.maxResp {
		return 0, r.errf("response over %d bytes", r.maxResp)
	}
	b, err := r.br.ReadByte()
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return b, err
}

func (r *respReader) peek() (byte, error) {
	b, err := r.br.Peek(1)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, err
	}
	return b[0], nil
}

// restOfLine reads to the end of the line, without its line end.
func (r *respReader) restOfLine() (string, error) {
	var b strings.Builder
	for {
		c, err := r.readByte()
		if err != nil {
			return "", err
		}
		if c == '\n' {
			return strings.TrimSuffix(b.String(), "\r"), nil
		}
		b.WriteByte(c)
	}
}

// word reads up to a space or the end of the line (not consumed).
func (r *respReader) word() (string, error) {
	var b strings.Builder
	for {
		c, err := r.peek()
		if err != nil {
			return "", err
		}
		if c == ' ' || c == '\r' || c == '\n' {
			return b.String(), nil
		}
		r.readByte()
		b.WriteByte(c)
	}
}

// read reads one whole response.
func (r *respReader) read() (*Response, error) {
	r.n = 0
	tag, err := r.word()
	if err != nil {
		return nil, err
	}
	resp := &Response{Tag: tag}
	if tag == "" {
		return nil, r.errf("response without a tag")
	}
	if tag == "+" {
		if c, _ := r.peek(); c == ' ' {
			r.readByte()
		}
		resp.Text, err = r.restOfLine()
		return resp, err
	}
	if c, err := r.readByte(); err != nil || c != ' ' {
		if err == nil {
			err = r.errf("want SP after the tag %q", short(tag))
		}
		return nil, err
	}
	typ, err := r.word()
	if err != nil {
		return nil, err
	}
	if n, err := strconv.ParseUint(typ, 10, 32); err == nil && tag == "*" {
		resp.Num = uint32(n)
		if c, err := r.readByte(); err != nil || c != ' ' {
			return nil, r.errf("want SP after a number")
		}
		if typ, err = r.word(); err != nil {
			return nil, err
		}
	}
	resp.Type = strings.ToUpper(typ)
	if statusTypes[resp.Type] {
		line, err := r.restOfLine()
		if err != nil {
			return nil, err
		}
		line = strings.TrimPrefix(line, " ")
		if strings.HasPrefix(line, "[") {
			if i := strings.IndexByte(line, ']'); i > 0 {
				resp.Code, line = line[1:i], strings.TrimPrefix(line[i+1:], " ")
			}
		}
		resp.Text = line
		return resp, nil
	}
	for {
		c, err := r.readByte()
		if err != nil {
			return nil, err
		}
		switch c {
		case '\r':
			if c, err := r.readByte(); err != nil || c != '\n' {
				return nil, r.errf("bare CR")
			}
			return resp, nil
		case '\n':
			return resp, nil
		case ' ':
			v, err := r.value(0, "")
			if err != nil {
				return nil, err
			}
			resp.Fields = append(resp.Fields, v)
		default:
			return nil, r.errf("want SP or the end of the line, got %q", c)
		}
	}
}

// value reads one datum: atom, number, string, literal, NIL or list.
func (r *respReader) value(depth int, key string) (any, error) {
	c, err := r.peek()
	if err != nil {
		return nil, err
	}
	switch c {
	case '(':
		if depth >= maxResponseDepth {
			return nil, r.errf("lists nested over %d deep", maxResponseDepth)
		}
		r.readByte()
		list := []any{}
		for {
			c, err := r.peek()
			if err != nil {
				return nil, err
			}
			if c == ')' {
				r.readByte()
				return list, nil
			}
			if c == ' ' && len(list) > 0 {
				r.readByte()
			}
			prev := ""
			if len(list)%2 == 1 {
				prev = str(list[len(list)-1]) // the item name of a FETCH pair
			}
			v, err := r.value(depth+1, prev)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
	case '"':
		r.readByte()
		var b strings.Builder
		for {
			c, err := r.readByte()
			if err != nil {
				return nil, err
			}
			switch c {
			case '"':
				return b.String(), nil
			case '\\':
				if c, err = r.readByte(); err != nil {
					return nil, err
				}
			case '\r', '\n':
				return nil, r.errf("line end in a quoted string")
			}
			b.WriteByte(c)
		}
	case '{', '~':
		if c == '~' {
			r.readByte()
		}
		r.readByte()
		num, err := r.upTo('}')
		if err != nil {
			return nil, err
		}
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n < 0 {
			return nil, r.errf("bad literal size %q", short(num))
		}
		streamed := r.sink != nil && depth == 1 && isBodyItem(key)
		if n > r.maxLiteral && !streamed {
			return nil, r.errf("literal of %d bytes over the limit of %d", n, r.maxLiteral)
		}
		if line, err := r.restOfLine(); err != nil || line != "" {
			if err == nil {
				err = r.errf("text after a literal's size")
			}
			return nil, err
		}
		if streamed {
			// A connection cut inside the literal is io.ErrUnexpectedEOF
			// to the sink, never the body's end.
			lr := &literalReader{r: r.br, n: n}
			err := r.sink(key, lr)
			if _, derr := io.Copy(io.Discard, lr); derr != nil {
				return nil, derr
			}
			return "", err
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r.br, b); err != nil {
			return nil, err
		}
		return string(b), nil
	}
	// An atom, which in a response may hold a section with spaces:
	// BODY[HEADER.FIELDS (SUBJECT)]<0>.
	var b strings.Builder
	brackets := 0
	for {
		c, err := r.peek()
		if err != nil {
			return nil, err
		}
		if brackets == 0 && (c == ' ' || c == ')' || c == '(' && b.Len() == 0) || c == '\r' || c == '\n' {
			break
		}
		if c == '[' {
			brackets++
		} else if c == ']' && brackets > 0 {
			brackets--
		}
		r.readByte()
		b.WriteByte(c)
	}
	if b.Len() == 0 {
		return nil, r.errf("empty datum")
	}
	if strings.EqualFold(b.String(), "NIL") {
		return nil, nil
	}
	return b.String(), nil
}

func (r *respReader) upTo(end byte) (string, error) {
	var b strings.Builder
	for {
		c, err := r.readByte()
		if err != nil {
			return "", err
		}
		if c == end {
			return b.String(), nil
		}
		if b.Len() > 20 {
			return "", r.errf("runaway literal size")
		}
		b.WriteByte(c)
	}
}

func isBodyItem(key string) bool {
	k := strings.ToUpper(key)
	return strings.HasPrefix(k, "BODY[") || strings.HasPrefix(k, "BINARY[") || k == "RFC822" || k == "RFC822.TEXT"
}

// String helpers for Fields.

// str returns v as a string ("" for NIL or a list).
func str(v any) string {
	s, _ := v.(string)
	return s
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func num(v any) uint32 {
	n, _ := strconv.ParseUint(str(v), 10, 32)
	return uint32(n)
}
