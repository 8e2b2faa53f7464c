package nntp

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
	"github.com/plumbnet/plumb/sasl"
)

func TestClientReading(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := dialClient(t, ts.addr)
	ctx := context.Background()
	if c.Greeting.Code != 201 {
		t.Errorf("Greeting = %v, want 201", c.Greeting)
	}
	caps, err := c.Capabilities(ctx)
	if err != nil || len(caps) < 5 {
		t.Fatalf("Capabilities() = %v, %v", caps, err)
	}
	if _, err := c.Group(ctx, "no.such"); !errors.Is(err, ErrNoSuchGroup) {
		t.Errorf("Group(no.such) = %v, want 411", err)
	}
	g, err := c.Group(ctx, "misc.test")
	if err != nil || g.Count != 3 || g.Low != 1 || g.High != 3 {
		t.Fatalf("Group(misc.test) = %+v, %v", g, err)
	}
	var ovs []Overview
	if err := c.Over(ctx, "1-", func(o Overview) error { ovs = append(ovs, o); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(ovs) != 3 || ovs[1].Subject != "second" || ovs[1].References != "<1@example.org>" || ovs[1].Xref == "" {
		t.Errorf("Over(1-) = %+v", ovs)
	}
	var buf bytes.Buffer
	n, id, err := c.Article(ctx, "2", &buf)
	if err != nil || n != 2 || id != "<2@example.org>" || !strings.HasSuffix(buf.String(), "\r\n\r\n.dotted\r\nline 2\r\n") {
		t.Errorf("Article(2) = %d, %s, %q, %v", n, id, buf.String(), err)
	}
	buf.Reset()
	if _, _, err := c.Body(ctx, "<3@example.org>", &buf); err != nil || buf.String() != "body three\r\n" {
		t.Errorf("Body(<3>) = %q, %v", buf.String(), err)
	}
	if _, _, err := c.Head(ctx, "<none@x>", &buf); !errors.Is(err, ErrNoSuchArticle) {
		t.Errorf("Head(<none>) = %v, want 430", err)
	}
	if n, id, err := c.Next(ctx); err != nil || n != 3 || id != "<3@example.org>" {
		t.Errorf("Next() = %d, %s, %v", n, id, err)
	}
	nums, err := c.ListGroup(ctx, "misc.test", "")
	if err != nil || len(nums) != 3 {
		t.Errorf("ListGroup = %v, %v", nums, err)
	}
	groups, err := c.ListActive(ctx, "")
	if err != nil || len(groups) != 3 || groups[0].Name != "misc.test" || groups[0].Status != 'y' {
		t.Errorf("ListActive = %+v, %v", groups, err)
	}
	ids, err := c.NewNews(ctx, "*", time.Now().Add(-time.Hour))
	if err != nil || len(ids) != 3 {
		t.Errorf("NewNews = %v, %v", ids, err)
	}
	var subjects []string
	if err := c.Hdr(ctx, "Subject", "1-3", func(n int64, v string) error { subjects = append(subjects, v); return nil }); err != nil || len(subjects) != 3 {
		t.Errorf("Hdr = %v, %v", subjects, err)
	}
	if _, err := c.Date(ctx); err != nil {
		t.Errorf("Date: %v", err)
	}
	if _, err := c.Group(ctx, "a\r\nQUIT"); !errors.Is(err, ErrBadArgument) {
		t.Errorf("Group(CRLF) = %v, want ErrBadArgument", err)
	}
	if err := c.Quit(ctx); err != nil {
		t.Errorf("Quit: %v", err)
	}
}

func TestClientPostAndAuth(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := dialClient(t, ts.addr)
	ctx := context.Background()
	err := c.Post(ctx, strings.NewReader(post("x", "misc.test")))
	if !errors.Is(err, &Error{Code: 480}) {
		t.Fatalf("Post without auth = %v, want 480", err)
	}
	if err := c.Auth(ctx, "alice", "wrong"); !errors.Is(err, ErrAuthFailed) {
		t.Errorf("Auth(wrong) = %v, want 481", err)
	}
	if err := c.AuthSASL(ctx, sasl.NewLoginClient("alice", "secret")); err != nil {
		t.Fatalf("AuthSASL(LOGIN): %v", err)
	}
	if err := c.Post(ctx, strings.NewReader("From: a@b\nNewsgroups: misc.test\nSubject: lf\n\n.starts with dot\n")); err != nil {
		t.Fatalf("Post: %v", err)
	}
	var buf bytes.Buffer
	c.Group(ctx, "misc.test")
	if _, _, err := c.Body(ctx, "4", &buf); err != nil || buf.String() != ".starts with dot\r\n" {
		t.Errorf("Body(4) = %q, %v", buf.String(), err)
	}
	err = c.Post(ctx, strings.NewReader(post("x", "ro.group")))
	var ne *Error
	if !errors.As(err, &ne) || ne.Code != 441 {
		t.Errorf("Post(read-only) = %v, want 441", err)
	}
}

func TestClientTLSAndFeeds(t *testing.T) {
	srvTLS, cliTLS := testkit.TLS(t)
	ts := startServer(t, nil, func(s *Server) {
		s.TLSConfig = srvTLS
		s.FeedFrom = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	ctx := context.Background()
	c := dialClient(t, ts.addr)
	if err := c.StartTLS(ctx, cliTLS); err != nil {
		t.Fatalf("StartTLS: %v", err)
	}
	if err := c.Compress(ctx); err != nil {
		t.Fatalf("Compress: %v", err)
	}
	if err := c.IHave(ctx, "<1@example.org>", strings.NewReader("")); !errors.Is(err, ErrNotWanted) {
		t.Errorf("IHave(have) = %v, want 435", err)
	}
	if err := c.IHave(ctx, "<n1@p>", strings.NewReader(peerArticle("<n1@p>", "p"))); err != nil {
		t.Errorf("IHave: %v", err)
	}
	if err := c.ModeStream(ctx); err != nil {
		t.Fatal(err)
	}
	if want, err := c.Check(ctx, "<n2@p>"); err != nil || !want {
		t.Errorf("Check(new) = %v, %v", want, err)
	}
	if err := c.TakeThis(ctx, "<n2@p>", strings.NewReader(peerArticle("<n2@p>", "p"))); err != nil {
		t.Errorf("TakeThis: %v", err)
	}
	if err := c.TakeThis(ctx, "<n2@p>", strings.NewReader(peerArticle("<n2@p>", "p"))); !errors.Is(err, &Error{Code: 439}) {
		t.Errorf("TakeThis(dup) = %v, want 439", err)
	}
	g, err := c.Group(ctx, "misc.test")
	if err != nil || g.Count != 5 {
		t.Errorf("Group after feeds = %+v, %v", g, err)
	}
}

func TestClientContextCancel(t *testing.T) {
	ln := testkit.Listen(t)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		nc.Write([]byte("200 hi\r\n")) // and then silence
		t.Cleanup(func() { nc.Close() })
	}()
	c := dialClient(t, ln.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := c.Date(ctx); err == nil {
		t.Errorf("Date against a silent server = nil error, want a timeout")
	}
}

func TestClientRefusesPasswordInClearOffLoopback(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := dialClient(t, ts.addr)
	c.conn = testkit.FromAfar(c.conn)
	if err := c.Auth(context.Background(), "alice", "secret"); !errors.Is(err, ErrPlaintext) {
		t.Errorf("Auth off loopback without TLS = %v, want ErrPlaintext", err)
	}
}

func TestConformance(t *testing.T) {
	testkit.Conformance(t, testkit.Target{
		New: func(t *testing.T, gate *testkit.Gate) testkit.StreamServer {
			return &Server{Backend: gatedBackend{newTestBackend(), gate}, Logger: quietLog}
		},
		Greet: func(t *testing.T, c *testkit.Transcript) { c.Expect("20") },
		Busy:  func(t *testing.T, c *testkit.Transcript) { c.Send("GROUP misc.test") },
		Finish: func(t *testing.T, c *testkit.Transcript) {
			c.Expect("211 ")
		},
	})
}

// gatedBackend waits at the gate in Group.
type gatedBackend struct {
	*MemoryBackend
	gate *testkit.Gate
}

func (g gatedBackend) Group(ctx context.Context, name string) (Group, error) {
	if g.gate != nil {
		if err := g.gate.Wait(ctx); err != nil {
			return Group{}, err
		}
	}
	return g.MemoryBackend.Group(ctx, name)
}
