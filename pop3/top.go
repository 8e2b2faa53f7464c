package pop3

import (
	"errors"
	"io"
)

// errTopDone stops the copy of a message once TOP has sent its lines.
var errTopDone = errors.New("pop3: TOP lines sent")

// topWriter passes a message on to w up to the end of its header and
// lines more lines of its body (TOP, RFC 1939 §7), and then fails with
// errTopDone. It ends lines where the dot writer behind it does: at LF,
// CRLF, or a lone CR.
type topWriter struct {
	w      io.Writer
	lines  int  // body lines still to pass
	inBody bool // the blank line after the header has passed
	bol    bool // the next byte starts a line
	empty  bool // the current line has no content so far
	cr     bool // the last byte was a CR: an LF now belongs to its line end
}

func (t *topWriter) Write(p []byte) (int, error) {
	for i, b := range p {
		if t.cr {
			t.cr = false
			if b == '\n' {
				continue // the CR already ended the line
			}
		}
		if t.bol {
			if t.inBody {
				if t.lines == 0 {
					n, err := t.w.Write(p[:i])
					if err == nil {
						err = errTopDone
					}
					return n, err
				}
				t.lines--
			}
			t.bol, t.empty = false, true
		}
		switch b {
		case '\r', '\n':
			t.cr = b == '\r'
			t.bol = true
			if t.empty {
				t.inBody = true
			}
		default:
			t.empty = false
		}
	}
	return t.w.Write(p)
}
