package httpfs

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// countingWriter counts the writes it gets.
type countingWriter struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
	closed bool
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	return w.b.Write(p)
}

func (w *countingWriter) Close() error { w.closed = true; return nil }

func (w *countingWriter) state() (string, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String(), w.writes
}

// TestBufferedLog: lines wait until Flush, the size bound or Close, and
// go out in one write; Close closes the file under it.
func TestBufferedLog(t *testing.T) {
	var w countingWriter
	l := NewBufferedLog(&w, time.Hour)
	l.Write([]byte("one\n"))
	l.Write([]byte("two\n"))
	if got, _ := w.state(); got != "" {
		t.Fatalf("written before a flush: %q", got)
	}
	l.Flush()
	if got, n := w.state(); got != "one\ntwo\n" || n != 1 {
		t.Fatalf("after Flush: %q in %d writes, want both lines in one", got, n)
	}
	line := []byte(strings.Repeat("x", 1023) + "\n")
	for range bufferedLogMax / len(line) {
		l.Write(line)
	}
	if got, n := w.state(); n != 2 || len(got) != 8+bufferedLogMax {
		t.Fatalf("after %d bytes: %d bytes in %d writes, want a flush at the bound", bufferedLogMax, len(got), n)
	}
	l.Write([]byte("last\n"))
	if err := l.Close(); err != nil || !w.closed {
		t.Fatalf("Close = %v, closed %v", err, w.closed)
	}
	if got, _ := w.state(); !strings.HasSuffix(got, "last\n") {
		t.Fatalf("Close did not flush: ...%q", got[len(got)-10:])
	}
}

// TestBufferedLogTimer: a line is written out by itself Every after it came.
func TestBufferedLogTimer(t *testing.T) {
	var w countingWriter
	l := NewBufferedLog(&w, time.Millisecond)
	defer l.Close()
	l.Write([]byte("soon\n"))
	testkit.Eventually(t, 5*time.Second, "the line written by the timer", func() bool {
		got, _ := w.state()
		return got == "soon\n"
	})
}

// TestAccessLogEscapes: quotes, backslashes and control bytes a client
// sends are escaped, so one request is one line that cannot be forged.
func TestAccessLogEscapes(t *testing.T) {
	f := newCacheFixture(t, 0)
	var log bytes.Buffer
	f.s.AccessLog = &log
	req, _ := http.NewRequest("GET", "/nothing", nil)
	req.RemoteAddr = "127.0.0.1:4000"
	req.RequestURI = "/nothing"
	req.Header.Set("User-Agent", "a\"b\\c\x01\n\x7fd")
	req.SetBasicAuth("u\"", "p")
	f.s.ServeHTTP(&bodyWriter{discardWriter: discardWriter{h: http.Header{}}}, req)
	line := log.String()
	if !strings.HasPrefix(line, `127.0.0.1 - u\" [`) || !strings.HasSuffix(line, `"GET /nothing HTTP/1.1" 404 14 "" "a\"b\\c\x01\x0a\x7fd"`+"\n") {
		t.Errorf("access log line %q", line)
	}
	if strings.Count(line, "\n") != 1 {
		t.Errorf("%d lines for one request", strings.Count(line, "\n"))
	}
}

func BenchmarkSmallFileAccessLog(b *testing.B) {
	s := benchServer(b, map[string]int{"small.txt": 1024})
	s.AccessLog = NewBufferedLog(io.Discard, 0)
	benchGet(b, s, "/small.txt", "User-Agent", "wrk", "Referer", "http://example.com/")
}
