package imap

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/plumbnet/plumb/internal/wire"
)

// Errors of the command parser besides wire.ErrSyntax.
var (
	// errLiteralTooLarge is a literal over its limit; for a synchronizing
	// one nothing was sent yet and the session goes on.
	errLiteralTooLarge = errors.New("literal too large")
	// errTooDeep is a search program or list nested past MaxNesting.
	errTooDeep = fmt.Errorf("%w: nested too deeply", wire.ErrSyntax)
)

// MaxNesting bounds parentheses in a command (search keys, lists).
const MaxNesting = 32

// literalMinus is the largest non-synchronizing literal LITERAL-
// allows (RFC 7888 section 4).
const literalMinus = 4096

// A parser reads one command the way RFC 9051's grammar is written. It
// wraps a wire.Decoder over the command's current line; a literal makes
// it read the literal's bytes and then the line that follows. Errors are
// sticky, as the Decoder's are.
type parser struct {
	dec  *wire.Decoder
	line string // the current line, for skipping what follows an error

	br *bufio.Reader
	lr *wire.Reader
	// cont asks the client for a synchronizing literal ("+ ...").
	cont func() error
	// deadline bounds the read of an n-byte literal.
	deadline func(n int64)
	// maxLiteral bounds a string literal; budget is what the command
	// may still hold in memory in all its literals.
	maxLiteral int64
	budget     int64
	// plus is LITERAL+: a non-synchronizing literal of any size.
	plus bool

	err   error
	depth int
}

func newParser(line string) *parser {
	return &parser{dec: wire.NewDecoder(line), line: line, maxLiteral: 64 << 10, budget: 1 << 20, plus: true}
}

// Err returns the first error.
func (p *parser) Err() error {
	if p.err != nil {
		return p.err
	}
	return p.dec.Err()
}

func (p *parser) ok() bool { return p.err == nil && p.dec.Err() == nil }

func (p *parser) fail(err error) bool {
	if p.err == nil && p.dec.Err() == nil {
		p.err = err
	}
	return false
}

func (p *parser) failf(format string, args ...any) bool {
	return p.fail(fmt.Errorf("%w: "+format, append([]any{wire.ErrSyntax}, args...)...))
}

func (p *parser) peek(s string) bool {
	return p.ok() && len(p.dec.Rest()) >= len(s) && strings.EqualFold(p.dec.Rest()[:len(s)], s)
}

func (p *parser) sp() bool              { return p.ok() && p.dec.ExpectSP() }
func (p *parser) maybeSP() bool         { return p.ok() && p.dec.SP() }
func (p *parser) expect(s string) bool  { return p.ok() && p.dec.Expect(s) }
func (p *parser) atom(s *string) bool   { return p.ok() && p.dec.ExpectAtom(s) }
func (p *parser) end() bool             { return p.ok() && p.dec.End() }
func (p *parser) atEnd() bool           { return p.ok() && p.dec.Rest() == "" }
func (p *parser) maybe(s string) bool   { return p.peek(s) && p.dec.Expect(s) }
func (p *parser) quoted(s *string) bool { return p.ok() && p.dec.Quoted(s) }
func (p *parser) literalNext(n *int64, nonSync *bool) bool {
	return p.ok() && p.dec.Literal(n, nonSync)
}

// number consumes an nz-number or number that fits in 32 bits.
func (p *parser) number(n *uint32) bool {
	var v uint64
	if !p.ok() || !p.dec.ExpectNumber(&v) {
		return false
	}
	if v > 1<<32-1 {
		return p.failf("number out of range")
	}
	*n = uint32(v)
	return true
}

func (p *parser) number64(n *uint64) bool { return p.ok() && p.dec.ExpectNumber(n) }

// span consumes a run of atoms and the extra characters extra (which
// atoms exclude: "]" for astrings, "%*]" for list-mailbox, "*" for
// sequence sets).
func (p *parser) span(extra string) string {
	var b strings.Builder
	for p.ok() {
		var a string
		if p.dec.Atom(&a) {
			b.WriteString(a)
			continue
		}
		r := p.dec.Rest()
		if k := utf8Run(r); k > 0 {
			// UTF-8 in an atom: IMAP4rev2 clients send it unquoted.
			b.WriteString(r[:k])
			p.dec.Expect(r[:k])
			continue
		}
		if r != "" && strings.IndexByte(extra, r[0]) >= 0 {
			b.WriteByte(r[0])
			p.dec.Expect(r[:1])
			continue
		}
		break
	}
	return b.String()
}

