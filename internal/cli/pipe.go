package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Shared by plumb connect and plumb listen: moving bytes between
// standard input/output and a socket.

// copyBufferSize is the buffer for copies the kernel cannot do itself
// (TLS, --crlf, regular files); large, so big transfers take few calls.
const copyBufferSize = 256 << 10

// maxDatagram is the largest UDP payload over IPv4 (65535 - 8 - 20).
const maxDatagram = 65507

// udpLinger is how long a UDP exchange waits for more replies once
// standard input has ended, when --idle does not say.
const udpLinger = time.Second

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, copyBufferSize); return &b }}

// copyStream copies src to dst. Plain sockets and files go through
// io.Copy so the kernel can splice; anything else uses a large buffer.
func copyStream(dst io.Writer, src io.Reader) (int64, error) {
	bp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bp)
	return io.CopyBuffer(dst, src, *bp)
}

// pipeOptions are the piping flags both commands share.
type pipeOptions struct {
	crlf bool          // LF -> CRLF on the way out
	idle time.Duration // close after this long without traffic; 0: never
	// untilPeerCloses ends the session as soon as the peer's side ends,
	// for a person typing at a terminal; otherwise both directions must
	// end, so no input is lost when the peer half-closes first.
	untilPeerCloses bool
}

// sessionError is a failure of the connection itself (reset, timeout),
// as opposed to the local end's standard input or output.
type sessionError struct{ err error }

func (e *sessionError) Error() string { return e.err.Error() }
func (e *sessionError) Unwrap() error { return e.err }

// closeWriter is a connection whose write side can be shut on its own.
type closeWriter interface{ CloseWrite() error }

// closeWrite half-closes conn: a TLS close_notify then the TCP FIN, so
// peers that watch either see the end of our data.
func closeWrite(conn net.Conn) {
	if tc, ok := conn.(*tls.Conn); ok {
		tc.CloseWrite()
		conn = tc.NetConn()
	}
	if cw, ok := conn.(closeWriter); ok {
		cw.CloseWrite()
	}
}

// pipeStream pipes in to conn and conn to out. When in ends, the write
// side of conn is shut and reading goes on until the peer closes.
func pipeStream(ctx context.Context, conn net.Conn, in *stdinFeed, out io.Writer, opt pipeOptions) error {
	var rw net.Conn = conn
	var watch *idleWatch
	if opt.idle > 0 {
		watch = newIdleWatch(conn, opt.idle)
		defer watch.stop()
		rw = watch.wrap(conn)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	sendDone := make(chan error, 1)
	sessionEnd := make(chan struct{})
	go func() {
		var w io.Writer = rw
		if opt.crlf {
			w = &crlfWriter{w: rw}
		}
		err := in.sendTo(w, sessionEnd)
		if err == nil {
			closeWrite(conn)
		}
		sendDone <- err
	}()

	_, recvErr := copyStream(out, rw)
	var sendErr error
	if opt.untilPeerCloses {
		close(sessionEnd)
		if in.shared {
			// The next session must not race this one for the feed.
			conn.Close()
			<-sendDone
		}
	} else {
		sendErr = <-sendDone
		if errors.Is(sendErr, errSessionOver) {
			sendErr = nil
		}
	}
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case watch != nil && watch.fired():
		return &sessionError{errors.New("idle timeout: no traffic for " + opt.idle.String())}
	case recvErr != nil && !isClosedByPeer(recvErr):
		return &sessionError{recvErr}
	case sendErr != nil && !isClosedByPeer(sendErr):
		return &sessionError{sendErr}
	}
	return nil
}

// stdinFeed is standard input as the source of one or more sessions.
// A single session copies it directly, so the kernel can splice; with
// shared set (listen --keep) a reader goroutine hands chunks to one
// session after another, and a chunk a session failed to send goes to
// the next one.
type stdinFeed struct {
	r       io.Reader
	shared  bool
	ended   bool
	once    sync.Once
	ch      chan []byte
	pending []byte
}

func newStdinFeed(r io.Reader, shared bool) *stdinFeed {
	return &stdinFeed{r: r, shared: shared}
}

// errSessionOver ends a shared feed's sending when its session is over.
var errSessionOver = errors.New("session over")

// sendTo copies the feed to w until the feed ends (nil), a write fails,
// or, for a shared feed, done is closed.
func (f *stdinFeed) sendTo(w io.Writer, done <-chan struct{}) error {
	if f.ended {
		return nil
	}
	if !f.shared {
		_, err := copyStream(w, f.r)
		if err == nil {
			f.ended = true
		}
		return err
	}
	f.once.Do(func() {
		f.ch = make(chan []byte, 4)
		go func() {
			defer close(f.ch)
			for {
				b := make([]byte, copyBufferSize)
				n, err := f.r.Read(b)
				if n > 0 {
					f.ch <- b[:n]
				}
				if err != nil {
					return
				}
			}
		}()
	})
	for {
		if f.pending == nil {
			select {
			case b, ok := <-f.ch:
				if !ok {
					f.ended = true
					return nil
				}
				f.pending = b
			case <-done:
				return errSessionOver
			}
		}
		if _, err := w.Write(f.pending); err != nil {
			return err
		}
		f.pending = nil
	}
}

// isTerminal reports whether r is a terminal, where a person types.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// isClosedByPeer reports errors that only mean the peer went away first.
func isClosedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed)
}

// idleWatch closes a connection that has seen no traffic for d.
type idleWatch struct {
	conn net.Conn
	d    time.Duration
	last atomic.Int64 // unix nanoseconds of the last read or write
	fire atomic.Bool
	done chan struct{}
	once sync.Once
}

func newIdleWatch(conn net.Conn, d time.Duration) *idleWatch {
	w := &idleWatch{conn: conn, d: d, done: make(chan struct{})}
	w.touch()
	go w.run()
	return w
}

func (w *idleWatch) touch() { w.last.Store(time.Now().UnixNano()) }

func (w *idleWatch) run() {
	t := time.NewTicker(max(w.d/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-w.done:
			return
		case now := <-t.C:
			if now.Sub(time.Unix(0, w.last.Load())) >= w.d {
				w.fire.Store(true)
				w.conn.Close()
				return
			}
		}
	}
}

func (w *idleWatch) fired() bool { return w.fire.Load() }
func (w *idleWatch) stop()       { w.once.Do(func() { close(w.done) }) }

// wrap returns conn with every read and write counted as traffic.
func (w *idleWatch) wrap(conn net.Conn) net.Conn { return &watchedConn{Conn: conn, w: w} }

type watchedConn struct {
	net.Conn
	w *idleWatch
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.w.touch()
	return n, err
}

func (c *watchedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.w.touch()
	return n, err
}

// crlfWriter turns each LF not already preceded by CR into CRLF, across
// writes, for typing at text protocols by hand.
type crlfWriter struct {
	w      io.Writer
	lastCR bool
	buf    []byte
}

func (c *crlfWriter) Write(p []byte) (int, error) {
	c.buf = c.buf[:0]
	for _, b := range p {
		if b == '\n' && !c.lastCR {
			c.buf = append(c.buf, '\r')
		}
		c.buf = append(c.buf, b)
		c.lastCR = b == '\r'
	}
	if _, err := c.w.Write(c.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}
