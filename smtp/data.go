package smtp

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
)

// Policy failures found while reading a message; the rest of the
// message is read and thrown away, then the reply says which.
var (
	errBareNewline     = errors.New("smtp: bare CR or LF in message")
	errMessageTooLarge = errors.New("smtp: message too large")
	errDataLineTooLong = errors.New("smtp: message line too long")
	errBdatAborted     = errors.New("smtp: BDAT transfer aborted")
)

// States of the DATA reader, at the start of a line and after CR.
const (
	stBeginLine = iota // after CRLF
	stData             // inside a line
	stCR               // after CR inside a line
	stDot              // after a dot that began a line
	stDotCR            // after CR that followed that dot
)

// dataReader reads a DATA message up to CRLF.CRLF and undoes dot
// stuffing (RFC 5321 section 4.5.2). Unlike textproto.DotReader it takes
// no bare LF or bare CR for a line end: those fail the message, so
// "\n.\n", "\r.\r" or "\n.\r\n" never end it (SMTP smuggling), and the
// reader keeps consuming to the real end so the session stays in step.
type dataReader struct {
	r        *bufio.Reader
	maxSize  int64
	maxLine  int
	deadline func()

	state  int
	size   int64
	line   int
	err    error // first policy failure; the message is then only drained
	netErr error
	done   bool
}

func (d *dataReader) Read(p []byte) (int, error) {
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

func (d *dataReader) fill() error {
	d.deadline()
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
func (d *dataReader) step(c byte) (byte, bool) {
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
			d.fail(errBareNewline, c)
			return 0, false
		default:
			out, emit, d.state = c, true, stData
		}
	case stData:
		switch c {
		case '\r':
			d.state = stCR
		case '\n':
			d.fail(errBareNewline, c)
			return 0, false
		}
		out, emit = c, true
	case stCR:
		if c != '\n' {
			d.fail(errBareNewline, c)
			return 0, false
		}
		out, emit, d.state = c, true, stBeginLine
	case stDot:
		switch c {
		case '\r':
			d.state = stDotCR
		case '\n':
			d.fail(errBareNewline, c)
			return 0, false
		default: // the stuffed dot is dropped
			out, emit, d.state = c, true, stData
		}
	case stDotCR:
		if c != '\n' {
			d.fail(errBareNewline, c)
			return 0, false
		}
		d.done = true
		return 0, false
	}
	if emit {
		d.size++
		d.line++
		if d.size > d.maxSize {
			d.fail(errMessageTooLarge, c)
			return 0, false
		}
		if d.line > d.maxLine {
			d.fail(errDataLineTooLong, c)
			return 0, false
		}
	}
	return out, emit
}

