package nntp

import (
	"bytes"
	"errors"
	"io"
	"strings"
)

// Limits of the article parser.
const (
	DefaultMaxHeaderFields = 500
	DefaultMaxHeaderBytes  = 64 << 10
	maxMessageID           = 250 // RFC 3977 section 3.6
)

// Errors of the article parser.
var (
	ErrHeaderSyntax  = errors.New("nntp: malformed article header")
	ErrHeaderTooLong = errors.New("nntp: article header over the limit")
)

// Field is one header field; Value is as received, a folded field's
// continuation lines joined with CRLF.
type Field struct {
	Name, Value string
}

// Article is a parsed article (RFC 5536): header fields in order, and
// the body after the blank line.
type Article struct {
	Header []Field
	Body   []byte
}

// ParseArticle parses an article whose lines end in CRLF (a bare LF is
// taken too), with at most DefaultMaxHeaderFields fields and
// DefaultMaxHeaderBytes of header. A header line must be "Name: value"
// with a name of printable characters other than ":", or a
// continuation line starting with a space or tab.
func ParseArticle(b []byte) (*Article, error) {
	a := &Article{}
	rest := b
	size := 0
	for {
		if len(rest) == 0 {
			return a, nil // a header and no body
		}
		i := bytes.IndexByte(rest, '\n')
		var line []byte
		if i < 0 {
			line, rest = rest, nil
		} else {
			line, rest = rest[:i], rest[i+1:]
		}
		size += len(line) + 1
		if size > DefaultMaxHeaderBytes {
			return nil, ErrHeaderTooLong
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 {
			a.Body = rest
			return a, nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(a.Header) == 0 {
				return nil, ErrHeaderSyntax
			}
			a.Header[len(a.Header)-1].Value += "\r\n" + string(line)
			continue
		}
		name, value, ok := bytes.Cut(line, []byte{':'})
		if !ok || len(name) == 0 || !validFieldName(name) {
			return nil, ErrHeaderSyntax
		}
		if len(a.Header) >= DefaultMaxHeaderFields {
			return nil, ErrHeaderTooLong
		}
		a.Header = append(a.Header, Field{Name: string(name), Value: strings.TrimPrefix(string(value), " ")})
	}
}

func validFieldName(name []byte) bool {
	for _, c := range name {
		if c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// Get returns the first field named name (any case), unfolded and
// trimmed, or "".
func (a *Article) Get(name string) string {
	for _, f := range a.Header {
		if strings.EqualFold(f.Name, name) {
			return unfold(f.Value)
		}
	}
	return ""
}

// Has reports whether a field named name is present.
func (a *Article) Has(name string) bool {
	for _, f := range a.Header {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// Set replaces every field named name by one with value, where the
// first was, or appends it.
func (a *Article) Set(name, value string) {
	for i, f := range a.Header {
		if strings.EqualFold(f.Name, name) {
			a.Header[i].Value = value
			a.Del(name, i+1)
			return
		}
	}
	a.Header = append(a.Header, Field{Name: name, Value: value})
}

// Prepend puts a field first (Path, as a relaying server does).
func (a *Article) Prepend(name, value string) {
	a.Header = append([]Field{{name, value}}, a.Header...)
}

// Del removes the fields named name from index from on.
func (a *Article) Del(name string, from int) {
	out := a.Header[:from]
	for _, f := range a.Header[from:] {
		if !strings.EqualFold(f.Name, name) {
			out = append(out, f)
		}
	}
	a.Header = out
}

// unfold joins continuation lines with a space and trims the value.
func unfold(v string) string {
	if strings.ContainsAny(v, "\r\n") {
		v = strings.NewReplacer("\r\n", "", "\n", "").Replace(v)
	}
	return strings.TrimSpace(v)
}

// WriteTo writes the article with CRLF line ends, undotted (the caller
// dot-stuffs for the wire).
func (a *Article) WriteTo(w io.Writer) (int64, error) {
	var b bytes.Buffer
	for _, f := range a.Header {
		b.WriteString(f.Name)
		b.WriteString(": ")
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(f.Value, "\r\n", "\n"), "\n", "\r\n"))
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	b.Write(a.Body)
	return b.WriteTo(w)
}

// Bytes returns the article as WriteTo writes it.
func (a *Article) Bytes() []byte {
	var b bytes.Buffer
	a.WriteTo(&b)
	return b.Bytes()
}

// Newsgroups returns the names of the Newsgroups header.
func (a *Article) Newsgroups() []string {
	var out []string
	for _, g := range strings.Split(a.Get("Newsgroups"), ",") {
		if g = strings.TrimSpace(g); g != "" {
			out = append(out, g)
		}
	}
	return out
}

// ValidMessageID reports whether id is a message-id as RFC 3977
// section 3.6 defines it: "<", printable characters without space or
// ">", ">", at most 250 octets.
func ValidMessageID(id string) bool {
	if len(id) < 3 || len(id) > maxMessageID || id[0] != '<' || id[len(id)-1] != '>' {
		return false
	}
	for _, c := range []byte(id[1 : len(id)-1]) {
		if c <= ' ' || c >= 0x7f || c == '>' || c == '<' {
			return false
		}
	}
	return true
}

// ValidGroupName reports whether name is a newsgroup name: RFC 3977
// section 4.1's wildmat-safe characters (letters, digits, "+-_") in
// dot-separated components, at most 200 bytes. The news store creates
// only such groups, and an article naming another is refused.
func ValidGroupName(name string) bool {
	if name == "" || len(name) > 200 || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
		return false
	}
	for _, c := range []byte(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '+', c == '_':
		default:
			return false
		}
	}
	return true
}
