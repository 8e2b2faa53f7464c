package wire

import (
	"errors"
	"fmt"
	"strings"
)

// DefaultMaxToken bounds a token of a Decoder whose MaxToken is zero.
const DefaultMaxToken = 4096

var (
	// ErrSyntax is a line that does not follow the grammar. The errors
	// a Decoder returns wrap it, with what was wanted and where; their
	// text is safe to send to the peer.
	ErrSyntax = errors.New("syntax error")
	// ErrTokenTooLong is a token over Decoder.MaxToken; it wraps ErrSyntax.
	ErrTokenTooLong = fmt.Errorf("%w: token too long", ErrSyntax)
)

// A Decoder parses one line (and, through Continue, the lines that
// follow an IMAP literal) token by token, in the grammar's own words:
//
//	if !dec.ExpectAtom(&tag) || !dec.ExpectSP() || !dec.ExpectAtom(&verb) {
//		return dec.Err()
//	}
//
// The Expect methods fail when what the grammar wants is not there; the
// others (SP, Atom, Number, Quoted, Literal) report false without an
// error when it is absent, so a handler can try alternatives. The first
// error is sticky: every later call returns false and Err keeps it.
type Decoder struct {
	// MaxToken bounds an atom, word, number or quoted string, in bytes;
	// 0 means DefaultMaxToken.
	MaxToken int

	line string
	pos  int
	err  error
}

// NewDecoder returns a Decoder of line, without its line end.
func NewDecoder(line string) *Decoder { return &Decoder{line: line} }

// Err returns the first error, or nil.
func (d *Decoder) Err() error { return d.err }

// Rest returns what is left of the line.
func (d *Decoder) Rest() string { return d.line[d.pos:] }

// Continue goes on decoding line, the one that followed a literal,
// keeping the error if there was one.
func (d *Decoder) Continue(line string) { d.line, d.pos = line, 0 }

func (d *Decoder) maxToken() int {
	if d.MaxToken <= 0 {
		return DefaultMaxToken
	}
	return d.MaxToken
}

func (d *Decoder) fail(format string, args ...any) bool {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at column %d", ErrSyntax, fmt.Sprintf(format, args...), d.pos+1)
	}
	return false
}

func (d *Decoder) tooLong(what string) bool {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at column %d over %d bytes", ErrTokenTooLong, what, d.pos+1, d.maxToken())
	}
	return false
}

func (d *Decoder) peek() (byte, bool) {
	if d.err != nil || d.pos >= len(d.line) {
		return 0, false
	}
	return d.line[d.pos], true
}

// SP consumes one space if there is one.
func (d *Decoder) SP() bool {
	if c, ok := d.peek(); ok && c == ' ' {
		d.pos++
		return true
	}
	return false
}

// ExpectSP consumes one space, or fails.
func (d *Decoder) ExpectSP() bool {
	if d.err != nil {
		return false
	}
	return d.SP() || d.fail("want SP")
}

// Expect consumes s, compared without regard to ASCII case (the
// keywords of IMAP, NNTP and SMTP are case-insensitive), or fails.
func (d *Decoder) Expect(s string) bool {
	if d.err != nil {
		return false
	}
	if len(d.line)-d.pos < len(s) || !strings.EqualFold(d.line[d.pos:d.pos+len(s)], s) {
		return d.fail("want %q", s)
	}
	d.pos += len(s)
	return true
}

// IsAtomChar reports whether c may appear in an atom: RFC 9051's
// ATOM-CHAR, any visible ASCII character but the atom-specials
// ( ) { % * " \ ].
func IsAtomChar(c byte) bool {
	return c > ' ' && c < 0x7f && !strings.ContainsRune(`(){%*"\]`, rune(c))
}

// span consumes the longest run of bytes that ok accepts, at most
// MaxToken of them; ok is false when the run is longer.
func (d *Decoder) span(accept func(byte) bool) (string, bool) {
	start, max := d.pos, d.maxToken()
	for d.pos < len(d.line) && accept(d.line[d.pos]) {
		if d.pos-start == max {
			d.pos = start
			return "", false
		}
		d.pos++
	}
	return d.line[start:d.pos], true
}

// Atom consumes an atom into *p if one starts here.
func (d *Decoder) Atom(p *string) bool {
	if c, ok := d.peek(); !ok || !IsAtomChar(c) {
		return false
	}
	s, ok := d.span(IsAtomChar)
	if !ok {
		return d.tooLong("atom")
	}
	*p = s
	return true
}

