package plumbtest

import (
	"bytes"
	"sync"
)

// maxLogBytes bounds the daemon's log a server keeps: when it grows
// past this, the older half goes.
const maxLogBytes = 1 << 20

// logBuffer keeps the daemon's latest log lines in memory, to show them
// when a test fails. Writing to the test's log as lines come would
// panic for a line logged after the test returned.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	dropped bool
}

func newLogBuffer() *logBuffer { return &logBuffer{} }

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if l.buf.Len() > maxLogBytes {
		b := l.buf.Bytes()
		cut := len(b) / 2
		if i := bytes.IndexByte(b[cut:], '\n'); i >= 0 {
			cut += i + 1
		}
		rest := bytes.Clone(b[cut:])
		l.buf.Reset()
		l.buf.Write(rest)
		l.dropped = true
	}
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dropped {
		return "(earlier lines dropped)\n" + l.buf.String()
	}
	return l.buf.String()
}
