package testkit

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestTLSFilesLoad(t *testing.T) {
	certFile, keyFile := TLSFiles(t, t.TempDir())
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		t.Fatalf("LoadX509KeyPair(TLSFiles) = %v", err)
	}
}

func TestTLSHandshake(t *testing.T) {
	srvCfg, cliCfg := TLS(t)
	ln := Listen(t)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			tls.Server(c, srvCfg).Handshake()
			c.Close()
		}
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), cliCfg)
	if err != nil {
		t.Fatalf("tls.Dial with the client config = %v, want a verified handshake", err)
	}
	c.Close()
}

// fatalTB records Fatalf and ends its goroutine, as testing.T does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestTranscriptCmdAndStrictCRLF(t *testing.T) {
	client, server := net.Pipe()
	t.Cleanup(func() { server.Close() })
	go func() {
		r := bufio.NewReader(server)
		r.ReadString('\n')
		io.WriteString(server, "550-no\r\n550 such file\r\n")
		r.ReadString('\n')
		io.WriteString(server, "200 bare LF\n")
	}()
	s := NewTranscript(t, client)
	if code, text := s.Cmd("RETR x"); code != 550 || text != "550-no\n550 such file" {
		t.Fatalf("Cmd(RETR x) = %d, %q, want 550, %q", code, text, "550-no\n550 such file")
	}
	f := &fatalTB{TB: t}
	s.t, s.StrictCRLF = f, true
	done := make(chan struct{})
	go func() { defer close(done); s.Cmd("NOOP") }()
	<-done
	if !strings.Contains(f.msg, "CRLF") {
		t.Fatalf("Cmd(NOOP) answered with a bare LF under StrictCRLF failed with %q, want a CRLF complaint", f.msg)
	}
}

// TestWithin: true once cond holds, polling until then; false when it
// never does within the timeout.
func TestWithin(t *testing.T) {
	n := 0
	if !Within(5*time.Second, func() bool { n++; return n == 3 }) || n != 3 {
		t.Errorf("Within a condition true on the third poll: polled %d times", n)
	}
	if Within(10*time.Millisecond, func() bool { return false }) {
		t.Errorf("Within a condition never true = true")
	}
}
