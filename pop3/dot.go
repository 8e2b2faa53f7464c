package pop3

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"sync"
)

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 32<<10) }}

// writeMessage writes the message r holds as a POP3 multi-line body:
// every line end (CRLF or a bare LF) sent as CRLF, lines starting with
// "." given another ".", a CRLF added if the message does not end with
// a line end, and the final ".". With bodyLines >= 0 only the header,
// the blank line and that many body lines are sent (TOP).
func writeMessage(w *bufio.Writer, r io.Reader, bodyLines int) error {
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() { br.Reset(nil); readerPool.Put(br) }()
	var (
		inBody    bool
		atStart   = true  // the next byte starts a line
		empty     = true  // the current line has no content so far
		pendingCR = false // a CR held back at a buffer end: it may be half of CRLF
	)
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			complete := chunk[len(chunk)-1] == '\n'
			content := chunk
			if complete {
				content = bytes.TrimSuffix(chunk[:len(chunk)-1], []byte{'\r'})
				if len(chunk) == 1 && pendingCR {
					pendingCR = false // the held CR was this line end's
				}
			}
			if pendingCR {
				w.WriteByte('\r')
				pendingCR = false
			}
			if atStart {
				if bodyLines >= 0 && inBody {
					if bodyLines == 0 {
						break
					}
					bodyLines--
				}
				if len(content) > 0 && content[0] == '.' {
					w.WriteByte('.')
				}
				empty = true
			}
			if !complete && content[len(content)-1] == '\r' {
				content, pendingCR = content[:len(content)-1], true
			}
			if len(content) > 0 || pendingCR {
				empty = false
			}
			w.Write(content)
			atStart = complete
			if complete {
				w.WriteString("\r\n")
				if empty {
					inBody = true
				}
			}
		}
		if err == io.EOF {
			if pendingCR {
				w.WriteByte('\r')
			}
			if !atStart {
				w.WriteString("\r\n")
			}
			break
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
	}
	_, err := w.WriteString(".\r\n")
	return err
}
