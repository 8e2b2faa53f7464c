package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"time"
)

// Defaults for a Reader's zero-valued fields.
const (
	DefaultMaxLine     = 4096    // bytes, line end included
	DefaultMaxDiscard  = 1 << 20 // bytes DiscardLine throws away at most
	DefaultIdleTimeout = 5 * time.Minute
	DefaultLineTimeout = time.Minute
)

// Errors of the readers. They are sentinels: match them with errors.Is.
var (
	// ErrLineTooLong is a line over the limit. Reader.ReadLine has read
	// at most MaxLine bytes of it; the rest is still unread.
	ErrLineTooLong = errors.New("wire: line too long")
	// ErrBareNewline is a CR not followed by LF, or an LF not preceded
	// by CR, where the protocol wants CRLF.
	ErrBareNewline = errors.New("wire: bare CR or LF")
	// ErrTooLarge is a dot-terminated block over DotReader.MaxSize.
	ErrTooLarge = errors.New("wire: block too large")
)

// A ReadDeadliner is the part of a net.Conn that the readers use to
// bound waits.
type ReadDeadliner interface {
	SetReadDeadline(t time.Time) error
}

// A Reader reads the lines of a line protocol. Set its fields before
// the first read; it is not safe for concurrent use.
type Reader struct {
	// MaxLine bounds a line, its line end included; 0 means DefaultMaxLine.
	MaxLine int
	// MaxDiscard bounds what DiscardLine throws away; 0 means DefaultMaxDiscard.
	MaxDiscard int
	// Lenient ends a line at LF and drops one CR before it; a CR
	// elsewhere is data. Otherwise every line must end in CRLF and a
	// bare CR or LF is ErrBareNewline.
	Lenient bool

	// Conn, if set, is the connection under the bufio.Reader, usually
	// the net.Conn itself: the Reader sets its read deadline so that the
	// wait for the first byte of a line lasts at most IdleTimeout and the
	// whole line then arrives within LineTimeout. Nil: the Reader sets
	// no deadline (a client setting its own per command).
	Conn ReadDeadliner
	// IdleTimeout bounds the wait for a line to start; 0 means
	// DefaultIdleTimeout, negative means no limit.
	IdleTimeout time.Duration
	// LineTimeout bounds the time from the first byte of a line to its
	// end; 0 means DefaultLineTimeout, negative means no limit.
	LineTimeout time.Duration

	br      *bufio.Reader
	buf     []byte
	partial bool // the last ReadLine failed inside a line
}

// NewReader returns a Reader of the lines br holds.
func NewReader(br *bufio.Reader) *Reader { return &Reader{br: br} }

// Reset makes r read from br, keeping its settings: after STARTTLS, a
// server drops the old buffer, and whatever the client sent in clear
// behind the command with it. It also lets go of the buffer its
// longest line grew, so a session that goes quiet for long holds little.
func (r *Reader) Reset(br *bufio.Reader) { r.br, r.buf = br, nil }

// Buffered returns the number of bytes already read from the
// connection but not yet returned.
func (r *Reader) Buffered() int { return r.br.Buffered() }

func (r *Reader) maxLine() int {
	if r.MaxLine <= 0 {
		return DefaultMaxLine
	}
	return r.MaxLine
}

