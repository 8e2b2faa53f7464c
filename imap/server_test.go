package imap

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

func TestLoginAndCapability(t *testing.T) {
	_, addr := newTestServer(t)
	s := dial(t, addr)
	u := s.ok("a1 CAPABILITY")
	if !has(u, "AUTH=PLAIN") || !has(u, "LITERAL+") || !has(u, "SASL-IR") {
		t.Errorf("CAPABILITY = %q", u)
	}
	s.want("a2 LOGIN alice wrong", "NO [AUTHENTICATIONFAILED]")
	s.want("a3 SELECT INBOX", "BAD")
	s.ok("a4 LOGIN alice pw")
	if u := s.ok("a5 CAPABILITY"); !has(u, "UIDPLUS") || !has(u, "MOVE") {
		t.Errorf("CAPABILITY after login = %q", u)
	}
	s.want("a6 LOGOUT", "OK")
}

func TestLoginDisabledOffLoopback(t *testing.T) {
	be := NewMemoryBackend()
	be.AddUser("alice", "pw")
	ln := testkit.Listener{Listener: testkit.Listen(t), Wrap: testkit.FromAfar}
	addr := testkit.Serve(t, &Server{Backend: be}, ln)
	s := dial(t, addr)
	if u := s.ok("a CAPABILITY"); !has(u, "LOGINDISABLED") || has(u, "AUTH=PLAIN") {
		t.Errorf("CAPABILITY off loopback = %q, want LOGINDISABLED", u)
	}
	s.want("b LOGIN alice pw", "NO [PRIVACYREQUIRED]")
	s.want("c AUTHENTICATE PLAIN AGFsaWNlAHB3", "NO [PRIVACYREQUIRED]")
}

func TestAuthenticate(t *testing.T) {
	_, addr := newTestServer(t)
	s := dial(t, addr)
	// SASL-IR: \0alice\0pw
	s.ok("a AUTHENTICATE PLAIN AGFsaWNlAHB3")
	s2 := dial(t, addr)
	s2.Send("b AUTHENTICATE LOGIN")
	s2.Expect("+ ")
	s2.Send("YWxpY2U=")
	s2.Expect("+ ")
	s2.Send("cHc=")
	if _, tagged := s2.until("b"); !strings.HasPrefix(tagged, "OK") {
		t.Fatalf("AUTHENTICATE LOGIN = %q", tagged)
	}
	s3 := dial(t, addr)
	s3.Send("c AUTHENTICATE PLAIN")
	s3.Expect("+")
	s3.Send("*")
	if _, tagged := s3.until("c"); !strings.HasPrefix(tagged, "BAD") {
		t.Fatalf("canceled AUTHENTICATE = %q, want BAD", tagged)
	}
}

func TestUnknownCommandsBeforeLoginClose(t *testing.T) {
	_, addr := newTestServer(t)
	s := dial(t, addr)
	for i := range DefaultMaxBadCommands {
		s.want("x"+string(rune('0'+i))+" FROB", "BAD")
	}
	s.Expect("* BYE")
	if !s.Closed(2 * time.Second) {
		t.Fatal("connection open after too many unknown commands")
	}
}

func TestSyntaxErrorIsBAD(t *testing.T) {
	_, addr := newTestServer(t, testMessage)
	s := login(t, addr)
	s.ok("a SELECT INBOX")
	for _, cmd := range []string{"b FETCH 1:x FLAGS", "c FETCH 1 (FLAGS", "d STORE 1 +FLAGS (\\Seen", "e SEARCH FROB", `f SELECT "unterminated`} {
		s.want(cmd, "BAD")
	}
	// A non-synchronizing literal in a refused command is skipped.
	s.Send("g SEARCH FROB {3+}")
	s.Send("abc")
	if _, tagged := s.until("g"); !strings.HasPrefix(tagged, "BAD") {
		t.Fatalf("refused command with a literal = %q", tagged)
	}
	s.ok("h NOOP")
}

