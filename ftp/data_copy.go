package ftp

import (
	"bufio"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
)

// Transfer sizes: a large buffer per running transfer (none per idle
// session), and the chunk size of zero-copy sends, between which the
// byte count for STAT, the stall deadline and the daemon's idle mark
// are updated: small enough that a slow client still moving bytes (64
// KiB/s, say) finishes a chunk well within any of them.
const (
	transferBufSize = 256 << 10
	sendfileChunk   = 256 << 10
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, transferBufSize); return &b }}

// sendData copies a file to the data connection: the size bytes it had
// when opened, as the 150 reply announced, or less if it shrank. A
// binary transfer of an *os.File to a connection that reads from files
// itself (a *net.TCPConn, or a wrapper of AdmitDataConn's that delegates
// to one) goes through sendfile(2), with no call past the last byte;
// TLS and ASCII transfers are copied through a buffer.
func (s *session) sendData(x *transfer, c net.Conn, r io.Reader, size int64, ascii bool) error {
	timeout := s.srv.dataTimeout()
	if f, ok := r.(*os.File); ok && !ascii {
		if _, ok := c.(io.ReaderFrom); ok {
			for size > 0 {
				c.SetWriteDeadline(lifecycle.Deadline(timeout))
				n, err := io.CopyN(c, f, min(size, sendfileChunk))
				x.bytes.Add(n)
				size -= n
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return err
				}
				if err := x.ctx.Err(); err != nil {
					return err
				}
			}
			return nil
		}
	}
	r = io.LimitReader(r, size)
	if ascii {
		r = &asciiEncoder{r: r}
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for {
		n, err := r.Read(buf)
		if n > 0 {
			c.SetWriteDeadline(lifecycle.Deadline(timeout))
			if _, werr := c.Write(buf[:n]); werr != nil {
				return werr
			}
			x.bytes.Add(int64(n))
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &storeError{err} // reading the file failed
		}
	}
}

// storeError is an error of the file, not of the data connection: an
// upload over quota or on a full disk, an I/O error reading or writing.
// It is answered as the file operation's failure, not as a broken
// transfer.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// receiveData copies the data connection into an upload until the
// client closes it. An error of the upload is returned as a *storeError.
func (s *session) receiveData(x *transfer, c net.Conn, up io.Writer, ascii bool) error {
	timeout := s.srv.dataTimeout()
	var dec *asciiDecoder
	dst := up
	if ascii {
		dec = &asciiDecoder{w: up}
		dst = dec
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for {
		c.SetReadDeadline(lifecycle.Deadline(timeout))
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return &storeError{werr}
			}
			x.bytes.Add(int64(n))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if dec != nil {
		if err := dec.flush(); err != nil {
			return &storeError{err}
		}
	}
	return nil
}

// deadlineWriter buffers a listing and refreshes the stall deadline on
// every write that reaches the connection.
type deadlineWriter struct {
	*bufio.Writer
}

type connDeadline struct {
	c       net.Conn
	timeout time.Duration
	x       *transfer
}

func (w connDeadline) Write(p []byte) (int, error) {
	w.c.SetWriteDeadline(lifecycle.Deadline(w.timeout))
	n, err := w.c.Write(p)
	w.x.bytes.Add(int64(n))
	return n, err
}

func newDeadlineWriter(c net.Conn, timeout time.Duration, x *transfer) deadlineWriter {
	return deadlineWriter{bufio.NewWriterSize(connDeadline{c, timeout, x}, 32<<10)}
}

// asciiEncoder reads a file as TYPE A sends it: every LF not already
// preceded by CR becomes CRLF (RFC 959 3.1.1.1).
type asciiEncoder struct {
	r      io.Reader
	in     []byte
	outBuf []byte
	out    []byte // converted bytes not yet returned
	lastCR bool
	err    error
}

func (a *asciiEncoder) Read(p []byte) (int, error) {
	for len(a.out) == 0 {
		if a.err != nil {
			return 0, a.err
		}
		if a.in == nil {
			a.in = make([]byte, 32<<10)
		}
		n, err := a.r.Read(a.in)
		a.err = err
		out := a.outBuf[:0]
		for _, b := range a.in[:n] {
			if b == '\n' && !a.lastCR {
				out = append(out, '\r')
			}
			out = append(out, b)
			a.lastCR = b == '\r'
		}
		a.outBuf, a.out = out, out
	}
	n := copy(p, a.out)
	a.out = a.out[n:]
	return n, nil
}

// asciiDecoder writes TYPE A data as stored: CRLF becomes LF; a lone
// CR is kept. A CR at the end of one write waits for the next.
type asciiDecoder struct {
	w      io.Writer
	out    []byte
	heldCR bool
}

func (a *asciiDecoder) Write(p []byte) (int, error) {
	out := a.out[:0]
	for _, b := range p {
		if a.heldCR {
			a.heldCR = false
			if b != '\n' {
				out = append(out, '\r')
			}
		}
		if b == '\r' {
			a.heldCR = true
			continue
		}
		out = append(out, b)
	}
	a.out = out
	if _, err := a.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// flush writes a CR held back at the end of the data.
func (a *asciiDecoder) flush() error {
	if a.heldCR {
		a.heldCR = false
		_, err := a.w.Write([]byte{'\r'})
		return err
	}
	return nil
}
