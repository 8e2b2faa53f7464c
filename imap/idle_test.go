package imap

import (
	"strings"
	"testing"
)

// TestIdlePipelined: a command the client sends right behind DONE, in
// the same packet, is read and answered after IDLE lent its buffers
// back, and a long command line after that still reads whole.
func TestIdlePipelined(t *testing.T) {
	_, addr := newTestServer(t, "Subject: 1\r\n\r\n1\r\n")
	s := login(t, addr)
	s.ok("a SELECT INBOX")
	s.Send("b IDLE")
	s.Expect("+ idling")
	s.Write("DONE\r\nc FETCH 1 (FLAGS)\r\nd NOOP\r\n")
	if _, tagged := s.until("b"); !strings.HasPrefix(tagged, "OK") {
		t.Errorf("IDLE = %q", tagged)
	}
	if u, tagged := s.until("c"); !strings.HasPrefix(tagged, "OK") || !has(u, "* 1 FETCH (FLAGS (\\Recent))") {
		t.Errorf("FETCH behind DONE = %q %q", u, tagged)
	}
	if _, tagged := s.until("d"); !strings.HasPrefix(tagged, "OK") {
		t.Errorf("NOOP behind DONE = %q", tagged)
	}
	long := "e SEARCH " + strings.Repeat("NOT SEEN ", 1000) + "ALL"
	if u := s.ok(long); !has(u, "* SEARCH") {
		t.Errorf("a long SEARCH after IDLE = %q", u)
	}
	s.Send("f IDLE")
	s.Expect("+ idling")
	s.Send("DONE")
	if _, tagged := s.until("f"); !strings.HasPrefix(tagged, "OK") {
		t.Errorf("second IDLE = %q", tagged)
	}
}
