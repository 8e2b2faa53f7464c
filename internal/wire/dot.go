package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"time"
)

// Defaults for a DotReader's zero-valued fields.
const (
	DefaultMaxDotLine = 64 << 10 // bytes of one line, CRLF included
	DefaultMaxDotSize = 32 << 20 // bytes of a block, stuffing undone
	DefaultDotTimeout = 10 * time.Minute
)

var errWriteAfterClose = errors.New("wire: write after Close")

// dotWriter is NewDotWriter's writer.
type dotWriter struct {
	w      *bufio.Writer
	stuff  bool // a dot-terminated block, not only CRLF line ends
	bol    bool // the next byte starts a line
	cr     bool // the last byte written was a CR, its LF not yet seen
	closed bool
	err    error // the first write error; bufio.Writer keeps it too
}

// NewDotWriter returns a writer of a dot-terminated block on w: a line
// starting with "." gets another (RFC 5321 section 4.5.2), every line
// end (CRLF, a bare LF, a lone CR) goes out as CRLF, and Close ends the
// last line if it needs it, writes ".\r\n" and flushes. What it writes
// therefore always reads back through a strict DotReader.
func NewDotWriter(w io.Writer) io.WriteCloser {
	bw, ok := w.(*bufio.Writer)
	if !ok {
		bw = bufio.NewWriter(w)
	}
	return &dotWriter{w: bw, stuff: true, bol: true}
}

// NewCRLFWriter returns a writer that only makes every line end CRLF,
// as NewDotWriter does, with no dot stuffing and no terminator: for a
// body sent with a byte count (SMTP BDAT, RFC 3030). Close completes a
// last lone CR and flushes; it adds no line end otherwise.
func NewCRLFWriter(w io.Writer) io.WriteCloser {
	bw, ok := w.(*bufio.Writer)
	if !ok {
		bw = bufio.NewWriter(w)
	}
	return &dotWriter{w: bw, bol: true}
}

func (d *dotWriter) Write(p []byte) (int, error) {
	if d.closed {
		return 0, errWriteAfterClose
	}
	i := 0
	for i < len(p) && d.err == nil {
		if d.cr {
			d.cr, d.bol = false, true
			d.putByte('\n') // the CR's own LF, or one for a lone CR
			if p[i] == '\n' {
				i++
				continue
			}
		}
		if d.stuff && d.bol && p[i] == '.' {
			d.putByte('.')
		}
		d.bol = false
		j := bytes.IndexAny(p[i:], "\r\n")
		if j < 0 {
			d.put(p[i:])
			i = len(p)
			break
		}
		d.put(p[i : i+j])
		i += j
		if p[i] == '\r' {
			d.putByte('\r')
			d.cr = true
		} else {
			d.put(crlf)
			d.bol = true
		}
		i++
	}
	if d.err != nil {
		return 0, d.err
	}
	return i, nil
}

var crlf = []byte("\r\n")

func (d *dotWriter) put(b []byte) {
	if _, err := d.w.Write(b); err != nil && d.err == nil {
		d.err = err
	}
}

func (d *dotWriter) putByte(b byte) {
	if err := d.w.WriteByte(b); err != nil && d.err == nil {
		d.err = err
	}
}

// Close ends the block (or the last line) and flushes.
func (d *dotWriter) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	switch {
	case !d.stuff:
		if d.cr {
			d.putByte('\n')
		}
	case d.cr:
		d.put([]byte("\n.\r\n"))
	case d.bol:
		d.put([]byte(".\r\n"))
	default:
		d.put([]byte("\r\n.\r\n"))
	}
	if d.err != nil {
		return d.err
	}
	return d.w.Flush()
}

// States of the DotReader, at the start of a line and after CR.
const (
	stBeginLine = iota // after CRLF
	stData             // inside a line
	stCR               // after CR inside a line
	stDot              // after a dot that began a line
	stDotCR            // after CR that followed that dot
)

// A DotReader reads a dot-terminated block up to CRLF "." CRLF and
// undoes dot stuffing (RFC 5321 section 4.5.2, RFC 3977 section 3.1.1,
// RFC 1939 section 3). Unlike textproto.DotReader it takes no bare LF
// or bare CR for a line end: those fail the block with ErrBareNewline,
// so "\n.\n", "\r.\r" or "\n.\r\n" never end it (SMTP smuggling).
//
// On a policy failure (ErrBareNewline, ErrLineTooLong, ErrTooLarge)
// Read returns the error and Finish reads on to the real end, so the
// session stays in step and can reply. Set the fields before the first
// Read.
type DotReader struct {
	// MaxLine bounds a line, CRLF included and a stuffed dot not; 0 means
	// DefaultMaxDotLine, negative means no limit.
	MaxLine int
	// MaxSize bounds the block with its stuffing undone; 0 means
	// DefaultMaxDotSize, negative means no limit.
	MaxSize int64
	// Conn, if set, gets a read deadline Timeout ahead before each wait
	// for more of the block. Nil: no deadline is set.
	Conn ReadDeadliner
	// Timeout bounds each wait for more of the block; 0 means
	// DefaultDotTimeout, negative means no limit.
	Timeout time.Duration

	r      *bufio.Reader
	state  int
	size   int64
	line   int
	err    error // first policy failure; the block is then only drained
	netErr error
	done   bool
}

