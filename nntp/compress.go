package nntp

import (
	"compress/flate"
	"errors"
	"io"
	"strings"
)

// deflateConn is the COMPRESS DEFLATE layer (RFC 8054): raw deflate
// both ways over the connection, flushed at the end of each batch of
// replies.
type deflateConn struct {
	r io.ReadCloser
	w *flate.Writer
}

func (d *deflateConn) Read(p []byte) (int, error)  { return d.r.Read(p) }
func (d *deflateConn) Write(p []byte) (int, error) { return d.w.Write(p) }
func (d *deflateConn) Flush() error                { return d.w.Flush() }

func newDeflate(rw io.ReadWriter) *deflateConn {
	w, _ := flate.NewWriter(rw, flate.DefaultCompression)
	return &deflateConn{r: flate.NewReader(rw), w: w}
}

func (c *conn) cmdCompress(cmd command) error {
	switch {
	case len(cmd.args) != 1 || !strings.EqualFold(cmd.args[0], "DEFLATE"):
		return c.syntax(cmd)
	case c.compress:
		c.reply("502 Compression already active")
		return nil
	case !c.s.compressSlot():
		// compress/flate's writer holds about 800 KiB at any level
		// (its hash tables are fixed arrays), so sessions under
		// COMPRESS are counted.
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
	c.rw = newDeflate(c.rw)
	return nil
}
