package testkit

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A Transcript is a raw client for transcript tests: it sends lines and
// reads what comes back, failing the test on any error. Every read and
// write is bounded by a deadline of 20 seconds from Dial.
type Transcript struct {
	t    testing.TB
	Conn net.Conn
	R    *bufio.Reader
	// StrictCRLF makes Line fail on a line that does not end in CRLF,
	// for protocols (FTP) whose tests check the server's line ends.
	StrictCRLF bool
}

// Dial connects to addr; the connection closes when the test ends.
func Dial(t testing.TB, addr string) *Transcript {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return NewTranscript(t, c)
}

// NewTranscript wraps an open connection (after STARTTLS, say).
func NewTranscript(t testing.TB, c net.Conn) *Transcript {
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return &Transcript{t: t, Conn: c, R: bufio.NewReader(c)}
}

// Send writes line followed by CRLF.
func (s *Transcript) Send(line string) {
	s.t.Helper()
	s.Write(line + "\r\n")
}

// Write writes raw text, CRLF not added.
func (s *Transcript) Write(text string) {
	s.t.Helper()
	if _, err := s.Conn.Write([]byte(text)); err != nil {
		s.t.Fatalf("write %q: %v", text, err)
	}
}

// Line reads one line and returns it without its line end.
func (s *Transcript) Line() string {
	s.t.Helper()
	l, err := s.R.ReadString('\n')
	if err != nil {
		s.t.Fatalf("read line: got %q, %v", l, err)
	}
	if s.StrictCRLF && !strings.HasSuffix(l, "\r\n") {
		s.t.Fatalf("line %q does not end in CRLF", l)
	}
	return strings.TrimRight(l, "\r\n")
}

// Expect reads one line and fails unless it starts with prefix.
func (s *Transcript) Expect(prefix string) string {
	s.t.Helper()
	l := s.Line()
	if !strings.HasPrefix(l, prefix) {
		s.t.Fatalf("line = %q, want %q...", l, prefix)
	}
	return l
}

// Reply reads one numbered reply (SMTP, FTP, NNTP: "250-..." lines until
// "250 ..."), and returns its code and its lines joined with "\n".
func (s *Transcript) Reply() (int, string) {
	s.t.Helper()
	var lines []string
	for {
		l := s.Line()
		lines = append(lines, l)
		if len(l) < 3 {
			if len(lines) == 1 {
				s.t.Fatalf("reply line %q has no code", l)
			}
			continue // the middle of a multi-line reply may be anything (RFC 959 section 4.2)
		}
		if len(l) == 3 || l[3] == ' ' {
			if code, err := strconv.Atoi(l[:3]); err == nil && (len(lines) == 1 || strings.HasPrefix(lines[0], l[:3])) {
				return code, strings.Join(lines, "\n")
			}
		}
	}
}

// Cmd sends line and reads one numbered reply, whatever its code.
func (s *Transcript) Cmd(line string) (int, string) {
	s.t.Helper()
	s.Send(line)
	return s.Reply()
}

// Do sends line and reads one numbered reply, failing unless its code is want.
func (s *Transcript) Do(line string, want int) string {
	s.t.Helper()
	s.Send(line)
	code, text := s.Reply()
	if code != want {
		s.t.Fatalf("%q: reply = %q, want %d", line, text, want)
	}
	return text
}

// Closed reports whether the server has closed the connection: the next
// read gets EOF (or a reset) rather than data or a timeout, within d.
func (s *Transcript) Closed(d time.Duration) bool {
	s.Conn.SetReadDeadline(time.Now().Add(d))
	defer s.Conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		_, err := s.R.ReadByte()
		if err == nil {
			continue // a goodbye line may come first
		}
		ne, ok := err.(net.Error)
		return !ok || !ne.Timeout()
	}
}
