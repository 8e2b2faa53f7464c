package plumbtest_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/plumbnet/plumb/nntp"
	"github.com/plumbnet/plumb/plumbtest"
)

// News().Post stores an article a reader then fetches over NNTP; an
// article a reader posts shows in News().Articles.
func TestNewsPostAndArticles(t *testing.T) {
	srv := plumbtest.NewServer(t, plumbtest.With("nntp"), plumbtest.Group("comp.test"), plumbtest.Group("misc.test"))
	ctx := testContext(t)
	if err := srv.News().Post(ctx, []byte("From: alice@localhost\r\nNewsgroups: comp.test\r\nSubject: first\r\n\r\nfirst post\r\n")); err != nil {
		t.Fatalf("News().Post: %v", err)
	}

	c, err := nntp.Dial(ctx, srv.Addr("nntp"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	groups, err := c.ListActive(ctx, "*")
	if err != nil || len(groups) != 2 {
		t.Fatalf("LIST ACTIVE = %v, %v; want comp.test and misc.test", groups, err)
	}
	if _, err := c.Group(ctx, "comp.test"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, _, err := c.Article(ctx, "1", &buf); err != nil || !strings.Contains(buf.String(), "first post") {
		t.Fatalf("ARTICLE 1 = %q, %v; want the posted article", buf.String(), err)
	}
	if err := c.Auth(ctx, "alice", "secret"); err != nil {
		t.Fatal(err)
	}
	if err := c.Post(ctx, strings.NewReader("From: alice@localhost\r\nNewsgroups: comp.test,misc.test\r\nSubject: second\r\n\r\ncross-posted\r\n")); err != nil {
		t.Fatalf("POST: %v", err)
	}
	c.Quit(ctx)

	arts, err := srv.News().Articles(ctx, "comp.test")
	if err != nil || len(arts) != 2 {
		t.Fatalf("News().Articles(comp.test) = %d, %v; want 2", len(arts), err)
	}
	if arts[0].Subject != "first" || arts[1].Subject != "second" || arts[1].Number != 2 || arts[1].MessageID == "" {
		t.Errorf("Articles = %q #%d %q #%d %s; want first #1, second #2 with a Message-ID",
			arts[0].Subject, arts[0].Number, arts[1].Subject, arts[1].Number, arts[1].MessageID)
	}
	misc, err := srv.News().Articles(ctx, "misc.test")
	if err != nil || len(misc) != 1 || misc[0].MessageID != arts[1].MessageID {
		t.Errorf("News().Articles(misc.test) = %v, %v; want the cross-posted article", misc, err)
	}
}