func TestSelectFetch(t *testing.T) {
	_, addr := newTestServer(t, testMessage, "Subject: two\r\n\r\nsecond\r\n")
	s := login(t, addr)
	u := s.ok("a SELECT INBOX")
	for _, w := range []string{"* 2 EXISTS", "* 2 RECENT", "[UIDVALIDITY ", "[UIDNEXT 3]", "[PERMANENTFLAGS ("} {
		if !has(u, w) {
			t.Errorf("SELECT = %q, missing %q", u, w)
		}
	}
	u = s.ok("b FETCH 1 (UID FLAGS RFC822.SIZE ENVELOPE)")
	want := `* 1 FETCH (UID 1 FLAGS (\Recent) RFC822.SIZE ` + itoa(len(testMessage)) +
		` ENVELOPE ("Mon, 06 May 2024 07:08:09 +0000" "=?utf-8?q?caf=C3=A9?= meeting" (("Alice" NIL "alice" "example.org")) (("Alice" NIL "alice" "example.org")) (("Alice" NIL "alice" "example.org")) ((NIL NIL "bob" "example.org")("Carol C." NIL "carol" "example.org")) NIL NIL NIL "<m1@example.org>"))`
	if len(u) != 1 || u[0] != want {
		t.Errorf("FETCH ENVELOPE =\n%q\nwant\n%q", u, want)
	}
	u = s.ok("c FETCH 1 BODYSTRUCTURE")
	wantBS := `* 1 FETCH (BODYSTRUCTURE (("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 29 0 NIL NIL NIL NIL)("application" "octet-stream" ("name" "a.bin") NIL NIL "base64" 4 NIL ("attachment" ("filename" "a.bin")) NIL NIL) "mixed" ("boundary" "b1") NIL NIL NIL))`
	if len(u) != 1 || u[0] != wantBS {
		t.Errorf("FETCH BODYSTRUCTURE =\n%q\nwant\n%q", u, wantBS)
	}
	// A section with a partial: the literal arrives on its own line.
	s.Send("d FETCH 1 (BODY.PEEK[1]<7.4>)")
	if l := s.Line(); l != "* 1 FETCH (BODY[1]<7> {4}" {
		t.Fatalf("FETCH BODY[1]<7.4> = %q", l)
	}
	if l := s.Line(); l != "the )" {
		t.Fatalf("partial body = %q, want %q", l, "the )")
	}
	s.until("d")
	s.Send("e FETCH 2 BODY[HEADER.FIELDS (SUBJECT)]")
	s.Expect(`* 2 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {16}`)
	s.Expect("Subject: two")
	s.Expect("")
	if l := s.Line(); !strings.Contains(l, `FLAGS (\Seen \Recent)`) {
		t.Errorf("FETCH BODY[...] without PEEK did not set \\Seen: %q", l)
	}
	s.until("e")
	s.Send("f FETCH 1 BINARY[1]")
	s.Expect("* 1 FETCH (BINARY[1] {25}")
	s.until("f")
}

func itoa(n int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(n)) }