// utf8Run returns how many bytes at the start of s are non-ASCII.
func utf8Run(s string) int {
	k := 0
	for k < len(s) && s[k] >= 0x80 {
		k++
	}
	return k
}

// astring consumes an astring: atom (with "]"), quoted string or literal.
func (p *parser) astring(s *string) bool {
	if !p.ok() {
		return false
	}
	if p.dec.Quoted(s) {
		return true
	}
	var n int64
	var nonSync bool
	if p.dec.Literal(&n, &nonSync) {
		b, ok := p.readLiteral(n, nonSync)
		*s = string(b)
		return ok
	}
	if a := p.span("]"); a != "" {
		*s = a
		return true
	}
	return p.failf("want a string at %q", short(p.dec.Rest()))
}

// nilOrAstring consumes NIL or an astring; NIL gives ok with isNil.
func (p *parser) string(s *string) bool {
	if !p.ok() {
		return false
	}
	if p.dec.Quoted(s) {
		return true
	}
	var n int64
	var nonSync bool
	if p.dec.Literal(&n, &nonSync) {
		b, ok := p.readLiteral(n, nonSync)
		*s = string(b)
		return ok
	}
	return p.failf("want a quoted string or literal")
}

func short(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}

// checkLiteral refuses a literal over limit, or a non-synchronizing
// one over LITERAL-'s limit when only LITERAL- is offered.
func (p *parser) checkLiteral(n, limit int64, nonSync bool) bool {
	if n > limit || nonSync && !p.plus && n > literalMinus {
		return p.fail(fmt.Errorf("%w: %d bytes", errLiteralTooLarge, n))
	}
	return true
}

// readLiteral reads an n-byte string literal into memory, and the line
// after it.
func (p *parser) readLiteral(n int64, nonSync bool) ([]byte, bool) {
	if !p.checkLiteral(n, min(p.maxLiteral, p.budget), nonSync) {
		return nil, false
	}
	p.budget -= n
	r, ok := p.literal(n, nonSync)
	if !ok {
		return nil, false
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, p.fail(connError{err})
	}
	return b, p.nextLine()
}

// literal starts an n-byte literal: it asks for it if it is
// synchronizing and returns a reader of its bytes. The caller reads
// them all and then calls nextLine.
func (p *parser) literal(n int64, nonSync bool) (io.Reader, bool) {
	if p.br == nil {
		return nil, p.failf("literal without a connection")
	}
	if !nonSync && p.cont != nil {
		if err := p.cont(); err != nil {
			return nil, p.fail(connError{err})
		}
	}
	if p.deadline != nil {
		p.deadline(n)
	}
	return &literalReader{r: p.br, n: n}, true
}

// literalReader reads the n bytes of a literal. A connection that ends
// before all n came is io.ErrUnexpectedEOF, never a short literal taken
// for whole: APPEND must not store the half of a message.
type literalReader struct {
	r io.Reader
	n int64 // bytes still to come
}

func (l *literalReader) Read(b []byte) (int, error) {
	if l.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > l.n {
		b = b[:l.n]
	}
	n, err := l.r.Read(b)
	l.n -= int64(n)
	if l.n > 0 && err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if l.n == 0 && err == nil {
		err = io.EOF
	}
	return n, err
}

// nextLine reads the line that follows a literal and decodes on in it.
func (p *parser) nextLine() bool {
	line, err := p.lr.ReadLine()
	if err != nil {
		return p.fail(connError{err})
	}
	p.line = line
	p.dec.Continue(line)
	return true
}

