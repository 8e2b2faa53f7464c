package httpfs

import (
	"io"
	"sync"
	"time"
)

// bufferedLogMax is how many bytes a BufferedLog gathers before it
// writes them out whatever the time.
const bufferedLogMax = 64 << 10

// BufferedLog is an io.Writer for Server.AccessLog that gathers the
// lines and writes them to the writer under it in batches: when 64 KiB
// are waiting, Every after the first line waiting, on Flush and on
// Close. A file access log then costs one write(2) per batch instead of
// one per request; a line reaches the file at most Every late, and the
// lines waiting when the process dies are lost (an access log is not
// something a client was told is stored).
type BufferedLog struct {
	w     io.Writer
	every time.Duration

	mu     sync.Mutex
	buf    []byte
	timer  *time.Timer
	armed  bool
	closed bool
	err    error // the first write error, reported by Flush and Close
}

// NewBufferedLog buffers writes to w for at most every (0: a second).
func NewBufferedLog(w io.Writer, every time.Duration) *BufferedLog {
	if every <= 0 {
		every = time.Second
	}
	l := &BufferedLog{w: w, every: every}
	l.timer = time.AfterFunc(time.Hour, func() { l.Flush() })
	l.timer.Stop()
	return l
}

// Write keeps a copy of p to write later; after Close it writes at once.
func (l *BufferedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return l.w.Write(p)
	}
	l.buf = append(l.buf, p...)
	if len(l.buf) >= bufferedLogMax {
		l.flushLocked()
	} else if !l.armed {
		l.armed = true
		l.timer.Reset(l.every)
	}
	return len(p), nil
}

// Flush writes what is waiting.
func (l *BufferedLog) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushLocked()
	return l.err
}

func (l *BufferedLog) flushLocked() {
	l.armed = false
	l.timer.Stop()
	if len(l.buf) == 0 {
		return
	}
	if _, err := l.w.Write(l.buf); err != nil && l.err == nil {
		l.err = err
	}
	if cap(l.buf) > 4*bufferedLogMax {
		l.buf = nil
	} else {
		l.buf = l.buf[:0]
	}
}

// Close writes what is waiting and closes the writer under it if it is
// an io.Closer.
func (l *BufferedLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushLocked()
	l.closed = true
	err := l.err
	if c, ok := l.w.(io.Closer); ok {
		if cerr := c.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
