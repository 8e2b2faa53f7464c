package imap

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzContainsFold: the fast case-insensitive search agrees with
// lower-casing both sides, for ASCII needles in any haystack made
// ASCII, and isCRLF says exactly when toCRLF changes nothing.
func FuzzContainsFold(f *testing.F) {
	f.Add([]byte("Needle in the HAYSTACK\r\n"), "needle")
	f.Add([]byte("nneedl"), "needle")
	f.Add([]byte("a\nb\r\nc\r"), "B")
	f.Add([]byte(""), "")
	f.Fuzz(func(t *testing.T, hay []byte, sub string) {
		ascii := bytes.Map(func(r rune) rune { return r & 0x7f }, hay)
		sub = strings.Map(func(r rune) rune { return r & 0x7f }, sub)
		want := strings.Contains(strings.ToLower(string(ascii)), strings.ToLower(sub))
		if got := containsFoldBytes(ascii, sub); got != want {
			t.Errorf("containsFoldBytes(%q, %q) = %v, want %v", ascii, sub, got, want)
		}
		if got := containsFold(string(ascii), sub); got != want {
			t.Errorf("containsFold(%q, %q) = %v, want %v", ascii, sub, got, want)
		}
		if got, want := isCRLF(hay), bytes.Equal(toCRLF(hay), hay); got != want {
			t.Errorf("isCRLF(%q) = %v, toCRLF leaves it as it is: %v", hay, got, want)
		}
	})
}

// TestSearchHeaderAndBody: HEADER reads the header alone and BODY
// finds text in a quoted-printable part and in a plain one, and not in
// the header.
func TestSearchHeaderAndBody(t *testing.T) {
	plain := "Subject: plain one\nX-Tag: needle\n\nthe Haystack holds a NEEDLE\n"
	_, addr := newTestServer(t, testMessage, plain)
	s := login(t, addr)
	s.ok("a SELECT INBOX")
	for _, tc := range []struct{ key, want string }{
		{`HEADER Subject "PLAIN"`, "* SEARCH 2"},
		{`HEADER X-Tag needle`, "* SEARCH 2"},
		{`BODY "needle"`, "* SEARCH 2"},
		{`BODY "x-tag"`, "* SEARCH"},
		{`BODY "CAFÉ AT"`, "* SEARCH 1"},
		{`BODY "the caf"`, "* SEARCH 1"},
		{`TEXT "x-tag: needle"`, "* SEARCH 2"},
	} {
		u := s.ok("b SEARCH " + tc.key)
		if len(u) != 1 || u[0] != tc.want {
			t.Errorf("SEARCH %s = %q, want %q", tc.key, u, tc.want)
		}
	}
}

// FuzzHeaderEnd: headerEnd finds the first empty line, CRLF or bare
// LF, as a plain scan does, and -1 when there is none.
func FuzzHeaderEnd(f *testing.F) {
	f.Add([]byte("Subject: x\r\n\r\nbody"))
	f.Add([]byte("Subject: x\n\nbody"))
	f.Add([]byte("\r\nbody"))
	f.Add([]byte("a\nb\n\r"))
	f.Fuzz(func(t *testing.T, b []byte) {
		want := -1
		for i := 0; i < len(b) && want < 0; i++ {
			switch {
			case (i == 0 || b[i-1] == '\n') && b[i] == '\n':
				want = i + 1
			case (i == 0 || b[i-1] == '\n') && b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n':
				want = i + 2
			}
		}
		if got := headerEnd(b); got != want {
			t.Errorf("headerEnd(%q) = %d, want %d", b, got, want)
		}
	})
}
