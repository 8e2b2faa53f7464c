package daemon

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// TestLineTimeoutClosesTrickledCommand: a client that keeps a byte moving
// well within the idle timeout, but never finishes its command line, is
// closed after limits.line_timeout in every line protocol.
func TestLineTimeoutClosesTrickledCommand(t *testing.T) {
	c := testConfig(t)
	c.Limits.IdleTimeout.Duration = time.Minute
	c.Limits.LineTimeout.Duration = 300 * time.Millisecond
	for _, sec := range []*Listener{&ftpSection.of(c).Listener, &smtpSection.of(c).Listener, &pop3Section.of(c).Listener} {
		sec.Enabled, sec.Addr = true, "127.0.0.1:0"
	}
	d := startTest(t, c)
	for _, name := range []string{"ftp", "smtp", "pop3"} {
		t.Run(name, func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", addrOf(t, d, name), 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			r := bufio.NewReader(conn)
			if _, err := r.ReadString('\n'); err != nil {
				t.Fatalf("greeting: %v", err)
			}
			start := time.Now()
			done := make(chan time.Duration, 1)
			go func() {
				for {
					if _, err := r.ReadString('\n'); err != nil {
						done <- time.Since(start)
						return
					}
				}
			}()
			trickle := strings.Repeat("N", 40)
			for i := range len(trickle) {
				select {
				case el := <-done:
					if el < 250*time.Millisecond || el > 3*time.Second {
						t.Fatalf("trickled line closed after %v, want about 300ms", el)
					}
					return
				case <-time.After(100 * time.Millisecond):
				}
				if _, err := conn.Write([]byte{trickle[i]}); err != nil {
					return // closed while writing: the server gave up on the line
				}
			}
			t.Fatalf("a line trickled for %v was still being read; want it closed after line_timeout", time.Since(start))
		})
	}
}