// fail records err and puts the reader in the drain state in which c
// is taken as ordinary data, so only a true CRLF.CRLF ends the message.
func (d *dataReader) fail(err error, c byte) {
	if d.err == nil {
		d.err = err
	}
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

// finish reads what is left of the message, after a policy failure or a
// backend that stopped reading early. It fails only on a network error.
func (d *dataReader) finish() error {
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

func (c *Conn) handleData(arg string) {
	if arg != "" {
		c.reply(501, EnhancedCode{5, 5, 4}, "DATA takes no argument")
		return
	}
	if c.tx != nil && c.tx.bdat != nil {
		c.reply(503, EnhancedCode{5, 5, 1}, "DATA not allowed during BDAT")
		return
	}
	if !c.readyForData() {
		return
	}
	c.reply(354, NoEnhancedCode, "Start mail input; end with <CRLF>.<CRLF>")
	c.nc.SetWriteDeadline(time.Now().Add(c.srv.writeWait()))
	if err := c.bw.Flush(); err != nil {
		c.quitting = true
		return
	}
	id := newMessageID()
	dr := &dataReader{r: c.br, maxSize: c.srv.maxMessage(), maxLine: c.srv.maxDataLine(),
		deadline: func() { c.nc.SetReadDeadline(time.Now().Add(c.srv.dataWait())) }}
	ctx, cancel := c.backendCtx()
	err := c.session.Data(ctx, io.MultiReader(strings.NewReader(c.received(c.tx, id)), dr))
	cancel()
	if ferr := dr.finish(); ferr != nil {
		c.log.Debug("smtp: connection lost during DATA", "err", ferr)
		c.resetTx()
		c.quitting = true
		return
	}
	c.finishMessage(id, dr.err, err)
}

// finishMessage replies for a whole message: a policy failure of the
// reader first, then the backend's answer.
func (c *Conn) finishMessage(id string, readErr, backendErr error) {
	switch {
	case errors.Is(readErr, errBareNewline):
		c.reply(550, EnhancedCode{5, 5, 2}, "Message contains a bare CR or LF; lines must end with CRLF")
	case errors.Is(readErr, errMessageTooLarge):
		c.reply(552, EnhancedCode{5, 3, 4}, "Message size exceeds fixed limit")
	case errors.Is(readErr, errDataLineTooLong):
		c.reply(500, EnhancedCode{5, 5, 6}, "Message line too long")
	case backendErr != nil:
		c.replyErr(backendErr, "data")
	default:
		c.log.Debug("smtp: message accepted", "id", id, "from", c.tx.from, "rcpts", len(c.tx.rcpts))
		c.reply(250, EnhancedCode{2, 0, 0}, "OK queued as "+id)
	}
	c.resetTx()
}

// bdatState is a CHUNKING transfer in progress: the chunks are piped to
// the backend's Data running in its own goroutine.
type bdatState struct {
	id    string
	pw    *io.PipeWriter
	done  chan error
	size  int64
	check lineEndCheck
}

func (b *bdatState) abort() {
	b.pw.CloseWithError(errBdatAborted)
	<-b.done
}

func (c *Conn) handleBdat(arg string) {
	if c.srv.DisableChunking {
		c.reply(502, EnhancedCode{5, 5, 1}, "BDAT not available")
		return
	}
	f := strings.Fields(arg)
	var size int64
	var err error
	if len(f) >= 1 {
		size, err = strconv.ParseInt(f[0], 10, 64)
	}
	if len(f) < 1 || len(f) > 2 || err != nil || size < 0 || len(f) == 2 && !strings.EqualFold(f[1], "LAST") {
		// Without a size the rest of the stream cannot be framed.
		c.reply(501, EnhancedCode{5, 5, 4}, "Syntax: BDAT size [LAST]; closing connection")
		c.abortTx()
		c.quitting = true
		return
	}
	last := len(f) == 2
	c.nc.SetReadDeadline(time.Now().Add(c.srv.dataWait()))
	if c.tx == nil || len(c.tx.rcpts) == 0 {
		if _, err := io.CopyN(io.Discard, c.br, size); err != nil {
			c.quitting = true
			return
		}
		c.readyForData()
		return
	}
	tx := c.tx
	if tx.bdat == nil {
		pr, pw := io.Pipe()
		b := &bdatState{id: newMessageID(), pw: pw, done: make(chan error, 1)}
		b.check.w = pw
		hdr := c.received(tx, b.id)
		ctx, cancel := c.backendCtx()
		go func() {
			defer cancel()
			err := c.session.Data(ctx, io.MultiReader(strings.NewReader(hdr), pr))
			if err != nil {
				pr.CloseWithError(err)
			} else {
				pr.CloseWithError(io.ErrClosedPipe)
			}
			b.done <- err
		}()
		tx.bdat = b
	}
	b := tx.bdat
	b.size += size
	var policyErr error
	if b.size > c.srv.maxMessage() {
		policyErr = errMessageTooLarge
	}
	// Read the whole chunk whatever happens, so the stream stays framed.
	buf := make([]byte, min(size, 32<<10))
	for rest := size; rest > 0; {
		n, err := c.br.Read(buf[:min(int64(len(buf)), rest)])
		rest -= int64(n)
		if policyErr == nil && n > 0 {
			if _, werr := b.check.Write(buf[:n]); werr != nil {
				policyErr = werr
			}
		}
		if err != nil && rest > 0 {
			c.log.Debug("smtp: connection lost during BDAT", "err", err)
			c.resetTx()
			c.quitting = true
			return
		}
	}
	if policyErr == nil && last && b.check.pendingCR {
		policyErr = errBareNewline
	}
	if policyErr == nil && !last {
		c.reply(250, EnhancedCode{2, 0, 0}, strconv.FormatInt(size, 10)+" octets received")
		return
	}
	tx.bdat = nil
	if policyErr != nil {
		b.pw.CloseWithError(policyErr)
	} else {
		b.pw.Close()
	}
	backendErr := <-b.done
	readErr := policyErr
	if policyErr != nil && !errors.Is(policyErr, errBareNewline) && !errors.Is(policyErr, errMessageTooLarge) {
		// The backend stopped reading early: its answer is the reply.
		readErr = nil
		if backendErr == nil {
			backendErr = ErrTryLater
		}
	}
	c.finishMessage(b.id, readErr, backendErr)
}

// lineEndCheck passes bytes through to w and fails on a CR not followed
// by LF or an LF not preceded by CR, across chunk boundaries.
type lineEndCheck struct {
	w         io.Writer
	pendingCR bool
}

func (l *lineEndCheck) Write(p []byte) (int, error) {
	for i, c := range p {
		if l.pendingCR && c != '\n' || !l.pendingCR && c == '\n' {
			return i, errBareNewline
		}
		l.pendingCR = c == '\r'
	}
	return l.w.Write(p)
}
