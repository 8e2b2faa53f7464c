package smtp

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/plumbnet/plumb/internal/lifecycle"
	"github.com/plumbnet/plumb/internal/wire"
)

var errBdatAborted = errors.New("smtp: BDAT transfer aborted")

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
	c.nc.SetWriteDeadline(c.srv.writeDeadline())
	if err := c.bw.Flush(); err != nil {
		c.quitting = true
		return
	}
	id := newMessageID()
	dr := wire.NewDotReader(c.br)
	dr.MaxLine, dr.MaxSize = c.srv.maxDataLine(), c.srv.maxMessage()
	dr.Conn, dr.Timeout = c.nc, lifecycle.WireTimeout(c.srv.DataTimeout, DefaultDataTimeout)
	ctx, cancel := c.backendCtx()
	err := c.session.Data(ctx, io.MultiReader(strings.NewReader(c.received(c.tx, id)), dr))
	cancel()
	if ferr := dr.Finish(); ferr != nil {
		c.log.Debug("smtp: connection lost during DATA", "err", ferr)
		c.resetTx()
		c.quitting = true
		return
	}
	c.finishMessage(id, dr.Err(), err)
}

// finishMessage replies for a whole message: a policy failure of the
// reader first, then the backend's answer.
func (c *Conn) finishMessage(id string, readErr, backendErr error) {
	switch {
	case errors.Is(readErr, wire.ErrBareNewline):
		c.reply(550, EnhancedCode{5, 5, 2}, "Message contains a bare CR or LF; lines must end with CRLF")
	case errors.Is(readErr, wire.ErrTooLarge):
		c.reply(552, EnhancedCode{5, 3, 4}, "Message size exceeds fixed limit")
	case errors.Is(readErr, wire.ErrLineTooLong):
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
	id     string
	pw     *io.PipeWriter
	cancel context.CancelFunc // the Data call's context
	done   chan error
	size   int64
	check  lineEndCheck
}

// abort ends the backend's Data, which sees the pipe fail (or its
// context canceled, if it is not reading), and waits for it to return.
func (b *bdatState) abort() {
	b.pw.CloseWithError(errBdatAborted)
	b.cancel()
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
	c.nc.SetReadDeadline(lifecycle.Deadline(lifecycle.Timeout(c.srv.DataTimeout, DefaultDataTimeout)))
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
		ctx, cancel := c.backendCtx()
		b := &bdatState{id: newMessageID(), pw: pw, cancel: cancel, done: make(chan error, 1)}
		b.check.w = pw
		hdr := c.received(tx, b.id)
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
		policyErr = wire.ErrTooLarge
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
		policyErr = wire.ErrBareNewline
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
	if policyErr != nil && !errors.Is(policyErr, wire.ErrBareNewline) && !errors.Is(policyErr, wire.ErrTooLarge) {
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
			return i, wire.ErrBareNewline
		}
		l.pendingCR = c == '\r'
	}
	return l.w.Write(p)
}
