package imap

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/plumbnet/plumb/internal/testkit"
)

// TestTranscriptForms covers the commands and response forms the other
// tests do not look at closely.
func TestTranscriptForms(t *testing.T) {
	_, addr := newTestServer(t, "Subject: 1\r\n\r\n1\r\n")
	s := dial(t, addr)
	if u := s.ok(`a ID ("name" "imaplib" "version" NIL)`); len(u) != 1 || u[0] != `* ID ("name" "plumb")` {
		t.Errorf("ID = %q", u)
	}
	s.ok("a ID NIL")
	s.want("b ENABLE IMAP4rev2", "BAD") // not before login
	s.ok("c LOGIN alice pw")
	if u := s.ok("d NAMESPACE"); len(u) != 1 || u[0] != `* NAMESPACE (("" "/")) NIL NIL` {
		t.Errorf("NAMESPACE = %q", u)
	}
	_, tagged := s.run("e EXAMINE INBOX")
	if !strings.HasPrefix(tagged, "OK [READ-ONLY]") {
		t.Errorf("EXAMINE = %q, want [READ-ONLY]", tagged)
	}
	s.want(`f STORE 1 +FLAGS (\Seen)`, "NO [READ-ONLY]")
	// A body fetch in a read-only mailbox does not set \Seen.
	s.Send("g FETCH 1 BODY[]")
	s.Expect("* 1 FETCH (BODY[] {")
	s.Expect("Subject: 1")
	s.Expect("")
	s.Expect("1")
	if l := s.Line(); l != ")" {
		t.Errorf("FETCH BODY[] in EXAMINE ended %q, want no FLAGS", l)
	}
	s.until("g")
	s.ok("h CHECK")
	s.ok("i UNSELECT")
	s.want("j FETCH 1 FLAGS", "BAD")
	if u := s.ok("k GETQUOTAROOT INBOX"); len(u) != 2 || u[0] != `* QUOTAROOT INBOX ""` || u[1] != `* QUOTA "" ()` {
		t.Errorf("GETQUOTAROOT = %q", u)
	}
	if u := s.ok("l STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN SIZE)"); len(u) != 1 || !strings.HasPrefix(u[0], "* STATUS INBOX (MESSAGES 1 RECENT 1 UIDNEXT 2 UIDVALIDITY ") {
		t.Errorf("STATUS = %q", u)
	}
	s.want("m STATUS Nowhere (MESSAGES)", "NO [NONEXISTENT]")
	if u := s.ok("m2 STATUS INBOX (DELETED)"); len(u) != 1 || u[0] != "* STATUS INBOX (DELETED 0)" {
		t.Errorf("STATUS DELETED = %q", u)
	}
	s.want("n DELETE INBOX", "NO [CANNOT]")
	s.ok("o RENAME INBOX Old")
	if u := s.ok("p STATUS Old (MESSAGES)"); !has(u, "MESSAGES 1") {
		t.Errorf("STATUS Old after RENAME INBOX = %q", u)
	}
	if u := s.ok("q STATUS INBOX (MESSAGES)"); !has(u, "MESSAGES 0") {
		t.Errorf("INBOX after RENAME INBOX = %q, want empty", u)
	}
	// A string literal over the limit is refused before it is sent.
	s.Send("r LOGIN {999999}")
	if _, tagged := s.until("r"); !strings.HasPrefix(tagged, "BAD") && !strings.HasPrefix(tagged, "NO [TOOBIG]") {
		t.Errorf("a huge literal = %q", tagged)
	}
	// A line over the limit gets BAD and the session goes on.
	s.Send("s NOOP " + strings.Repeat("x", DefaultMaxLineLength+10))
	s.Expect("* BAD [TOOBIG]")
	s.ok("t NOOP")
	s.want("u LOGOUT", "OK")
}

func TestStartTLS(t *testing.T) {
	srvCfg, cliCfg := testkit.TLS(t)
	be := NewMemoryBackend()
	be.AddUser("alice", "pw")
	ln := testkit.Listener{Listener: testkit.Listen(t), Wrap: testkit.FromAfar}
	addr := testkit.Serve(t, &Server{Backend: be, TLSConfig: srvCfg}, ln)
	s := dial(t, addr)
	if u := s.ok("a CAPABILITY"); !has(u, "STARTTLS") || !has(u, "LOGINDISABLED") {
		t.Fatalf("CAPABILITY = %q", u)
	}
	// A command sent in clear behind STARTTLS is dropped with the old buffer.
	s.Write("b STARTTLS\r\nc LOGIN alice pw\r\n")
	s.Expect("b OK")
	tc := tls.Client(s.Conn, cliCfg)
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	s2 := &session{testkit.NewTranscript(t, tc), t}
	if u := s2.ok("d CAPABILITY"); has(u, "STARTTLS") || has(u, "LOGINDISABLED") || !has(u, "AUTH=PLAIN") {
		t.Errorf("CAPABILITY under TLS = %q", u)
	}
	s2.want("e STARTTLS", "BAD")
	s2.ok("f LOGIN alice pw")
}
