package nntp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

func TestGreetingAndCapabilities(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := testkit.Dial(t, ts.addr)
	c.Expect("201 ") // posting needs AUTHINFO by default
	c.Do("CAPABILITIES", 101)
	caps := strings.Join(multi(c), "\n")
	for _, want := range []string{"VERSION 2", "READER", "OVER MSGID", "HDR", "LIST ACTIVE", "AUTHINFO USER SASL", "SASL PLAIN LOGIN", "COMPRESS DEFLATE"} {
		if !strings.Contains(caps, want) {
			t.Errorf("CAPABILITIES = %q, want %q", caps, want)
		}
	}
	if strings.Contains(caps, "\nPOST") {
		t.Errorf("CAPABILITIES offers POST before authentication: %q", caps)
	}
	c.Do("MODE READER", 201)
	c.Do("DATE", 111)
	c.Do("HELP", 100)
	if help := multi(c); len(help) < 20 {
		t.Errorf("HELP has %d lines", len(help))
	}
	c.Do("FOO", 500)
	c.Do("MODE BOGUS", 501)
	c.Do("QUIT", 205)
}

// TestGroupNavigation follows RFC 3977's GROUP, LISTGROUP, LAST, NEXT
// and STAT examples on a group with articles 1-3.
func TestGroupNavigation(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := dialNNTP(t, ts.addr)
	c.Do("NEXT", 412)
	c.Do("ARTICLE", 412)
	c.Do("GROUP no.such.group", 411)
	if got := c.Do("GROUP misc.test", 211); got != "211 3 1 3 misc.test" {
		t.Errorf("GROUP = %q", got)
	}
	c.Do("LAST", 422)
	if got := c.Do("NEXT", 223); got != "223 2 <2@example.org> retrieved" {
		t.Errorf("NEXT = %q", got)
	}
	c.Do("NEXT", 223)
	c.Do("NEXT", 421)
	if got := c.Do("LAST", 223); !strings.HasPrefix(got, "223 2 <2@example.org>") {
		t.Errorf("LAST = %q", got)
	}
	if got := c.Do("STAT", 223); got != "223 2 <2@example.org>" {
		t.Errorf("STAT = %q", got)
	}
	c.Do("STAT 9", 423)
	c.Do("STAT <nope@x>", 430)
	if got := c.Do("STAT <3@example.org>", 223); got != "223 0 <3@example.org>" {
		t.Errorf("STAT by id = %q", got)
	}
	c.Do("STAT bad", 501)
	c.Do("LISTGROUP misc.test 2-", 211)
	if got := multi(c); fmt.Sprint(got) != "[2 3]" {
		t.Errorf("LISTGROUP 2- = %v", got)
	}
	c.Do("LISTGROUP", 211)
	if got := multi(c); len(got) != 3 {
		t.Errorf("LISTGROUP = %v", got)
	}
}

func TestArticleHeadBody(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := dialNNTP(t, ts.addr)
	c.Do("GROUP misc.test", 211)
	c.Do("ARTICLE 2", 220)
	art := multi(c)
	if art[0] != "Path: seed!not-for-mail" || art[len(art)-2] != "..dotted" || art[len(art)-1] != "line 2" {
		t.Errorf("ARTICLE 2 = %q (dot-stuffed body wanted)", art)
	}
	c.Do("HEAD 2", 221)
	head := multi(c)
	if head[len(head)-1] == "" || !strings.HasPrefix(head[len(head)-1], "Xref: ") {
		t.Errorf("HEAD 2 = %q, want header fields only, Xref last", head)
	}
	c.Do("BODY <2@example.org>", 222)
	if body := multi(c); fmt.Sprint(body) != "[..dotted line 2]" {
		t.Errorf("BODY = %q", body)
	}
	if got := c.Do("HEAD", 221); got != "221 2 <2@example.org>" {
		t.Errorf("HEAD (current) = %q", got)
	}
	multi(c)
}