// timeout applies the house rule: 0 is def, negative is none (0).
func timeout(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

func setDeadline(c ReadDeadliner, d time.Duration) {
	if c == nil {
		return
	}
	var t time.Time
	if d > 0 {
		t = time.Now().Add(d)
	}
	c.SetReadDeadline(t)
}

// startLine waits, within the idle timeout, for the first byte of a
// line and then starts the line timeout.
func (r *Reader) startLine() error {
	if r.Conn == nil {
		return nil
	}
	if r.br.Buffered() == 0 {
		setDeadline(r.Conn, timeout(r.IdleTimeout, DefaultIdleTimeout))
		if _, err := r.br.Peek(1); err != nil {
			return err
		}
	}
	setDeadline(r.Conn, timeout(r.LineTimeout, DefaultLineTimeout))
	return nil
}

// fill waits for more bytes; an end of stream inside a line is
// io.ErrUnexpectedEOF.
func (r *Reader) fill(inLine bool) error {
	if r.br.Buffered() > 0 {
		return nil
	}
	_, err := r.br.Peek(1)
	if err == io.EOF && inLine {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// ReadLine reads one line and returns it without its line end. At the
// end of the stream before a line starts it returns io.EOF; inside a
// line, io.ErrUnexpectedEOF. A line over MaxLine is ErrLineTooLong,
// with exactly MaxLine bytes of it consumed: call DiscardLine to skip
// the rest. In strict mode a bare CR or LF is ErrBareNewline, the line
// consumed up to its LF.
func (r *Reader) ReadLine() (string, error) {
	b, err := r.readLine()
	if err != nil {
		return "", err
	}
	s := string(b)
	if cap(r.buf) > 64<<10 {
		r.buf = nil // do not keep a large buffer for a rare long line
	}
	return s, nil
}

// Partial reports whether the last ReadLine failed inside a line, having
// consumed the part of it that had come: after a timeout, a session that
// would otherwise wait on cannot, because that part is lost.
func (r *Reader) Partial() bool { return r.partial }

func (r *Reader) readLine() ([]byte, error) {
	r.partial = false
	if err := r.startLine(); err != nil {
		return nil, err
	}
	max := r.maxLine()
	r.buf = r.buf[:0]
	for {
		if err := r.fill(len(r.buf) > 0); err != nil {
			r.partial = len(r.buf) > 0
			return nil, err
		}
		chunk, _ := r.br.Peek(r.br.Buffered())
		if room := max - len(r.buf); len(chunk) > room {
			chunk = chunk[:room]
		}
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
			r.buf = append(r.buf, chunk[:i+1]...)
			r.br.Discard(i + 1)
			return r.trim(r.buf)
		}
		r.buf = append(r.buf, chunk...)
		r.br.Discard(len(chunk))
		if len(r.buf) >= max {
			return nil, ErrLineTooLong
		}
	}
}

// trim removes the line end of line (which ends in LF), checking it in
// strict mode.
func (r *Reader) trim(line []byte) ([]byte, error) {
	line = line[:len(line)-1]
	if r.Lenient {
		return bytes.TrimSuffix(line, []byte{'\r'}), nil
	}
	if len(line) == 0 || line[len(line)-1] != '\r' {
		return nil, ErrBareNewline
	}
	line = line[:len(line)-1]
	if bytes.IndexByte(line, '\r') >= 0 {
		return nil, ErrBareNewline
	}
	return line, nil
}

// DiscardLine reads and throws away the rest of a line that ReadLine
// found too long, up to and including its LF, so that the session can
// answer and read the next command. It reads at most MaxDiscard bytes
// and within the deadline the line started with; a line longer still
// is ErrLineTooLong again, and the connection is best closed.
func (r *Reader) DiscardLine() error {
	limit := r.MaxDiscard
	if limit <= 0 {
		limit = DefaultMaxDiscard
	}
	for n := 0; ; {
		if err := r.fill(true); err != nil {
			return err
		}
		chunk, _ := r.br.Peek(r.br.Buffered())
		if len(chunk) > limit-n {
			chunk = chunk[:limit-n]
		}
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
			r.br.Discard(i + 1)
			return nil
		}
		r.br.Discard(len(chunk))
		if n += len(chunk); n >= limit {
			return ErrLineTooLong
		}
	}
}

// ReadDotLine reads one line of a dot-terminated multi-line block
// (RFC 1939 section 3, RFC 3977 section 3.1.1) with the stuffed dot
// removed; at the terminating "." line it returns io.EOF. An end of the
// stream before that is io.ErrUnexpectedEOF.
func (r *Reader) ReadDotLine() (string, error) {
	line, err := r.ReadLine()
	switch {
	case err == io.EOF:
		return "", io.ErrUnexpectedEOF
	case err != nil:
		return "", err
	case line == ".":
		return "", io.EOF
	}
	return strings.TrimPrefix(line, "."), nil
}