// trailingLiteral reports the literal announced at the end of line.
func trailingLiteral(line string) (n int64, nonSync, ok bool) {
	if !strings.HasSuffix(line, "}") {
		return 0, false, false
	}
	i := strings.LastIndexByte(line, '{')
	if i < 0 {
		return 0, false, false
	}
	num := line[i+1 : len(line)-1]
	if strings.HasSuffix(num, "+") || strings.HasSuffix(num, "-") {
		num, nonSync = num[:len(num)-1], true
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil || v < 0 {
		return 0, false, false
	}
	return v, nonSync, true
}

// skip throws away what the client still sends of a command refused
// mid-way: non-synchronizing literals announced at the end of its lines
// and the lines after them, at most limit bytes in all. A synchronizing
// one is never sent, since the client waits for "+".
func (p *parser) skip(limit int64) error {
	for {
		n, nonSync, ok := trailingLiteral(p.line)
		if !ok || !nonSync {
			return nil
		}
		if n > limit {
			return errLiteralTooLarge
		}
		limit -= n
		if p.deadline != nil {
			p.deadline(n)
		}
		if _, err := io.CopyN(io.Discard, p.br, n); err != nil {
			return err
		}
		line, err := p.lr.ReadLine()
		if err != nil {
			return err
		}
		p.line = line
	}
}

// mailbox consumes a mailbox name, decoded to UTF-8, INBOX in any case
// as "INBOX".
func (p *parser) mailbox(name *string) bool {
	var s string
	if !p.astring(&s) {
		return false
	}
	if strings.EqualFold(s, "INBOX") {
		*name = "INBOX"
		return true
	}
	d, err := DecodeMailboxName(s)
	if err != nil {
		return p.failf("%v", err)
	}
	*name = d
	return true
}

// listMailbox consumes LIST's pattern: list-mailbox, with % and *.
func (p *parser) listMailbox(s *string) bool {
	if !p.ok() {
		return false
	}
	if p.peek("\"") || p.peek("{") {
		return p.astring(s)
	}
	v := p.span("%*]")
	if v == "" {
		return p.failf("want a mailbox pattern")
	}
	*s = v
	return true
}

// seqSet consumes a sequence set.
func (p *parser) seqSet(set *SeqSet) bool {
	if !p.ok() {
		return false
	}
	s := p.span("*$")
	if s == "" {
		return p.failf("want a sequence set")
	}
	v, err := ParseSeqSet(s)
	if err != nil {
		return p.failf("%v", err)
	}
	*set = v
	return true
}

// list consumes "(" elem *(SP elem) ")", or "()" when empty is true.
func (p *parser) list(empty bool, elem func() bool) bool {
	if !p.expect("(") {
		return false
	}
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > MaxNesting {
		return p.fail(errTooDeep)
	}
	if empty && p.maybe(")") {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if p.maybe(")") {
			return true
		}
		if !p.sp() {
			return false
		}
	}
}

// flag consumes a flag: "\" atom, or a keyword atom.
func (p *parser) flag(f *string) bool {
	if !p.ok() {
		return false
	}
	var a string
	if p.maybe(`\`) {
		if p.maybe("*") {
			*f = `\*`
			return true
		}
		if !p.atom(&a) {
			return false
		}
		*f = canonicalFlag(`\` + a)
		return true
	}
	if !p.atom(&a) {
		return false
	}
	*f = a
	return true
}

// flagList consumes "(" [flag *(SP flag)] ")".
func (p *parser) flagList(flags *[]string) bool {
	return p.list(true, func() bool {
		var f string
		if !p.flag(&f) {
			return false
		}
		*flags = append(*flags, f)
		return true
	})
}

// canonicalFlag spells a system flag as the RFC does.
func canonicalFlag(f string) string {
	for _, s := range []string{FlagSeen, FlagAnswered, FlagFlagged, FlagDeleted, FlagDraft, FlagRecent} {
		if strings.EqualFold(f, s) {
			return s
		}
	}
	return f
}

// dateTimeLayout is date-time without the quotes (RFC 9051 section 9).
const dateTimeLayout = "_2-Jan-2006 15:04:05 -0700"

// dateTime consumes a quoted date-time.
func (p *parser) dateTime(t *time.Time) bool {
	var s string
	if !p.ok() || !p.dec.ExpectQuoted(&s) {
		return false
	}
	v, err := time.Parse(dateTimeLayout, s)
	if err != nil {
		return p.failf("bad date-time %q", s)
	}
	*t = v
	return true
}

// date consumes SEARCH's date: d-Mon-yyyy, quoted or not.
func (p *parser) date(t *time.Time) bool {
	var s string
	if !p.ok() {
		return false
	}
	if !p.dec.Quoted(&s) && !p.atom(&s) {
		return false
	}
	v, err := time.Parse("_2-Jan-2006", strings.TrimLeft(s, " "))
	if err != nil {
		if v, err = time.Parse("2-Jan-2006", s); err != nil {
			return p.failf("bad date %q", s)
		}
	}
	*t = v
	return true
}
