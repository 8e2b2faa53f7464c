package wire

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

func newTestReader(in string, max int, lenient bool) *Reader {
	r := NewReader(bufio.NewReaderSize(strings.NewReader(in), 16))
	r.MaxLine, r.Lenient = max, lenient
	return r
}

func TestReadLine(t *testing.T) {
	for _, tt := range []struct {
		in      string
		lenient bool
		want    []string // lines, then the error's text
		err     error
	}{
		{in: "a\r\nbc\r\n", want: []string{"a", "bc"}, err: io.EOF},
		{in: "\r\n\r\n", want: []string{"", ""}, err: io.EOF},
		{in: "a\nb\r\n", want: nil, err: ErrBareNewline},
		{in: "a\rb\r\n", want: nil, err: ErrBareNewline},
		{in: "a\r\r\n", want: nil, err: ErrBareNewline},
		{in: "a\r\nb", want: []string{"a"}, err: io.ErrUnexpectedEOF},
		{in: "a\nb\r\nc\r", lenient: true, want: []string{"a", "b"}, err: io.ErrUnexpectedEOF},
		{in: "a\rb\n\n", lenient: true, want: []string{"a\rb", ""}, err: io.EOF},
		{in: "a\r\r\n", lenient: true, want: []string{"a\r"}, err: io.EOF},
		{in: "12345678\r\n", want: []string{"12345678"}, err: io.EOF}, // exactly MaxLine
		{in: "123456789\r\n", err: ErrLineTooLong},
		{in: "123456789\n", lenient: true, want: []string{"123456789"}, err: io.EOF},
	} {
		r := newTestReader(tt.in, 10, tt.lenient)
		var got []string
		var err error
		for {
			var l string
			if l, err = r.ReadLine(); err != nil {
				break
			}
			got = append(got, l)
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || !errors.Is(err, tt.err) {
			t.Errorf("ReadLine() of %q (lenient %v) = %q, %v; want %q, %v", tt.in, tt.lenient, got, err, tt.want, tt.err)
		}
	}
}

func TestLineTooLongThenDiscard(t *testing.T) {
	in := strings.Repeat("x", 100) + "\r\nNOOP\r\n" + strings.Repeat("y", 500) + "\r\nQUIT\r\n"
	src := strings.NewReader(in)
	r := NewReader(bufio.NewReaderSize(src, 16))
	r.MaxLine, r.MaxDiscard = 10, 200
	if _, err := r.ReadLine(); !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("ReadLine() of a 102-byte line = %v, want ErrLineTooLong", err)
	}
	if consumed := len(in) - src.Len() - r.Buffered(); consumed != 10 {
		t.Errorf("ReadLine() consumed %d bytes of a too-long line, want 10", consumed)
	}
	if err := r.DiscardLine(); err != nil {
		t.Fatalf("DiscardLine() = %v, want nil", err)
	}
	if l, err := r.ReadLine(); l != "NOOP" || err != nil {
		t.Fatalf("ReadLine() after DiscardLine = %q, %v; want NOOP", l, err)
	}
	r.ReadLine()
	if err := r.DiscardLine(); !errors.Is(err, ErrLineTooLong) {
		t.Errorf("DiscardLine() of 490 bytes with MaxDiscard 200 = %v, want ErrLineTooLong", err)
	}
}

func TestReadDotLine(t *testing.T) {
	r := newTestReader("+OK\r\n..dot\r\nplain\r\n.\r\nnext\r\n", 100, false)
	r.ReadLine()
	var got []string
	for {
		l, err := r.ReadDotLine()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("ReadDotLine() = %v", err)
		}
		got = append(got, l)
	}
	if strings.Join(got, "|") != ".dot|plain" {
		t.Errorf("ReadDotLine() lines = %q, want [.dot plain]", got)
	}
	if l, _ := r.ReadLine(); l != "next" {
		t.Errorf("ReadLine() after the block = %q, want next", l)
	}
	r = newTestReader("a\r\n", 100, false)
	r.ReadDotLine()
	if _, err := r.ReadDotLine(); err != io.ErrUnexpectedEOF {
		t.Errorf("ReadDotLine() at the end of the stream = %v, want io.ErrUnexpectedEOF", err)
	}
}

// pipeReader is a server-side Reader on one end of a net.Pipe.
func pipeReader(t *testing.T) (*Reader, net.Conn) {
	t.Helper()
	server, client := net.Pipe()
	t.Cleanup(func() { server.Close(); client.Close() })
	r := NewReader(bufio.NewReader(server))
	r.Conn = server
	return r, client
}

func TestIdleTimeout(t *testing.T) {
	r, _ := pipeReader(t)
	r.IdleTimeout = 50 * time.Millisecond
	start := time.Now()
	_, err := r.ReadLine()
	if !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("ReadLine() with nothing sent = %v after %v, want a timeout after 50ms", err, time.Since(start))
	}
	if r.Partial() {
		t.Errorf("Partial() after a timeout before any byte = true, want false")
	}
}

// TestLineTimeoutStopsSlowloris sends a byte every 10ms: each byte
// keeps the idle timer happy, but the line must come whole in 200ms.
func TestLineTimeoutStopsSlowloris(t *testing.T) {
	r, client := pipeReader(t)
	r.IdleTimeout, r.LineTimeout = time.Second, 200*time.Millisecond
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			if _, err := client.Write([]byte("x")); err != nil {
				return
			}
		}
	}()
	start := time.Now()
	_, err := r.ReadLine()
	if took := time.Since(start); !errors.Is(err, os.ErrDeadlineExceeded) || took > 5*time.Second {
		t.Errorf("ReadLine() of a trickled line = %v after %v, want a timeout after about 200ms", err, took)
	}
	if !r.Partial() {
		t.Errorf("Partial() after a timeout inside a line = false, want true")
	}
}

func TestNegativeTimeoutIsNone(t *testing.T) {
	r, client := pipeReader(t)
	r.IdleTimeout, r.LineTimeout = -1, -1
	go func() {
		time.Sleep(100 * time.Millisecond)
		client.Write([]byte("late\r\n"))
	}()
	if l, err := r.ReadLine(); l != "late" || err != nil {
		t.Errorf("ReadLine() with no time limits = %q, %v; want late", l, err)
	}
}

// TestClientHugeLine is a client reading the reply of a hostile server
// that sends a 100 MB line: it must fail after MaxLine bytes, without
// reading or allocating the rest.
func TestClientHugeLine(t *testing.T) {
	server, client := net.Pipe()
	defer client.Close()
	go func() {
		defer server.Close()
		chunk := []byte(strings.Repeat("x", 64<<10))
		for sent := 0; sent < 100<<20; sent += len(chunk) {
			if _, err := server.Write(chunk); err != nil {
				return
			}
		}
		server.Write([]byte("\r\n"))
	}()
	r := NewReader(bufio.NewReader(client))
	r.MaxLine = 8 << 10
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err := r.ReadLine()
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("ReadLine() of a 100 MB line = %v, want ErrLineTooLong", err)
	}
	if took > 2*time.Second {
		t.Errorf("ReadLine() of a 100 MB line took %v, want it to fail fast", took)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("ReadLine() of a 100 MB line allocated %d bytes, want under 1 MiB", alloc)
	}
}