// NewDotReader returns a DotReader of the block br holds next.
func NewDotReader(br *bufio.Reader) *DotReader { return &DotReader{r: br} }

// Err returns the policy failure found so far, if any.
func (d *DotReader) Err() error { return d.err }

// Size returns the bytes of the block read so far, stuffing undone.
func (d *DotReader) Size() int64 { return d.size }

func (d *DotReader) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if d.netErr != nil {
		return 0, d.netErr
	}
	if d.done {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && !d.done && d.err == nil {
		if d.r.Buffered() == 0 {
			if n > 0 {
				break
			}
			if err := d.fill(); err != nil {
				return 0, err
			}
		}
		buf, _ := d.r.Peek(d.r.Buffered())
		i := 0
		for i < len(buf) && n < len(p) && !d.done && d.err == nil {
			c := buf[i]
			i++
			if out, ok := d.step(c); ok {
				p[n] = out
				n++
			}
		}
		d.r.Discard(i)
	}
	if d.err != nil {
		return n, d.err
	}
	if d.done && n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (d *DotReader) fill() error {
	setDeadline(d.Conn, timeout(d.Timeout, DefaultDotTimeout))
	if _, err := d.r.Peek(1); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		d.netErr = err
		return err
	}
	return nil
}

// step advances the state machine by c and returns the byte to pass on, if any.
func (d *DotReader) step(c byte) (byte, bool) {
	out, emit := byte(0), false
	switch d.state {
	case stBeginLine:
		d.line = 0
		switch c {
		case '.':
			d.state = stDot
		case '\r':
			out, emit, d.state = c, true, stCR
		case '\n':
			d.failBare(c)
			return 0, false
		default:
			out, emit, d.state = c, true, stData
		}
	case stData:
		switch c {
		case '\r':
			d.state = stCR
		case '\n':
			d.failBare(c)
			return 0, false
		}
		out, emit = c, true
	case stCR:
		if c != '\n' {
			d.failBare(c)
			return 0, false
		}
		out, emit, d.state = c, true, stBeginLine
	case stDot:
		switch c {
		case '\r':
			d.state = stDotCR
		case '\n':
			d.failBare(c)
			return 0, false
		default: // the stuffed dot is dropped
			out, emit, d.state = c, true, stData
		}
	case stDotCR:
		if c != '\n' {
			d.failBare(c)
			return 0, false
		}
		d.done = true
		return 0, false
	}
	if emit {
		d.size++
		d.line++
		if d.MaxSize >= 0 && d.size > orInt(d.MaxSize, DefaultMaxDotSize) {
			d.fail(ErrTooLarge)
			return 0, false
		}
		if d.MaxLine >= 0 && d.line > orInt(d.MaxLine, DefaultMaxDotLine) {
			d.fail(ErrLineTooLong)
			return 0, false
		}
	}
	return out, emit
}

func orInt[T int | int64](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// fail records err; the block is then only drained. The state has
// already taken in the byte that broke the limit.
func (d *DotReader) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// failBare records a bare CR or LF and takes c as ordinary data, so
// only a true CRLF.CRLF ends the block.
func (d *DotReader) failBare(c byte) {
	d.fail(ErrBareNewline)
	d.state = drainStep(stData, c)
}

// drainStep is the state machine without policy: it only finds CRLF.CRLF.
func drainStep(state int, c byte) int {
	switch {
	case c == '\r' && state == stDot:
		return stDotCR
	case c == '\r':
		return stCR
	case c == '\n' && state == stCR:
		return stBeginLine
	case c == '.' && state == stBeginLine:
		return stDot
	}
	return stData
}

// Finish reads what is left of the block, after a policy failure or a
// consumer that stopped reading early, up to its end marker. It fails
// only when the stream does (io.ErrUnexpectedEOF, a timeout); a policy
// failure found on the way is left for Err.
func (d *DotReader) Finish() error {
	for !d.done {
		if d.netErr != nil {
			return d.netErr
		}
		if d.r.Buffered() == 0 {
			if err := d.fill(); err != nil {
				return err
			}
		}
		buf, _ := d.r.Peek(d.r.Buffered())
		i := 0
		for i < len(buf) && !d.done {
			c := buf[i]
			i++
			if d.err != nil {
				if d.state == stDotCR && c == '\n' {
					d.done = true
					break
				}
				d.state = drainStep(d.state, c)
				continue
			}
			d.step(c)
		}
		d.r.Discard(i)
	}
	return nil
}