func TestOverAndHdr(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := dialNNTP(t, ts.addr)
	c.Do("OVER", 412)
	c.Do("GROUP misc.test", 211)
	c.Do("OVER 1-2", 224)
	lines := multi(c)
	if len(lines) != 2 {
		t.Fatalf("OVER 1-2 = %q", lines)
	}
	f := strings.Split(lines[1], "\t")
	if len(f) != 9 || f[0] != "2" || f[1] != "second" || f[4] != "<2@example.org>" || f[5] != "<1@example.org>" || !strings.HasPrefix(f[8], "Xref: memory misc.test:2 ro.group:1") {
		t.Errorf("OVER line = %q", f)
	}
	c.Do("OVER 10-20", 423)
	c.Do("XOVER 3", 224)
	if l := multi(c); len(l) != 1 || !strings.HasPrefix(l[0], "3\tthird") {
		t.Errorf("XOVER 3 = %q", l)
	}
	c.Do("OVER <1@example.org>", 224)
	if l := multi(c); len(l) != 1 || !strings.HasPrefix(l[0], "0\tfirst") {
		t.Errorf("OVER <id> = %q", l)
	}
	c.Do("HDR Subject 1-", 225)
	if l := multi(c); fmt.Sprint(l) != "[1 first 2 second 3 third]" {
		t.Errorf("HDR Subject = %q", l)
	}
	c.Do("XHDR X-Extra 1-3", 221)
	if l := multi(c); len(l) != 3 || l[1] != "2 hello" {
		t.Errorf("XHDR X-Extra = %q", l)
	}
	c.Do("HDR :lines <3@example.org>", 225)
	if l := multi(c); fmt.Sprint(l) != "[0 1]" {
		t.Errorf("HDR :lines <id> = %q", l)
	}
	c.Do("XPAT Subject 1-3 *ir* s*", 221)
	if l := multi(c); fmt.Sprint(l) != "[1 first 2 second 3 third]" {
		t.Errorf("XPAT = %q", l)
	}
	c.Do("XPAT From 1-3 b@*", 221)
	if l := multi(c); fmt.Sprint(l) != "[2 b@example.org]" {
		t.Errorf("XPAT From = %q", l)
	}
	c.Do("LIST OVERVIEW.FMT", 215)
	if l := multi(c); len(l) != 8 || l[5] != ":bytes" || l[7] != "Xref:full" {
		t.Errorf("LIST OVERVIEW.FMT = %q", l)
	}
}

func TestListsAndNew(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := dialNNTP(t, ts.addr)
	c.Do("LIST", 215)
	if l := multi(c); fmt.Sprint(l) != "[misc.test 3 1 y mod.group 0 1 m ro.group 1 1 n]" {
		t.Errorf("LIST = %q", l)
	}
	c.Do("LIST ACTIVE m*", 215)
	if l := multi(c); len(l) != 2 {
		t.Errorf("LIST ACTIVE m* = %q", l)
	}
	c.Do("LIST ACTIVE.TIMES", 215)
	if l := multi(c); len(l) != 3 || !strings.HasSuffix(l[0], " news") {
		t.Errorf("LIST ACTIVE.TIMES = %q", l)
	}
	c.Do("LIST NEWSGROUPS", 215)
	multi(c)
	c.Do("LIST DISTRIB.PATS", 215)
	multi(c)
	c.Do("LIST HEADERS", 215)
	multi(c)
	c.Do("LIST BOGUS", 501)
	old := time.Now().Add(-time.Hour).UTC()
	c.Do("NEWGROUPS "+old.Format("20060102 150405")+" GMT", 231)
	if l := multi(c); len(l) != 3 {
		t.Errorf("NEWGROUPS = %q", l)
	}
	c.Do("NEWGROUPS "+old.Add(2*time.Hour).Format("060102 150405")+" GMT", 231)
	if l := multi(c); len(l) != 0 {
		t.Errorf("NEWGROUPS (future) = %q", l)
	}
	c.Do("NEWNEWS misc.* "+old.Format("20060102 150405")+" GMT", 230)
	if l := multi(c); fmt.Sprint(l) != "[<1@example.org> <2@example.org> <3@example.org>]" {
		t.Errorf("NEWNEWS = %q", l)
	}
	c.Do("NEWNEWS ro.* "+old.Format("20060102 150405")+" GMT", 230)
	if l := multi(c); fmt.Sprint(l) != "[<2@example.org>]" {
		t.Errorf("NEWNEWS ro.* = %q", l)
	}
	c.Do("NEWNEWS * 2024", 501)
}

