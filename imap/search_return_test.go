package imap

import (
	"slices"
	"testing"
)

// TestSearchResSave: what SEARCH RETURN (SAVE ...) leaves in $ (RFC 5182).
func TestSearchResSave(t *testing.T) {
	bob := "From: bob@example.org\r\nSubject: b\r\n\r\nsandwiches\r\n"
	_, addr := newTestServer(t, "Subject: a\r\n\r\nx\r\n", bob, bob, bob)
	s := login(t, addr)
	s.ok("a SELECT INBOX")
	saved := func(tag string) []string {
		t.Helper()
		return s.ok(tag + " FETCH $ UID")
	}
	for _, tc := range []struct {
		cmd       string
		untagged  []string
		fetchedAs []string
	}{
		// SAVE alone: no ESEARCH, every match saved.
		{"b SEARCH RETURN (SAVE) BODY sandwiches", nil,
			[]string{"* 2 FETCH (UID 2)", "* 3 FETCH (UID 3)", "* 4 FETCH (UID 4)"}},
		// SAVE with MIN and/or MAX only: only those are saved (section 2.4).
		{"c SEARCH RETURN (SAVE MIN) FROM bob", []string{`* ESEARCH (TAG "c") MIN 2`},
			[]string{"* 2 FETCH (UID 2)"}},
		{"d UID SEARCH RETURN (MAX SAVE) FROM bob", []string{`* ESEARCH (TAG "d") UID MAX 4`},
			[]string{"* 4 FETCH (UID 4)"}},
		{"e SEARCH RETURN (MIN MAX SAVE) FROM bob", []string{`* ESEARCH (TAG "e") MIN 2 MAX 4`},
			[]string{"* 2 FETCH (UID 2)", "* 4 FETCH (UID 4)"}},
		// With COUNT or ALL as well, the whole result is saved.
		{"f SEARCH RETURN (SAVE MIN COUNT) FROM bob", []string{`* ESEARCH (TAG "f") MIN 2 COUNT 3`},
			[]string{"* 2 FETCH (UID 2)", "* 3 FETCH (UID 3)", "* 4 FETCH (UID 4)"}},
	} {
		if u := s.ok(tc.cmd); !slices.Equal(u, tc.untagged) {
			t.Errorf("%s = %q, want %q", tc.cmd, u, tc.untagged)
		}
		if u := saved("z"); !slices.Equal(u, tc.fetchedAs) {
			t.Errorf("after %s: FETCH $ = %q, want %q", tc.cmd, u, tc.fetchedAs)
		}
	}
	// A BAD SEARCH leaves $ as it was (section 2.1) ...
	s.want("g SEARCH RETURN (SAVE) FROM", "BAD")
	if u := saved("z"); len(u) != 3 {
		t.Errorf("FETCH $ after a BAD SEARCH = %q, want the 3 saved before", u)
	}
	// ... and a NO one empties it.
	s.want("h SEARCH RETURN (SAVE) CHARSET KOI8-R FROM bob", "NO [BADCHARSET")
	if u := saved("z"); len(u) != 0 {
		t.Errorf("FETCH $ after a NO SEARCH = %q, want none", u)
	}
}

// TestESearchModSeq: ESEARCH's MODSEQ is the highest of the messages it
// returns: with MIN and/or MAX alone, of those alone (RFC 4731 section 3.2).
func TestESearchModSeq(t *testing.T) {
	_, addr := newTestServer(t, "Subject: 1\r\n\r\n1\r\n", "Subject: 2\r\n\r\n2\r\n", "Subject: 3\r\n\r\n3\r\n")
	s := login(t, addr)
	s.ok("a SELECT INBOX (CONDSTORE)")
	s.ok(`b STORE 1 +FLAGS (\Seen)`) // message 1 now at MODSEQ 4
	for _, tc := range []struct{ cmd, want string }{
		{"c SEARCH RETURN (MIN) MODSEQ 1", `* ESEARCH (TAG "c") MIN 1 MODSEQ 4`},
		{"c SEARCH RETURN (MAX) MODSEQ 1", `* ESEARCH (TAG "c") MAX 3 MODSEQ 3`},
		{"c SEARCH RETURN (MIN MAX) MODSEQ 1", `* ESEARCH (TAG "c") MIN 1 MAX 3 MODSEQ 4`},
		{"c SEARCH RETURN (MAX COUNT) MODSEQ 1", `* ESEARCH (TAG "c") MAX 3 COUNT 3 MODSEQ 4`},
		{"c UID SEARCH RETURN (MAX SAVE) MODSEQ 1", `* ESEARCH (TAG "c") UID MAX 3 MODSEQ 3`},
		{"c SEARCH RETURN (COUNT) MODSEQ 9", `* ESEARCH (TAG "c") COUNT 0`},
	} {
		if u := s.ok(tc.cmd); len(u) != 1 || u[0] != tc.want {
			t.Errorf("%s = %q, want %q", tc.cmd, u, tc.want)
		}
	}
}
