package imap

import "testing"

// TestSearchTextHeaders: TEXT looks at the whole header, field names
// included, and at the MIME header fields of every part and of an
// attached message (RFC 9051 section 6.4.4); BODY at none of them.
func TestSearchTextHeaders(t *testing.T) {
	fwd := "From: frank@example.org\r\nSubject: fwd\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=f\r\n\r\n" +
		"--f\r\nContent-Type: text/plain\r\n\r\nForwarding.\r\n" +
		"--f\r\nContent-Type: message/rfc822\r\n\r\nFrom: heidi@example.org\r\nSubject: inner\r\n\r\nThe inner body.\r\n--f--\r\n"
	_, addr := newTestServer(t, testMessage, fwd)
	s := login(t, addr)
	s.ok("a SELECT INBOX")
	for _, tc := range []struct{ cmd, want string }{
		{"b SEARCH TEXT message-id", "* SEARCH 1"},
		{`b SEARCH TEXT "Subject: fwd"`, "* SEARCH 2"},
		{`b SEARCH TEXT "filename=\"a.bin\""`, "* SEARCH 1"},
		{"b SEARCH TEXT content-transfer-encoding", "* SEARCH 1"},
		{"b SEARCH TEXT heidi", "* SEARCH 2"},
		{"b SEARCH TEXT inner", "* SEARCH 2"},
		{"b SEARCH BODY heidi", "* SEARCH"},
		{"b SEARCH BODY content-transfer-encoding", "* SEARCH"},
		{"b SEARCH BODY inner", "* SEARCH 2"},
	} {
		if u := s.ok(tc.cmd); len(u) != 1 || u[0] != tc.want {
			t.Errorf("%s = %q, want %q", tc.cmd, u, tc.want)
		}
	}
}