// ExpectAtom consumes an atom into *p, or fails.
func (d *Decoder) ExpectAtom(p *string) bool {
	if d.err != nil {
		return false
	}
	return d.Atom(p) || d.fail("want an atom")
}

// isWordChar accepts any byte but SP, HTAB and the other controls: the
// arguments of NNTP and SMTP commands (RFC 3977 section 3.1), UTF-8
// included.
func isWordChar(c byte) bool { return c > ' ' && c != 0x7f }

// ExpectWord consumes a run of bytes other than SP and controls into
// *p, or fails.
func (d *Decoder) ExpectWord(p *string) bool {
	if c, ok := d.peek(); !ok || !isWordChar(c) {
		return d.err == nil && d.fail("want a word")
	}
	s, ok := d.span(isWordChar)
	if !ok {
		return d.tooLong("word")
	}
	*p = s
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// Number consumes a decimal number into *p if one starts here; one
// that overflows fails.
func (d *Decoder) Number(p *uint64) bool {
	if c, ok := d.peek(); !ok || !isDigit(c) {
		return false
	}
	start := d.pos
	s, ok := d.span(isDigit)
	if !ok {
		return d.tooLong("number")
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		v := uint64(s[i] - '0')
		if n > (1<<64-1-v)/10 {
			d.pos = start
			return d.fail("number out of range")
		}
		n = n*10 + v
	}
	*p = n
	return true
}

// ExpectNumber consumes a decimal number into *p, or fails.
func (d *Decoder) ExpectNumber(p *uint64) bool {
	if d.err != nil {
		return false
	}
	return d.Number(p) || d.fail("want a number")
}

// Quoted consumes a quoted string (RFC 9051's quoted: DQUOTE, any byte
// but CR, LF and NUL with " and \ escaped by \, DQUOTE) into *p,
// unescaped, if one starts here. An unterminated or badly escaped one
// fails.
func (d *Decoder) Quoted(p *string) bool {
	if c, ok := d.peek(); !ok || c != '"' {
		return false
	}
	start, max := d.pos, d.maxToken()
	var b strings.Builder
	for d.pos++; d.pos < len(d.line); d.pos++ {
		c := d.line[d.pos]
		switch c {
		case '"':
			d.pos++
			*p = b.String()
			return true
		case '\\':
			d.pos++
			if d.pos == len(d.line) || d.line[d.pos] != '"' && d.line[d.pos] != '\\' {
				return d.fail("bad escape in quoted string")
			}
			c = d.line[d.pos]
		case '\r', '\n', 0:
			return d.fail("control character in quoted string")
		}
		if b.Len() == max {
			d.pos = start
			return d.tooLong("quoted string")
		}
		b.WriteByte(c)
	}
	d.pos = start
	return d.fail("unterminated quoted string")
}

// ExpectQuoted consumes a quoted string into *p, or fails.
func (d *Decoder) ExpectQuoted(p *string) bool {
	if d.err != nil {
		return false
	}
	return d.Quoted(p) || d.fail("want a quoted string")
}

// Literal consumes an IMAP literal's announcement, "{n}" or "{n+}"
// (RFC 9051 section 4.3, RFC 7888), if it ends the line here; *size is
// n and *nonSync tells "+". The caller then reads the n bytes (after a
// continuation request unless nonSync), reads the next line, and hands
// it to Continue.
func (d *Decoder) Literal(size *int64, nonSync *bool) bool {
	if c, ok := d.peek(); !ok || c != '{' {
		return false
	}
	start := d.pos
	d.pos++
	var n uint64
	if !d.ExpectNumber(&n) {
		return false
	}
	plus := d.pos < len(d.line) && d.line[d.pos] == '+'
	if plus {
		d.pos++
	}
	if d.pos >= len(d.line) || d.line[d.pos] != '}' || d.pos+1 != len(d.line) {
		d.pos = start
		return d.fail("want {n} at the end of the line")
	}
	if n > 1<<62 {
		d.pos = start
		return d.fail("literal too large")
	}
	d.pos++
	*size, *nonSync = int64(n), plus
	return true
}

// End reports whether the whole line has been decoded, and fails if not.
func (d *Decoder) End() bool {
	if d.err != nil {
		return false
	}
	if d.pos != len(d.line) {
		return d.fail("want the end of the line")
	}
	return true
}
