// Package termsafe makes text from the network safe to show on a
// terminal: no escape sequence a server (or a user's .plan) sends can
// reach it. The finger server and the finger and gopher clients use it.
package termsafe

import (
	"fmt"
	"io"
	"unicode/utf8"
)

// Bytes returns text safe to show on a terminal: tabs and line feeds
// stay, a CR before an LF goes (CRLF becomes LF), every other C0 control
// character and DEL becomes caret notation ("^[" for ESC, "^?" for
// DEL), and C1 controls and bytes that are not UTF-8 become "\xNN".
// Printable UTF-8 passes unchanged. No escape sequence of the input can
// reach the terminal, and the output is valid UTF-8.
func Bytes(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '\t' || c == '\n':
			out = append(out, c)
			i++
		case c == '\r' && i+1 < len(b) && b[i+1] == '\n':
			i++
		case c < 0x20:
			out = append(out, '^', c+'@')
			i++
		case c == 0x7f:
			out = append(out, '^', '?')
			i++
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n <= 1 || r >= 0x80 && r < 0xa0 {
				// An invalid byte, or a C1 control (CSI is U+009B): shown
				// byte by byte.
				for _, x := range b[i : i+max(n, 1)] {
					out = fmt.Appendf(out, `\x%02X`, x)
				}
				i += max(n, 1)
				continue
			}
			out = append(out, b[i:i+n]...)
			i += n
		}
	}
	return out
}

// String is Bytes for a string.
func String(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\n' || c >= 0x7f {
			return string(Bytes([]byte(s)))
		}
	}
	return s // plain printable ASCII: unchanged, not copied
}

// Writer writes what is written to it through Bytes, to W. A CR or an
// incomplete UTF-8 sequence at the end of a write is held for the next
// one, so that the result does not depend on how the text is cut;
// Flush writes what is held at the end.
type Writer struct {
	W    io.Writer
	held []byte
}

// Write makes p harmless and writes it.
func (w *Writer) Write(p []byte) (int, error) {
	b := append(w.held, p...)
	keep := tail(b)
	w.held = append([]byte(nil), b[len(b)-keep:]...)
	if _, err := w.W.Write(Bytes(b[:len(b)-keep])); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes what Write held back.
func (w *Writer) Flush() error {
	if len(w.held) == 0 {
		return nil
	}
	_, err := w.W.Write(Bytes(w.held))
	w.held = nil
	return err
}

// tail is how many bytes at the end of b may change meaning with what
// comes next: a CR (an LF would drop it), or the start of a UTF-8
// sequence not complete yet.
func tail(b []byte) int {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return 1
	}
	for k := 1; k <= utf8.UTFMax-1 && k <= len(b); k++ {
		c := b[len(b)-k]
		if c < utf8.RuneSelf {
			return 0
		}
		if utf8.RuneStart(c) {
			if !utf8.FullRune(b[len(b)-k:]) {
				return k
			}
			return 0
		}
	}
	return 0
}
