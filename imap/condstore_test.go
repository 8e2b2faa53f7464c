package imap

import (
	"strings"
	"testing"
)

// TestCondStoreStoreHasUID: once CONDSTORE is on, every untagged FETCH
// a STORE causes carries the UID with the MODSEQ, .SILENT or not
// (RFC 7162 section 3.1, as RFC 5162's erratum 1807 put it).
func TestCondStoreStoreHasUID(t *testing.T) {
	_, addr := newTestServer(t, "Subject: 1\r\n\r\n1\r\n", "Subject: 2\r\n\r\n2\r\n")
	s := login(t, addr)
	s.ok("a SELECT INBOX (CONDSTORE)")
	if u := s.ok(`b STORE 2 +FLAGS (\Seen)`); len(u) != 1 || u[0] != `* 2 FETCH (UID 2 FLAGS (\Seen \Recent) MODSEQ (3))` {
		t.Errorf("STORE = %q", u)
	}
	if u := s.ok(`c STORE 1 +FLAGS.SILENT (\Seen)`); len(u) != 1 || u[0] != `* 1 FETCH (UID 1 MODSEQ (4))` {
		t.Errorf("STORE .SILENT = %q", u)
	}
}

// TestQResyncVanishedLastUIDs: the UIDs of expunged messages above the
// highest one left, up to UIDNEXT, are VANISHED too, for UID FETCH
// (VANISHED) and SELECT (QRESYNC) alike (RFC 7162 sections 3.2.5, 3.2.6).
func TestQResyncVanishedLastUIDs(t *testing.T) {
	_, addr := newTestServer(t, "Subject: 1\r\n\r\n1\r\n", "Subject: 2\r\n\r\n2\r\n", "Subject: 3\r\n\r\n3\r\n")
	s := login(t, addr)
	s.ok("a ENABLE QRESYNC")
	st := s.ok("b STATUS INBOX (UIDVALIDITY)")
	validity := strings.TrimSuffix(strings.TrimPrefix(st[0], "* STATUS INBOX (UIDVALIDITY "), ")")
	s.ok("c SELECT INBOX")
	s.ok(`d STORE 2:3 +FLAGS.SILENT (\Deleted)`)
	if u := s.ok("e EXPUNGE"); len(u) != 1 || u[0] != "* VANISHED 2:3" {
		t.Fatalf("EXPUNGE = %q", u)
	}
	if u := s.ok("f UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)"); !has(u, "* VANISHED (EARLIER) 2:3") {
		t.Errorf("UID FETCH 1:* (CHANGEDSINCE VANISHED) = %q, want VANISHED (EARLIER) 2:3", u)
	}
	if u := s.ok("g SELECT INBOX (QRESYNC (" + validity + " 1 1:3))"); !has(u, "* VANISHED (EARLIER) 2:3") {
		t.Errorf("SELECT (QRESYNC known 1:3) = %q, want VANISHED (EARLIER) 2:3", u)
	}
	if u := s.ok("h SELECT INBOX (QRESYNC (" + validity + " 1))"); !has(u, "* VANISHED (EARLIER) 2:3") {
		t.Errorf("SELECT (QRESYNC) = %q, want VANISHED (EARLIER) 2:3", u)
	}
	// With every message gone, all of them.
	s.ok(`i STORE 1 +FLAGS.SILENT (\Deleted)`)
	s.ok("j EXPUNGE")
	if u := s.ok("k UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)"); !has(u, "* VANISHED (EARLIER) 1:3") {
		t.Errorf("UID FETCH in an emptied mailbox = %q, want VANISHED (EARLIER) 1:3", u)
	}
}

// TestCondStoreImplicitSeen: a FETCH that sets \Seen tells, with
// CONDSTORE on, the new MODSEQ and the UID along with the FLAGS (RFC
// 7162 section 3.1).
func TestCondStoreImplicitSeen(t *testing.T) {
	_, addr := newTestServer(t, "Subject: 1\r\n\r\n1\r\n", "Subject: 2\r\n\r\n2\r\n")
	s := login(t, addr)
	s.ok("a SELECT INBOX (CONDSTORE)")
	u := s.ok("b FETCH 1:2 BODY[]<0.1>")
	if len(u) != 4 || u[1] != `S FLAGS (\Seen \Recent) UID 1 MODSEQ (3))` || u[3] != `S FLAGS (\Seen \Recent) UID 2 MODSEQ (4))` {
		t.Errorf("FETCH BODY[] = %q, want the new MODSEQs with FLAGS and UID", u)
	}
	// Those that had \Seen already change in nothing.
	if u := s.ok("c FETCH 1 BODY[]<0.1>"); len(u) != 2 || u[1] != "S)" {
		t.Errorf("FETCH BODY[] of a seen message = %q", u)
	}
}

// TestCondStoreHighestOnOK: with CONDSTORE on, the tagged OK of NOOP,
// EXPUNGE and MOVE carries the mailbox's HIGHESTMODSEQ, as Dovecot's
// does; without it, it does not.
func TestCondStoreHighestOnOK(t *testing.T) {
	_, addr := newTestServer(t, "Subject: 1\r\n\r\n1\r\n", "Subject: 2\r\n\r\n2\r\n", "Subject: 3\r\n\r\n3\r\n")
	s := login(t, addr)
	s.ok("a0 CREATE Other")
	s.ok("a SELECT INBOX")
	if _, tagged := s.run("b NOOP"); strings.Contains(tagged, "HIGHESTMODSEQ") {
		t.Errorf("NOOP without CONDSTORE = %q", tagged)
	}
	s.ok("c SELECT INBOX (CONDSTORE)")
	if _, tagged := s.run("d NOOP"); !strings.HasPrefix(tagged, "OK [HIGHESTMODSEQ 3]") {
		t.Errorf("NOOP = %q, want OK [HIGHESTMODSEQ 3]", tagged)
	}
	s.ok(`e STORE 1 +FLAGS.SILENT (\Deleted)`)
	if _, tagged := s.run("f EXPUNGE"); !strings.HasPrefix(tagged, "OK [HIGHESTMODSEQ ") {
		t.Errorf("EXPUNGE = %q, want OK [HIGHESTMODSEQ n]", tagged)
	}
	if _, tagged := s.run("g MOVE 1 Other"); !strings.HasPrefix(tagged, "OK [HIGHESTMODSEQ ") {
		t.Errorf("MOVE = %q, want OK [HIGHESTMODSEQ n]", tagged)
	}
}
