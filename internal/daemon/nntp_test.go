package daemon

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/newsstore"
	"github.com/plumbnet/plumb/nntp"
)

// startNNTPDaemon runs nntp (and smtp, for moderation) over a data
// directory with accounts alice and bob, groups local.test and
// local.mod (moderated by alice).
func startNNTPDaemon(t *testing.T, opts ...func(*NNTPConfig)) (*Daemon, string) {
	t.Helper()
	cfg := testConfig(t)
	n := nntpSection.of(cfg)
	n.Enabled, n.Addr, n.Hostname = true, "127.0.0.1:0", "news.test"
	for _, o := range opts {
		o(n)
	}
	s := smtpSection.of(cfg)
	s.Enabled, s.Addr = true, "127.0.0.1:0"
	db, err := accounts.OpenWith(filepath.Join(cfg.Data, accounts.FileName), accounts.Options{Cost: 4})
	if err != nil {
		t.Fatal(err)
	}
	db.Add("alice", "alice-pw")
	db.Add("bob", "bob-pw")
	newsstore.AddGroup(NewsDir(cfg.Data), newsstore.GroupConfig{Name: "local.test", Description: "tests"})
	newsstore.AddGroup(NewsDir(cfg.Data), newsstore.GroupConfig{Name: "local.mod", Status: newsstore.Moderated, Moderator: "alice"})
	newsstore.AddGroup(NewsDir(cfg.Data), newsstore.GroupConfig{Name: "local.ro", Status: newsstore.ReadOnly})
	newsstore.AddGroup(NewsDir(cfg.Data), newsstore.GroupConfig{Name: "local.far", Status: newsstore.Moderated, Moderator: "bob@elsewhere.org"})
	d := startTest(t, cfg)
	t.Cleanup(func() { d.Close() })
	return d, addrOf(t, d, "nntp")
}

func TestNNTPDaemonPostReadModerate(t *testing.T) {
	d, addr := startNNTPDaemon(t)
	ctx := context.Background()
	c, err := nntp.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	art := "From: bob@example.org\r\nNewsgroups: local.test\r\nSubject: hello\r\n\r\nbody\r\n"
	if err := c.Post(ctx, strings.NewReader(art)); !errors.Is(err, &nntp.Error{Code: 480}) {
		t.Fatalf("Post without auth = %v, want 480", err)
	}
	if err := c.Auth(ctx, "bob", "bob-pw"); err != nil {
		t.Fatal(err)
	}
	if err := c.Post(ctx, strings.NewReader(art)); err != nil {
		t.Fatalf("Post: %v", err)
	}
	g, err := c.Group(ctx, "local.test")
	if err != nil || g.Count != 1 || g.High != 1 {
		t.Fatalf("Group(local.test) = %+v, %v", g, err)
	}
	var buf bytes.Buffer
	if _, _, err := c.Article(ctx, "1", &buf); err != nil || !strings.Contains(buf.String(), "Xref: news.test local.test:1\r\n") || !strings.Contains(buf.String(), "Path: news.test!not-for-mail") {
		t.Errorf("Article(1) = %q, %v", buf.String(), err)
	}
	// A forged Approved header is refused; without one the article goes to alice.
	mod := "From: bob@example.org\r\nNewsgroups: local.mod\r\nSubject: please\r\n"
	err = c.Post(ctx, strings.NewReader(mod+"Approved: bob@example.org\r\n\r\nx\r\n"))
	if !errors.Is(err, &nntp.Error{Code: 441}) {
		t.Errorf("Post(forged Approved) = %v, want 441", err)
	}
	if err := c.Post(ctx, strings.NewReader(mod+"\r\nfor the moderator\r\n")); err != nil {
		t.Fatalf("Post(moderated) = %v", err)
	}
	if msgs := inbox(t, d, "alice", 1); len(msgs) != 1 || !strings.Contains(msgs[0], "X-Plumb-Moderated-Group: local.mod") {
		t.Errorf("alice's inbox = %q, want the submission", msgs)
	}
	if g, _ := c.Group(ctx, "local.mod"); g.Count != 0 {
		t.Errorf("local.mod has %d articles before approval", g.Count)
	}
	// A group added while the daemon runs is served at once.
	if err := newsstore.AddGroup(NewsDir(d.DataDir()), newsstore.GroupConfig{Name: "late.group"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Group(ctx, "late.group"); err != nil {
		t.Errorf("Group(late.group) after add = %v", err)
	}
}

func TestNNTPMailToNewsAndFollowupToPoster(t *testing.T) {
	d, addr := startNNTPDaemon(t, func(n *NNTPConfig) { n.AnonymousPost = true })
	sc := dialSMTP(t, addrOf(t, d, "smtp"))
	msg := "From: Carol <carol@example.org>\r\nSubject: by mail\r\nMessage-ID: <mailed-1@example.org>\r\nApproved: forged@example.org\r\nFollowup-To: poster\r\nReply-To: alice@localhost\r\n\r\nposted by mail\r\n"
	if err := sc.SendMail("carol@example.org", []string{"local.test@news.localhost"}, strings.NewReader(msg), nil); err != nil {
		t.Fatalf("SendMail to local.test@news.localhost: %v", err)
	}
	if err := sc.SendMail("carol@example.org", []string{"no.such@news.localhost"}, strings.NewReader(msg), nil); err == nil {
		t.Errorf("SendMail to a group that does not exist succeeded")
	}
	ctx := context.Background()
	c, err := nntp.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var buf bytes.Buffer
	if _, _, err := c.Article(ctx, "<mailed-1@example.org>", &buf); err != nil {
		t.Fatalf("the mailed article: %v", err)
	}
	if a := buf.String(); !strings.Contains(a, "Newsgroups: local.test\r\n") || strings.Contains(a, "Approved:") || !strings.Contains(a, "Path: news.test!from-mail") {
		t.Errorf("mailed article = %q", a)
	}
	// A follow-up to it is mailed to its Reply-To, alice.
	if err := c.Auth(ctx, "bob", "bob-pw"); err != nil {
		t.Fatal(err)
	}
	reply := "From: bob@example.org\r\nNewsgroups: local.test\r\nSubject: Re: by mail\r\nReferences: <mailed-1@example.org>\r\n\r\nanswer\r\n"
	if err := c.Post(ctx, strings.NewReader(reply)); err != nil {
		t.Fatal(err)
	}
	if msgs := inbox(t, d, "alice", 1); len(msgs) != 1 || !strings.Contains(msgs[0], "Subject: Re: by mail") {
		t.Errorf("alice's inbox = %q, want the follow-up", msgs)
	}
}
