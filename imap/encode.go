package imap

import (
	"bufio"
	"strconv"
	"strings"
)

// An encoder writes the data forms of responses (RFC 9051 section 4):
// atoms, numbers, strings as quoted or literal, NIL, lists.
type encoder struct {
	*bufio.Writer
	// utf8 allows UTF-8 in quoted strings (IMAP4rev2, UTF8=ACCEPT).
	utf8 bool
}

func (e *encoder) sp()           { e.WriteByte(' ') }
func (e *encoder) num(n uint32)  { e.WriteString(strconv.FormatUint(uint64(n), 10)) }
func (e *encoder) num64(n int64) { e.WriteString(strconv.FormatInt(n, 10)) }
func (e *encoder) atom(s string) { e.WriteString(s) }
func (e *encoder) crlf()         { e.WriteString("\r\n") }
func (e *encoder) open()         { e.WriteByte('(') }
func (e *encoder) close()        { e.WriteByte(')') }

// quotable reports whether s can go out as a quoted string.
func quotable(s string, utf8 bool) bool {
	if len(s) > 1000 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' || c == 0 || c >= 0x80 && !utf8 {
			return false
		}
	}
	return true
}

// str writes s as a quoted string, or as a literal when it cannot be one.
func (e *encoder) str(s string) {
	if quotable(s, e.utf8) {
		e.WriteByte('"')
		for i := 0; i < len(s); i++ {
			if s[i] == '"' || s[i] == '\\' {
				e.WriteByte('\\')
			}
			e.WriteByte(s[i])
		}
		e.WriteByte('"')
		return
	}
	e.literal([]byte(s))
}

// nstr writes s, or NIL when it is empty.
func (e *encoder) nstr(s string) {
	if s == "" {
		e.WriteString("NIL")
		return
	}
	e.str(s)
}

// astr writes s as an atom when it is one, else as a string.
func (e *encoder) astr(s string) {
	if s != "" && isAtom(s) && !strings.EqualFold(s, "NIL") {
		e.WriteString(s)
		return
	}
	e.str(s)
}

func (e *encoder) literal(b []byte) {
	e.WriteByte('{')
	e.WriteString(strconv.Itoa(len(b)))
	e.WriteString("}\r\n")
	e.Write(b)
}

// mailbox writes a mailbox name: UTF-8 under IMAP4rev2, modified UTF-7 otherwise.
func (e *encoder) mailbox(name string) {
	if !e.utf8 {
		name = EncodeMailboxName(name)
	}
	e.astr(name)
}

func (e *encoder) flags(flags []string) {
	e.open()
	for i, f := range flags {
		if i > 0 {
			e.sp()
		}
		e.atom(f)
	}
	e.close()
}

func isAtom(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAtomChar(s[i]) {
			return false
		}
	}
	return true
}

func isAtomChar(c byte) bool {
	return c > ' ' && c < 0x7f && !strings.ContainsRune(`(){%*"\]`, rune(c))
}