func TestPostNeedsAuth(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := dialNNTP(t, ts.addr)
	c.Do("POST", 480)
	c.Do("AUTHINFO PASS x", 482)
	c.Do("AUTHINFO USER alice", 381)
	c.Do("AUTHINFO PASS wrong", 481)
	c.Do("AUTHINFO USER bob", 381)
	c.Do("AUTHINFO PASS pw with spaces", 281)
	c.Do("AUTHINFO USER bob", 502)
	c.Do("POST", 340)
	c.Write(post("new post", "misc.test") + ".\r\n")
	c.Expect("240 ")
	c.Do("GROUP misc.test", 211)
	c.Do("HEAD 4", 221)
	h := strings.Join(multi(c), "\n")
	for _, want := range []string{"Path: news.test!not-for-mail", "Message-ID: <", "@news.test>", "Date: "} {
		if !strings.Contains(h, want) {
			t.Errorf("posted header = %q, want %q", h, want)
		}
	}
}

func TestPostRefusals(t *testing.T) {
	ts := startServer(t, nil, func(s *Server) { s.MaxArticleSize = 2000; s.PostsPerMinute = 9 })
	c := dialNNTP(t, ts.addr)
	login(t, c, "bob", "pw with spaces")
	cases := []struct{ name, article, want string }{
		{"no subject", "From: a@b\r\nNewsgroups: misc.test\r\n\r\nx\r\n", "441 Missing required header Subject"},
		{"no group", post("x", "no.such"), "441 No such newsgroup"},
		{"read-only", post("x", "ro.group"), "441 Posting to read-only"},
		{"bad id", post("x", "misc.test", "Message-ID: nobrackets\r\n"), "441 Malformed Message-ID"},
		{"duplicate", post("x", "misc.test", "Message-ID: <1@example.org>\r\n"), "441 Duplicate"},
		{"bad date", post("x", "misc.test", "Date: yesterday\r\n"), "441 Malformed Date"},
		{"forged approved", post("x", "mod.group", "Approved: bob@example.org\r\n"), "441 Approved header not allowed"},
		{"too large", post(strings.Repeat("y", 3000), "misc.test"), "441 Article too large"},
		{"bare LF", "From: a@b\nNewsgroups: misc.test\nSubject: s\n\nsmuggled\n.\nPOST\r\n", "441 Article lines must end in CRLF"},
	}
	for _, tc := range cases {
		c.Do("POST", 340)
		c.Write(tc.article + ".\r\n")
		if got := c.Line(); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: POST = %q, want %q", tc.name, got, tc.want)
		}
	}
	// The session goes on; the tenth POST in a minute is a flood (440).
	c.Do("POST", 440)
	c.Do("DATE", 111)
	// Held for the moderator: no Approved header.
	if n := len(ts.b.Held()); n != 0 {
		t.Errorf("held = %d before a moderated post", n)
	}
}

func TestModeratedApproved(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := dialNNTP(t, ts.addr)
	login(t, c, "alice", "secret")
	c.Do("POST", 340)
	c.Write(post("approved", "mod.group", "Approved: alice@example.org\r\n") + ".\r\n")
	c.Expect("240 ")
	c.Do("POST", 340)
	c.Write(post("to moderate", "mod.group") + ".\r\n")
	c.Expect("240 ")
	if g, _ := ts.b.Group(context.Background(), "mod.group"); g.Count != 1 {
		t.Errorf("mod.group count = %d, want 1 (the approved one)", g.Count)
	}
	if h := ts.b.Held(); len(h) != 1 || h[0].Get("Subject") != "to moderate" {
		t.Errorf("held = %v, want the unapproved post", h)
	}
}