func fmtInt(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestSearch(t *testing.T) {
	_, addr := newTestServer(t, testMessage, "From: bob@example.org\r\nSubject: two\r\n\r\nsecond body\r\n", "Subject: three\r\n\r\nx\r\n")
	s := login(t, addr)
	s.ok("a SELECT INBOX")
	s.ok(`b STORE 3 +FLAGS (\Seen)`)
	for _, tc := range []struct{ cmd, want string }{
		{"c SEARCH ALL", "* SEARCH 1 2 3"},
		{"c SEARCH SUBJECT café", "* SEARCH 1"},
		{"c SEARCH CHARSET UTF-8 BODY café", "* SEARCH 1"},
		{"c SEARCH FROM bob", "* SEARCH 2"},
		{"c SEARCH OR FROM bob SUBJECT three", "* SEARCH 2 3"},
		{"c SEARCH NOT SEEN", "* SEARCH 1 2"},
		{"c SEARCH UNSEEN TEXT second", "* SEARCH 2"},
		{"c SEARCH 2:* LARGER 10", "* SEARCH 2 3"},
		{"c UID SEARCH UID 2:3 SEEN", "* SEARCH 3"},
		{"c SEARCH SINCE 1-Jan-2000", "* SEARCH 1 2 3"},
		{"c SEARCH (OR SEEN FROM bob) (NOT SUBJECT two)", "* SEARCH 3"},
		{"c SEARCH RETURN (MIN MAX COUNT) ALL", `* ESEARCH (TAG "c") MIN 1 MAX 3 COUNT 3`},
	} {
		u := s.ok(tc.cmd)
		if len(u) != 1 || u[0] != tc.want {
			t.Errorf("%s = %q, want %q", tc.cmd, u, tc.want)
		}
	}
	// SEARCHRES: SAVE, then use $.
	s.ok("d SEARCH RETURN (SAVE) FROM bob")
	if u := s.ok("e FETCH $ UID"); len(u) != 1 || u[0] != "* 2 FETCH (UID 2)" {
		t.Errorf("FETCH $ = %q", u)
	}
	s.Send("f SEARCH SUBJECT {5}")
	s.Expect("+ ")
	s.Send("three")
	if u, tagged := s.until("f"); len(u) != 1 || u[0] != "* SEARCH 3" || !strings.HasPrefix(tagged, "OK") {
		t.Errorf("SEARCH with a literal = %q %q", u, tagged)
	}
}

func TestStoreExpungeCopyMove(t *testing.T) {
	_, addr := newTestServer(t, "Subject: 1\r\n\r\n1\r\n", "Subject: 2\r\n\r\n2\r\n", "Subject: 3\r\n\r\n3\r\n")
	s := login(t, addr)
	s.ok("a SELECT INBOX")
	if u := s.ok(`b STORE 1:2 +FLAGS (\Deleted \Seen)`); len(u) != 2 || u[0] != `* 1 FETCH (FLAGS (\Deleted \Seen \Recent))` {
		t.Errorf("STORE = %q", u)
	}
	if u := s.ok(`c UID STORE 2 -FLAGS.SILENT (\Deleted)`); len(u) != 0 {
		t.Errorf("STORE .SILENT = %q", u)
	}
	u := s.ok("d COPY 1:3 Archive")
	_ = u
	_, tagged := s.run("e UID COPY 1 Archive")
	if !strings.HasPrefix(tagged, "OK [COPYUID ") || !strings.Contains(tagged, " 1 4]") {
		t.Errorf("UID COPY = %q, want COPYUID", tagged)
	}
	s.want("f COPY 1 Nowhere", "NO [TRYCREATE]")
	if u := s.ok("g EXPUNGE"); len(u) != 1 || u[0] != "* 1 EXPUNGE" {
		t.Errorf("EXPUNGE = %q", u)
	}
	u = s.ok("h MOVE 2 Trash")
	if !has(u, "[COPYUID ") || !has(u, "* 2 EXPUNGE") {
		t.Errorf("MOVE = %q", u)
	}
	if u := s.ok("i STATUS Archive (MESSAGES UIDNEXT)"); len(u) != 1 || u[0] != "* STATUS Archive (MESSAGES 4 UIDNEXT 5)" {
		t.Errorf("STATUS = %q", u)
	}
	s.ok("j CLOSE")
	s.want("k FETCH 1 FLAGS", "BAD")
}

func TestUpdatesAcrossSessions(t *testing.T) {
	be, addr := newTestServer(t, "Subject: 1\r\n\r\n1\r\n", "Subject: 2\r\n\r\n2\r\n")
	a, b := login(t, addr), login(t, addr)
	a.ok("a SELECT INBOX")
	b.ok("b SELECT INBOX")
	a.ok(`a STORE 1 +FLAGS (\Deleted)`)
	a.ok("a EXPUNGE")
	// FETCH must not report the expunge; numbers stay as b knows them.
	u := b.ok("b FETCH 2 UID")
	if has(u, "EXPUNGE") || !has(u, "* 2 FETCH (UID 2)") {
		t.Errorf("FETCH after another session's EXPUNGE = %q", u)
	}
	if u := b.ok("b NOOP"); !has(u, "* 1 EXPUNGE") {
		t.Errorf("NOOP = %q, want the EXPUNGE", u)
	}
	if u := b.ok("b FETCH 1 UID"); !has(u, "* 1 FETCH (UID 2)") {
		t.Errorf("FETCH after the EXPUNGE = %q", u)
	}
	// IDLE is woken by a delivery.
	b.Send("b IDLE")
	b.Expect("+ idling")
	if _, err := be.Deliver("alice", "INBOX", []byte("Subject: 3\r\n\r\n3\r\n")); err != nil {
		t.Fatal(err)
	}
	b.Conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	b.Expect("* 2 EXISTS")
	b.Send("DONE")
	if _, tagged := b.until("b"); !strings.HasPrefix(tagged, "OK") {
		t.Errorf("IDLE = %q", tagged)
	}
}

func TestMailboxes(t *testing.T) {
	_, addr := newTestServer(t)
	s := login(t, addr)
	s.ok("a CREATE Work/Projects")
	s.ok("a CREATE Work")
	s.want("a CREATE Work", "NO [ALREADYEXISTS]")
	s.ok("a CREATE \"&ZeVnLIqe-\"")
	u := s.ok(`b LIST "" *`)
	for _, w := range []string{`* LIST (\HasNoChildren) "/" INBOX`, `* LIST (\Sent \HasNoChildren) "/" Sent`, `* LIST (\HasChildren) "/" Work`, `"/" &ZeVnLIqe-`} {
		if !has(u, w) {
			t.Errorf("LIST = %q, missing %q", u, w)
		}
	}
	if u := s.ok(`c LIST "" %/%`); len(u) != 1 || !has(u, "Work/Projects") {
		t.Errorf("LIST %%/%% = %q", u)
	}
	if u := s.ok(`d LIST (SPECIAL-USE) "" *`); len(u) != 5 {
		t.Errorf("LIST (SPECIAL-USE) = %q", u)
	}
	if u := s.ok(`e LIST "" Sent RETURN (STATUS (MESSAGES))`); !has(u, "* STATUS Sent (MESSAGES 0)") {
		t.Errorf("LIST-STATUS = %q", u)
	}
	s.ok("f RENAME Work Play")
	if u := s.ok(`g LIST "" Play/*`); !has(u, "Play/Projects") {
		t.Errorf("LIST after RENAME = %q", u)
	}
	s.ok("h DELETE Play/Projects")
	s.ok("i UNSUBSCRIBE Play")
	if u := s.ok(`j LSUB "" Play`); len(u) != 0 {
		t.Errorf("LSUB after UNSUBSCRIBE = %q", u)
	}
	if u := s.ok(`k LIST "" ""`); len(u) != 1 || u[0] != `* LIST (\Noselect) "/" ""` {
		t.Errorf("LIST \"\" \"\" = %q", u)
	}
	s.ok("l NAMESPACE")
	if u := s.ok("m ENABLE IMAP4rev2"); len(u) != 1 || u[0] != "* ENABLED IMAP4rev2" {
		t.Errorf("ENABLE = %q", u)
	}
	if u := s.ok(`n LIST "" 日*`); len(u) != 1 || !has(u, `"/" "日本語"`) {
		t.Errorf("LIST under IMAP4rev2 = %q, want UTF-8", u)
	}
	s.ok("o SELECT INBOX")
	if u := s.ok("p SEARCH ALL"); len(u) != 1 || u[0] != `* ESEARCH (TAG "p")` {
		t.Errorf("SEARCH under IMAP4rev2 = %q, want ESEARCH", u)
	}
}

func TestAppend(t *testing.T) {
	_, addr := newTestServer(t)
	s := login(t, addr)
	s.ok("a SELECT INBOX")
	msg := "Subject: appended\r\n\r\nhi\r\n"
	s.Send(`b APPEND INBOX (\Seen) "06-May-2024 07:08:09 +0000" {` + itoa(len(msg)) + "}")
	s.Expect("+ ")
	s.Write(msg + "\r\n")
	u, tagged := s.until("b")
	if !strings.HasPrefix(tagged, "OK [APPENDUID ") || !has(u, "* 1 EXISTS") {
		t.Errorf("APPEND = %q %q", u, tagged)
	}
	// LITERAL+: no continuation.
	s.Write("c APPEND INBOX {" + itoa(len(msg)) + "+}\r\n" + msg + "\r\n")
	if u, tagged := s.until("c"); !strings.HasPrefix(tagged, "OK") || !has(u, "* 2 EXISTS") {
		t.Errorf("APPEND with LITERAL+ = %q %q", u, tagged)
	}
	if u := s.ok("d FETCH 1 (FLAGS INTERNALDATE)"); !has(u, `INTERNALDATE " 6-May-2024 07:08:09 +0000"`) || !has(u, `\Seen`) {
		t.Errorf("FETCH after APPEND = %q", u)
	}
	s.want("e APPEND Nowhere {1+}\r\nx", "NO [TRYCREATE]")
	s.Send("f APPEND INBOX {999999999999}")
	if _, tagged := s.until("f"); !strings.HasPrefix(tagged, "NO [TOOBIG]") {
		t.Errorf("APPEND too large = %q", tagged)
	}
	s.ok("g NOOP")
}

func TestConformance(t *testing.T) {
	testkit.Conformance(t, testkit.Target{
		New: func(t *testing.T, gate *testkit.Gate) testkit.StreamServer {
			be := NewMemoryBackend()
			be.AddUser("alice", "pw")
			return &Server{Backend: gatedBackend{be, gate}}
		},
		Greet: func(t *testing.T, c *testkit.Transcript) { c.Expect("* OK") },
		Busy: func(t *testing.T, c *testkit.Transcript) {
			c.Send("a LOGIN alice pw")
		},
		Finish: func(t *testing.T, c *testkit.Transcript) { c.Expect("a OK") },
	})
}

type gatedBackend struct {
	*MemoryBackend
	gate *testkit.Gate
}

func (b gatedBackend) Login(ctx context.Context, c ConnInfo, user, pass string) (Session, error) {
	if err := b.gate.Wait(ctx); err != nil {
		return nil, err
	}
	return b.MemoryBackend.Login(ctx, c, user, pass)
}

func TestIdleKeepalive(t *testing.T) {
	be := NewMemoryBackend()
	be.AddUser("alice", "pw")
	addr := testkit.Serve(t, &Server{Backend: be, IdleKeepalive: 20 * time.Millisecond}, nil)
	s := login(t, addr)
	s.ok("a SELECT INBOX")
	s.Send("b IDLE")
	s.Expect("+ idling")
	s.Expect("* OK Still here")
	s.Send("DONE")
	if _, tagged := s.until("b"); !strings.HasPrefix(tagged, "OK") {
		t.Errorf("IDLE = %q", tagged)
	}
}

func TestCondStore(t *testing.T) {
	_, addr := newTestServer(t, "Subject: 1\r\n\r\n1\r\n", "Subject: 2\r\n\r\n2\r\n")
	s := login(t, addr)
	u := s.ok("a SELECT INBOX (CONDSTORE)")
	if !has(u, "[HIGHESTMODSEQ 2]") {
		t.Fatalf("SELECT (CONDSTORE) = %q, want HIGHESTMODSEQ 2", u)
	}
	if u := s.ok("b FETCH 1:* (UID MODSEQ)"); len(u) != 2 || u[1] != "* 2 FETCH (UID 2 MODSEQ (2))" {
		t.Errorf("FETCH MODSEQ = %q", u)
	}
	if u := s.ok(`c STORE 1 +FLAGS (\Seen)`); len(u) != 1 || u[0] != `* 1 FETCH (UID 1 FLAGS (\Seen \Recent) MODSEQ (3))` {
		t.Errorf("STORE with CONDSTORE = %q", u)
	}
	if u := s.ok("d FETCH 1:* (FLAGS) (CHANGEDSINCE 2)"); len(u) != 1 || !strings.HasPrefix(u[0], "* 1 FETCH (FLAGS") || !strings.Contains(u[0], "MODSEQ (3)") {
		t.Errorf("FETCH CHANGEDSINCE 2 = %q", u)
	}
	_, tagged := s.run(`e STORE 1:2 (UNCHANGEDSINCE 2) +FLAGS (\Flagged)`)
	if !strings.HasPrefix(tagged, "OK [MODIFIED 1]") {
		t.Errorf("STORE UNCHANGEDSINCE 2 = %q, want [MODIFIED 1]", tagged)
	}
	if u := s.ok("f SEARCH MODSEQ 4"); len(u) != 1 || u[0] != "* SEARCH 2 (MODSEQ 4)" {
		t.Errorf("SEARCH MODSEQ 4 = %q", u)
	}
	if u := s.ok("g STATUS INBOX (HIGHESTMODSEQ)"); len(u) != 1 || u[0] != "* STATUS INBOX (HIGHESTMODSEQ 4)" {
		t.Errorf("STATUS HIGHESTMODSEQ = %q", u)
	}
}

func TestQResync(t *testing.T) {
	_, addr := newTestServer(t, "Subject: 1\r\n\r\n1\r\n", "Subject: 2\r\n\r\n2\r\n", "Subject: 3\r\n\r\n3\r\n")
	a := login(t, addr)
	a.ok("a SELECT INBOX")
	a.ok(`a STORE 1 +FLAGS (\Deleted)`)
	a.ok(`a STORE 3 +FLAGS (\Flagged)`)
	a.ok("a EXPUNGE")
	s := login(t, addr)
	if u := s.ok("b ENABLE QRESYNC"); len(u) != 1 || u[0] != "* ENABLED QRESYNC" {
		t.Fatalf("ENABLE QRESYNC = %q", u)
	}
	// The client knew UIDs 1:3 at mod-sequence 3.
	st := s.ok("c STATUS INBOX (UIDVALIDITY)")
	validity := strings.TrimSuffix(strings.TrimPrefix(st[0], "* STATUS INBOX (UIDVALIDITY "), ")")
	u := s.ok("d SELECT INBOX (QRESYNC (" + validity + " 3 1:3))")
	if !has(u, "* VANISHED (EARLIER) 1") || !has(u, `* 2 FETCH (UID 3 FLAGS (\Flagged \Recent) MODSEQ (`) || has(u, "UID 2 FLAGS") {
		t.Errorf("SELECT (QRESYNC) = %q", u)
	}
	// An expunge elsewhere now comes as VANISHED.
	a.ok(`a STORE 1 +FLAGS (\Deleted)`)
	a.ok("a EXPUNGE")
	if u := s.ok("e NOOP"); !has(u, "* VANISHED 2") {
		t.Errorf("NOOP after an expunge under QRESYNC = %q", u)
	}
	if u := s.ok("f UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)"); !has(u, "* VANISHED (EARLIER) 1:2") {
		t.Errorf("UID FETCH (CHANGEDSINCE VANISHED) = %q", u)
	}
}

func TestFetchWholeStreamed(t *testing.T) {
	_, addr := newTestServer(t, "Subject: lf\n\nline one\nline two")
	s := login(t, addr)
	s.ok("a SELECT INBOX")
	want := "Subject: lf\r\n\r\nline one\r\nline two\r\n"
	s.Send("b FETCH 1 (RFC822.SIZE BODY.PEEK[])")
	s.Expect("* 1 FETCH (RFC822.SIZE " + itoa(len(want)) + " BODY[] {" + itoa(len(want)) + "}")
	for _, l := range []string{"Subject: lf", "", "line one", "line two"} {
		if got := s.Line(); got != l {
			t.Fatalf("streamed line = %q, want %q", got, l)
		}
	}
	s.Expect(")")
	s.until("b")
	s.Send("c FETCH 1 BODY.PEEK[]<13.10>")
	s.Expect("* 1 FETCH (BODY[]<13> {10}")
	if l := s.Line(); l != "" {
		t.Fatalf("partial first line = %q", l)
	}
	if l := s.Line(); l != "line one)" {
		t.Fatalf("partial = %q", l)
	}
	s.until("c")
}

func TestListNoselectParent(t *testing.T) {
	be, addr := newTestServer(t)
	s := login(t, addr)
	// A backend with a/b/c but no a nor a/b (as Maildir++ made by another tool).
	be.mu.Lock()
	be.users["alice"].mailboxes["a/b/c"] = newMemMailbox(nil)
	be.mu.Unlock()
	u := s.ok(`x LIST "" a*`)
	if !has(u, `* LIST (\Noselect \HasChildren) "/" a`) || !has(u, `* LIST (\Noselect \HasChildren) "/" a/b`) || !has(u, `(\HasNoChildren) "/" a/b/c`) {
		t.Errorf("LIST = %q", u)
	}
}
