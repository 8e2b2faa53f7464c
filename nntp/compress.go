package nntp

import (
	"compress/flate"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
)

// deflateConn is the COMPRESS DEFLATE layer (RFC 8054): raw deflate
// both ways over the connection, flushed at the end of each batch of
// replies.
//
// compress/flate's writer holds about 800 KiB (its hash tables are
// fixed arrays, at any level), so a session holds one only from the
// first byte of a batch of replies to its flush, taken from a pool.
// Each batch is then deflate blocks that refer to nothing before
// them, after a sync flush that ended the previous batch on a byte
// boundary without a final block: one valid stream, as zlib's
// Z_FULL_FLUSH makes ("the receiving peer does not need to do
// anything", RFC 4978 section 4, whose scheme RFC 8054 takes over).
// The cost is that a batch cannot refer to earlier ones. The reader,
// an inflater of our own (inflate.go: compress/flate's waits for ever
// on a peer that flushes with Z_PARTIAL_FLUSH, as INN does), is ~37
// KiB, mostly the 32 KiB window the peer may refer to at any time, and
// lives as long as the session.
type deflateConn struct {
	r    io.Reader
	dst  io.Writer
	w    *flate.Writer   // nil between batches
	sem  chan struct{}   // bounds the writers held at once; nil: no bound
	ctx  context.Context // the session's, ending a wait for a writer
	wait time.Duration   // longest wait for a writer; 0: no bound
}

var flateWriters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.DefaultCompression)
	return w
}}

// errCompressBusy ends a session that waited too long for a writer.
var errCompressBusy = errors.New("nntp: no compressor free in time")

func (d *deflateConn) Read(p []byte) (int, error) { return d.r.Read(p) }

func (d *deflateConn) Write(p []byte) (int, error) {
	if d.w == nil {
		if d.sem != nil {
			ctx, cancel := d.ctx, context.CancelFunc(func() {})
			if d.wait > 0 {
				ctx, cancel = context.WithTimeout(ctx, d.wait)
			}
			defer cancel()
			select {
			case d.sem <- struct{}{}:
			case <-ctx.Done():
				return 0, errCompressBusy
			}
		}
		d.w = flateWriters.Get().(*flate.Writer)
		d.w.Reset(d.dst)
	}
	return d.w.Write(p)
}

// Flush ends the batch: a sync flush, and the writer back to the pool.
func (d *deflateConn) Flush() error {
	if d.w == nil {
		return nil
	}
	err := d.w.Flush()
	d.release()
	return err
}

// release gives the writer back without flushing (the session is over).
func (d *deflateConn) release() {
	if d.w == nil {
		return
	}
	d.w.Reset(nil)
	flateWriters.Put(d.w)
	d.w = nil
	if d.sem != nil {
		<-d.sem
	}
}

// newDeflate layers COMPRESS over rw, for a client.
func newDeflate(rw io.ReadWriter) *deflateConn {
	return &deflateConn{r: newInflater(rw), dst: rw}
}

func (c *conn) cmdCompress(cmd command) error {
	switch {
	case len(cmd.args) != 1 || !strings.EqualFold(cmd.args[0], "DEFLATE"):
		return c.syntax(cmd)
	case c.compress:
		c.reply("502 Compression already active")
		return nil
	case !c.s.compressSlot():
		// each session under COMPRESS keeps its peer's window (~40
		// KiB), so they are counted.
		c.s.logger().Info("nntp: COMPRESS refused, too many compressed sessions", "remote", c.remote())
		c.reply("403 Too many compressed sessions, try again later")
		return nil
	}
	c.compress = true // holds the slot until the session ends
	c.reply("206 Compression active")
	if err := c.flush(); err != nil {
		return err
	}
	if c.br.Buffered() > 0 {
		// RFC 8054 section 2.2: the client waits for 206; anything it
		// sent before is not compressed and cannot be taken as such.
		return errors.New("nntp: data after COMPRESS before its reply")
	}
	d := newDeflate(c.rw)
	// A session that waits as long as a write may take for one of
	// the MaxCompressWriters writers ends.
	d.sem, d.ctx, d.wait = c.s.compressWriters(), c.ctx, lifecycle.Timeout(c.s.WriteTimeout, DefaultWriteTimeout)
	c.rw = d
	return nil
}
