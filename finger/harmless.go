package finger

import (
	"fmt"
	"unicode/utf8"
)

// Harmless returns text safe to show on a terminal: tabs and line feeds
// stay, a CR before an LF goes (CRLF becomes LF), every other C0 control
// character and DEL becomes caret notation ("^[" for ESC, "^?" for
// DEL), and C1 controls and bytes that are not UTF-8 become "\xNN".
// Printable UTF-8 passes unchanged. No escape sequence of the input can
// reach the terminal, and the output is valid UTF-8.
func Harmless(b []byte) []byte {
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
