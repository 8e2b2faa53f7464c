package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestCRLFWriter(t *testing.T) {
	var out bytes.Buffer
	w := &crlfWriter{w: &out}
	for _, s := range []string{"a\n", "b\r", "\nc\n", "\n", "d\r\n"} {
		if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v; want %d, nil", s, n, err, len(s))
		}
	}
	if got, want := out.String(), "a\r\nb\r\nc\r\n\r\nd\r\n"; got != want {
		t.Errorf("crlfWriter wrote %q, want %q", got, want)
	}
	if got, want := string(appendCRLF(nil, []byte("\nx\r\ny\n"))), "\r\nx\r\ny\r\n"; got != want {
		t.Errorf("appendCRLF = %q, want %q", got, want)
	}
}

// socketTCPPair returns a client connection and, on the channel, the server's.
func socketTCPPair(t *testing.T) (net.Conn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c, s.(*net.TCPConn)
}

// TestPipeStreamHalfClose: the peer answers only after it has seen EOF.
func TestPipeStreamHalfClose(t *testing.T) {
	c, s := socketTCPPair(t)
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	go func() {
		n, _ := io.Copy(io.Discard, s)
		fmt.Fprintf(s, "got %d bytes", n)
		s.Close()
	}()
	var out bytes.Buffer
	err := pipeStream(context.Background(), c, newStdinFeed(bytes.NewReader(data), false), &out, pipeOptions{})
	if err != nil {
		t.Fatalf("pipeStream: %v", err)
	}
	if got, want := out.String(), fmt.Sprintf("got %d bytes", len(data)); got != want {
		t.Errorf("pipeStream output = %q, want %q", got, want)
	}
}

// TestPipeStreamPeerClosesFirst: the peer half-closes first and still
// reads; everything from standard input must reach it.
func TestPipeStreamPeerClosesFirst(t *testing.T) {
	c, s := socketTCPPair(t)
	data := bytes.Repeat([]byte("x"), 3<<20)
	got := make(chan int64, 1)
	go func() {
		s.Write([]byte("banner\n"))
		s.CloseWrite()
		time.Sleep(50 * time.Millisecond) // let the client see EOF before the data flows
		n, _ := io.Copy(io.Discard, s)
		got <- n
	}()
	var out bytes.Buffer
	if err := pipeStream(context.Background(), c, newStdinFeed(bytes.NewReader(data), false), &out, pipeOptions{}); err != nil {
		t.Fatalf("pipeStream: %v", err)
	}
	if out.String() != "banner\n" {
		t.Errorf("pipeStream output = %q, want %q", out.String(), "banner\n")
	}
	if n := <-got; n != int64(len(data)) {
		t.Errorf("peer received %d bytes, want %d", n, len(data))
	}
}

// TestPipeStreamIdle: --idle ends a silent session with an error.
func TestPipeStreamIdle(t *testing.T) {
	c, _ := socketTCPPair(t)
	r, w := io.Pipe()
	defer w.Close()
	start := time.Now()
	err := pipeStream(context.Background(), c, newStdinFeed(r, false), io.Discard, pipeOptions{idle: 100 * time.Millisecond, untilPeerCloses: true})
	var se *sessionError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "idle") {
		t.Errorf("pipeStream on a silent connection = %v, want an idle timeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("idle timeout of 100ms took %v", d)
	}
}

// TestPipeStreamCancel: interrupting ends the session.
func TestPipeStreamCancel(t *testing.T) {
	c, _ := socketTCPPair(t)
	r, w := io.Pipe()
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := pipeStream(ctx, c, newStdinFeed(r, false), io.Discard, pipeOptions{untilPeerCloses: true})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("pipeStream after cancel = %v, want the context's error", err)
	}
}

// TestSharedFeed: with --keep, standard input goes to the first session
// and later sessions see it ended.
func TestSharedFeed(t *testing.T) {
	feed := newStdinFeed(strings.NewReader("hello"), true)
	for i, want := range []string{"hello", ""} {
		c, s := socketTCPPair(t)
		recv := make(chan string, 1)
		go func() {
			b, _ := io.ReadAll(s)
			s.Close()
			recv <- string(b)
		}()
		if err := pipeStream(context.Background(), c, feed, io.Discard, pipeOptions{}); err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
		if got := <-recv; got != want {
			t.Errorf("session %d peer received %q, want %q", i, got, want)
		}
	}
}

// BenchmarkPipeStream measures pipeStream moving data to a loopback
// peer that discards it (the stdin -> socket direction).
func BenchmarkPipeStream(b *testing.B) {
	data := make([]byte, 64<<20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			s, err := ln.Accept()
			if err == nil {
				io.Copy(io.Discard, s)
				s.Close()
			}
		}()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		if err := pipeStream(context.Background(), c, newStdinFeed(bytes.NewReader(data), false), io.Discard, pipeOptions{}); err != nil {
			b.Fatal(err)
		}
		c.Close()
		ln.Close()
	}
}