func TestCommandLineTooLong(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := dialNNTP(t, ts.addr)
	c.Send("GROUP " + strings.Repeat("a", 2000))
	c.Expect("501 Command line too long")
	c.Do("GROUP misc.test", 211)
}

func peerArticle(id, path string) string {
	return "Path: " + path + "\r\nFrom: p@example.org\r\nNewsgroups: misc.test\r\nSubject: fed\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: " + id + "\r\n\r\nfed body\r\n"
}

func TestIHaveAndStreaming(t *testing.T) {
	ts := startServer(t, nil, func(s *Server) {
		s.FeedFrom = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		s.MaxArticleSize = 4000
	})
	c := dialNNTP(t, ts.addr)
	c.Do("IHAVE <1@example.org>", 435)
	c.Do("IHAVE bad", 501)
	c.Do("IHAVE <f1@peer>", 335)
	c.Write(peerArticle("<f1@peer>", "peer!origin") + ".\r\n")
	c.Expect("235 ")
	c.Do("IHAVE <f2@peer>", 335)
	c.Write(peerArticle("<f2@peer>", "peer!news.test!origin") + ".\r\n")
	c.Expect("437 Loop")
	c.Do("IHAVE <f3@peer>", 335)
	c.Write(peerArticle("<other@peer>", "peer") + ".\r\n")
	c.Expect("437 Message-ID differs")
	c.Do("IHAVE <f4@peer>", 335)
	c.Write(peerArticle("<f4@peer>", strings.Repeat("p", 5000)) + ".\r\n")
	c.Expect("437 Article too large")

	c.Do("MODE STREAM", 203)
	c.Do("CHECK <f1@peer>", 438)
	c.Do("CHECK <f5@peer>", 238)
	// Pipelined: two TAKETHIS back to back, then the answers.
	c.Write("TAKETHIS <f5@peer>\r\n" + peerArticle("<f5@peer>", "peer") + ".\r\n" +
		"TAKETHIS <f1@peer>\r\n" + peerArticle("<f1@peer>", "peer") + ".\r\n")
	c.Expect("239 <f5@peer>")
	c.Expect("439 <f1@peer>")
	c.Do("GROUP misc.test", 211)
	c.Do("HEAD <f1@peer>", 221)
	if h := strings.Join(multi(c), "\n"); !strings.Contains(h, "Path: news.test!peer!origin") {
		t.Errorf("fed article header = %q, want our host prepended to Path", h)
	}
}

func TestFeedRefusedWithoutPermission(t *testing.T) {
	ts := startServer(t, nil, func(s *Server) { s.FeedAccounts = []string{"alice"} })
	c := dialNNTP(t, ts.addr)
	c.Do("IHAVE <x@y>", 480)
	c.Do("MODE STREAM", 480)
	// An ordinary account may post, not feed: a fed article skips
	// POST's read-only, Approved and rate checks.
	login(t, c, "bob", "pw with spaces")
	c.Do("IHAVE <x@y>", 480)
	c.Do("MODE STREAM", 480)
	c.Do("CHECK <x@y>", 480)
	c = dialNNTP(t, ts.addr)
	login(t, c, "alice", "secret")
	c.Do("IHAVE <x@y>", 335)
	c.Write(peerArticle("<x@y>", "peer") + ".\r\n")
	c.Expect("235")
}

func TestReadAuth(t *testing.T) {
	ts := startServer(t, nil, func(s *Server) { s.ReadAuth = true })
	c := dialNNTP(t, ts.addr)
	c.Do("GROUP misc.test", 480)
	c.Do("LIST", 480)
	login(t, c, "alice", "secret")
	c.Do("GROUP misc.test", 211)
}

func TestPasswordRefusedOffLoopbackWithoutTLS(t *testing.T) {
	srvTLS, cliTLS := testkit.TLS(t)
	ln := testkit.Listener{Listener: testkit.Listen(t), Wrap: testkit.FromAfar}
	ts := startServer(t, ln, func(s *Server) { s.TLSConfig = srvTLS })
	c := dialNNTP(t, ts.addr)
	c.Do("AUTHINFO USER alice", 483)
	c.Do("STARTTLS", 382)
	tc := tls.Client(c.Conn, cliTLS)
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c = testkit.NewTranscript(t, tc)
	c.Do("CAPABILITIES", 101)
	if caps := strings.Join(multi(c), "\n"); strings.Contains(caps, "STARTTLS") || !strings.Contains(caps, "AUTHINFO USER") {
		t.Errorf("CAPABILITIES after STARTTLS = %q", caps)
	}
	c.Do("STARTTLS", 502)
	login(t, c, "alice", "secret")
}

