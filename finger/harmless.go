package finger

import "github.com/plumbnet/plumb/internal/termsafe"

// Harmless returns text safe to show on a terminal: tabs and line feeds
// stay, a CR before an LF goes (CRLF becomes LF), every other C0 control
// character and DEL becomes caret notation ("^[" for ESC, "^?" for
// DEL), and C1 controls and bytes that are not UTF-8 become "\xNN".
// Printable UTF-8 passes unchanged. No escape sequence of the input can
// reach the terminal, and the output is valid UTF-8. (It is the filter
// plumb's clients use for every protocol.)
func Harmless(b []byte) []byte { return termsafe.Bytes(b) }
