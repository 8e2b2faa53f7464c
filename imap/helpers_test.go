package imap

import (
	"bufio"
	"io"
	"strings"
	"testing"

	"github.com/plumbnet/plumb/internal/testkit"
)

// testMessage is a small multipart message the tests fetch and search.
const testMessage = "From: Alice <alice@example.org>\r\n" +
	"To: bob@example.org, \"Carol C.\" <carol@example.org>\r\n" +
	"Subject: =?utf-8?q?caf=C3=A9?= meeting\r\n" +
	"Date: Mon, 06 May 2024 07:08:09 +0000\r\n" +
	"Message-Id: <m1@example.org>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n" +
	"\r\n" +
	"preamble\r\n" +
	"--b1\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Hello, the caf=C3=A9 at noon.\r\n" +
	"--b1\r\n" +
	"Content-Type: application/octet-stream; name=\"a.bin\"\r\n" +
	"Content-Disposition: attachment; filename=\"a.bin\"\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"AAEC\r\n" +
	"--b1--\r\n"

// newTestServer serves a MemoryBackend with alice (password "pw")
// holding msgs in her INBOX.
func newTestServer(t *testing.T, msgs ...string) (*MemoryBackend, string) {
	t.Helper()
	be := NewMemoryBackend()
	be.AddUser("alice", "pw")
	for _, m := range msgs {
		if _, err := be.Deliver("alice", "INBOX", []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	srv := &Server{Backend: be}
	return be, testkit.Serve(t, srv, nil)
}

// session is a transcript of one IMAP connection.
type session struct {
	*testkit.Transcript
	t *testing.T
}

func dial(t *testing.T, addr string) *session {
	t.Helper()
	s := &session{testkit.Dial(t, addr), t}
	s.StrictCRLF = true
	if g := s.Line(); !strings.HasPrefix(g, "* OK [CAPABILITY IMAP4rev1") {
		t.Fatalf("greeting = %q", g)
	}
	return s
}

func login(t *testing.T, addr string) *session {
	s := dial(t, addr)
	s.ok("a LOGIN alice pw")
	return s
}

// run sends line and returns the untagged lines and the tagged one.
func (s *session) run(line string) (untagged []string, tagged string) {
	s.t.Helper()
	tag, _, _ := strings.Cut(line, " ")
	s.Send(line)
	return s.until(tag)
}

func (s *session) until(tag string) (untagged []string, tagged string) {
	s.t.Helper()
	for {
		l := strings.TrimSuffix(s.Line(), "\r\n")
		if strings.HasPrefix(l, tag+" ") {
			return untagged, strings.TrimPrefix(l, tag+" ")
		}
		untagged = append(untagged, l)
	}
}

// ok runs line and fails unless it ends in OK.
func (s *session) ok(line string) []string {
	s.t.Helper()
	u, tagged := s.run(line)
	if !strings.HasPrefix(tagged, "OK") {
		s.t.Fatalf("%s = %q (untagged %q), want OK", line, tagged, u)
	}
	return u
}

// want runs line and fails unless the tagged reply starts with status.
func (s *session) want(line, status string) []string {
	s.t.Helper()
	u, tagged := s.run(line)
	if !strings.HasPrefix(tagged, status) {
		s.t.Fatalf("%s = %q, want %s", line, tagged, status)
	}
	return u
}

func has(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

func bufioReader(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }

func bufioWriter(w io.Writer) *bufio.Writer { return bufio.NewWriter(w) }