func TestSASLPlain(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := dialNNTP(t, ts.addr)
	c.Do("AUTHINFO SASL PLAIN AGFsaWNlAHdyb25n", 481) // alice/wrong
	c.Do("AUTHINFO SASL PLAIN", 383)
	c.Do("AGFsaWNlAHNlY3JldA==", 281) // alice/secret
	c.Do("POST", 340)
	c.Write(post("sasl", "misc.test") + ".\r\n")
	c.Expect("240")
}

func TestShutdownSaysGoodbye(t *testing.T) {
	b := newTestBackend()
	s := &Server{Backend: b, Logger: quietLog}
	ln := testkit.Listen(t)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	c := dialNNTP(t, ln.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	c.Expect("400 ")
	if err := <-done; err == nil {
		t.Errorf("Serve returned nil after Shutdown")
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Errorf("listener still accepting after Shutdown")
	}
}

// haveFails is a backend whose history lookup fails.
type haveFails struct{ *MemoryBackend }

func (haveFails) Have(context.Context, string) (bool, error) {
	return false, errors.New("disk on fire")
}

// TestTakeThisHistoryFailureCloses: TAKETHIS's 439 is final, so a
// failed history lookup ends the session (400) instead.
func TestTakeThisHistoryFailureCloses(t *testing.T) {
	ts := startServer(t, nil, func(s *Server) {
		s.FeedFrom = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		s.Backend = haveFails{s.Backend.(*MemoryBackend)}
	})
	c := dialNNTP(t, ts.addr)
	c.Do("MODE STREAM", 203)
	c.Write("TAKETHIS <h@peer>\r\n" + peerArticle("<h@peer>", "peer") + ".\r\n")
	c.Expect("400 ")
	if !c.Closed(10 * time.Second) {
		t.Errorf("connection still open after 400")
	}
}

// TestTakeThisRefusedArticleIsRead: a TAKETHIS refused (480, 501)
// still has its article read, so none of its lines runs as a command.
func TestTakeThisRefusedArticleIsRead(t *testing.T) {
	ts := startServer(t, nil, func(s *Server) { s.FeedAccounts = []string{"alice"} })
	body := "Path: p\r\nMessage-ID: <q@peer>\r\n\r\nQUIT\r\n"
	c := dialNNTP(t, ts.addr)
	c.Write("TAKETHIS <q@peer>\r\n" + body + ".\r\n")
	c.Expect("480 ")
	c.Do("DATE", 111)
	login(t, c, "alice", "secret")
	c.Write("TAKETHIS\r\n" + body + ".\r\n")
	c.Expect("501 ")
	c.Do("DATE", 111)
}

// TestRefusedArticleDrainBounded: after the size limit, an article is
// drained only up to twice the limit, then the session is closed.
func TestRefusedArticleDrainBounded(t *testing.T) {
	ts := startServer(t, nil, func(s *Server) { s.MaxArticleSize = 1000 })
	c := dialNNTP(t, ts.addr)
	login(t, c, "alice", "secret")
	c.Do("POST", 340)
	c.Write(post("big", "misc.test", "X-Pad: "+strings.Repeat("x", 400)+"\r\n") + strings.Repeat("y\r\n", 600) + ".\r\n")
	c.Expect("441 Article too large") // 1.2 KB past a 1 KB limit: drained, the session goes on
	c.Do("POST", 340)
	go c.Conn.Write([]byte(post("huge", "misc.test") + strings.Repeat("z\r\n", 20000) + ".\r\n")) // fails once closed
	c.Expect("400 Article far over")
	if !c.Closed(10 * time.Second) {
		t.Errorf("connection still open after 400")
	}
}

// TestFedArticleTooOld: a fed article older than MaxArticleAge (the
// history's memory) is refused.
func TestFedArticleTooOld(t *testing.T) {
	ts := startServer(t, nil, func(s *Server) {
		s.FeedFrom = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		s.MaxArticleAge = 24 * time.Hour
	})
	c := dialNNTP(t, ts.addr)
	c.Do("IHAVE <old@peer>", 335)
	c.Write(peerArticle("<old@peer>", "peer") + ".\r\n") // dated 2024
	c.Expect("437 Article too old")
	c.Do("IHAVE <new@peer>", 335)
	fresh := strings.Replace(peerArticle("<new@peer>", "peer"), "Mon, 1 Jan 2024 10:00:00 +0000", time.Now().UTC().Format(time.RFC1123Z), 1)
	c.Write(fresh + ".\r\n")
	c.Expect("235 ")
}

// arriving is a backend where every id is arriving by another session.
type arriving struct{ *MemoryBackend }

func (arriving) Have(context.Context, string) (bool, error) { return false, ErrTryLater }

// TestCheckWhileArriving: an id being stored by another session is
// 431 to CHECK (ask again) and 439 to TAKETHIS, never 238 twice.
func TestCheckWhileArriving(t *testing.T) {
	ts := startServer(t, nil, func(s *Server) {
		s.FeedFrom = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		s.Backend = arriving{s.Backend.(*MemoryBackend)}
	})
	c := dialNNTP(t, ts.addr)
	c.Do("MODE STREAM", 203)
	c.Do("CHECK <a@peer>", 431)
	c.Write("TAKETHIS <a@peer>\r\n" + peerArticle("<a@peer>", "peer") + ".\r\n")
	c.Expect("439 <a@peer>")
	c.Do("IHAVE <a@peer>", 436)
}

// TestCompressSessionsBounded: COMPRESS costs ~850 KiB a session, so
// only MaxCompressSessions sessions get it at once; a slot frees when
// its session ends.
func TestCompressSessionsBounded(t *testing.T) {
	ts := startServer(t, nil, func(s *Server) { s.MaxCompressSessions = 1 })
	a := dialNNTP(t, ts.addr)
	a.Do("COMPRESS DEFLATE", 206)
	b := dialNNTP(t, ts.addr)
	b.Do("COMPRESS DEFLATE", 403)
	b.Do("DATE", 111) // the session goes on, uncompressed
	a.Conn.Close()
	testkit.Eventually(t, 10*time.Second, "a slot free after the compressed session ended", func() bool {
		code, _ := b.Cmd("COMPRESS DEFLATE")
		return code == 206
	})
}

// TestCompressWritersShared: a session under COMPRESS holds a deflater
// only while it writes a batch of replies, so two sessions take turns
// with one (MaxCompressWriters 1), each stream staying valid across
// batches for the client's single inflater.
func TestCompressWritersShared(t *testing.T) {
	ts := startServer(t, nil, func(s *Server) { s.MaxCompressWriters = 1; s.WriteTimeout = 5 * time.Second })
	ctx := context.Background()
	a, b := dialClient(t, ts.addr), dialClient(t, ts.addr)
	for _, c := range []*Client{a, b} {
		if err := c.Compress(ctx); err != nil {
			t.Fatalf("Compress: %v", err)
		}
	}
	for i := range 3 {
		for _, c := range []*Client{a, b} {
			g, err := c.Group(ctx, "misc.test")
			if err != nil || g.Count != 3 {
				t.Fatalf("round %d: Group = %+v, %v", i, g, err)
			}
			var buf strings.Builder
			if _, _, err := c.Article(ctx, "2", &buf); err != nil || !strings.HasSuffix(buf.String(), "\r\n\r\n.dotted\r\nline 2\r\n") {
				t.Fatalf("round %d: Article = %q, %v", i, buf.String(), err)
			}
		}
	}
	testkit.Eventually(t, 5*time.Second, "no deflater held by the idle sessions", func() bool {
		return len(ts.compressWriters()) == 0
	})
}
