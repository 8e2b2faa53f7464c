package daemon

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/newsstore"
	"github.com/plumbnet/plumb/internal/testkit"
	"github.com/plumbnet/plumb/nntp"
)

// fakePeer answers a pull session from a script: NEWNEWS lists the
// ids of arts, ARTICLE <id> sends arts[id] as it is.
func fakePeer(t *testing.T, arts map[string]string, order []string) string {
	ln := testkit.Listen(t)
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				br := bufio.NewReader(nc)
				io.WriteString(nc, "200 fake peer\r\n")
				for {
					l, err := br.ReadString('\n')
					if err != nil {
						return
					}
					f := strings.Fields(l)
					switch strings.ToUpper(f[0]) {
					case "MODE":
						io.WriteString(nc, "200 reader\r\n")
					case "NEWNEWS":
						io.WriteString(nc, "230 list\r\n"+strings.Join(order, "\r\n")+"\r\n.\r\n")
					case "ARTICLE":
						io.WriteString(nc, "220 0 "+f[1]+"\r\n"+arts[f[1]]+".\r\n")
					case "QUIT":
						io.WriteString(nc, "205 bye\r\n")
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func pullTestFeeds(t *testing.T) (*newsFeeds, *newsstore.Store) {
	dir := t.TempDir()
	st, err := newsstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.AddGroup(newsstore.GroupConfig{Name: "local.test", Status: newsstore.Posting}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	be := &nntpBackend{store: st, log: log, host: "news.test"}
	return &newsFeeds{store: st, be: be, host: "news.test", log: log, maxArt: 2000, maxAge: 24 * time.Hour}, st
}

// TestNNTPPullChecksArticles: a pulled article must be the one asked
// for and within max_article_bytes, like a fed one.
func TestNNTPPullChecksArticles(t *testing.T) {
	art := func(id, extra string) string {
		return "Path: peer\r\nFrom: p@example.org\r\nNewsgroups: local.test\r\nSubject: s\r\nDate: " + nowRFC1123() +
			"\r\nMessage-ID: " + id + "\r\n\r\nbody\r\n" + extra
	}
	order := []string{"<swap@x>", "<big@x>", "<good@x>"}
	addr := fakePeer(t, map[string]string{
		"<swap@x>": art("<other@x>", ""),
		"<big@x>":  art("<big@x>", strings.Repeat("line of padding\r\n", 400)),
		"<good@x>": art("<good@x>", ""),
	}, order)
	f, st := pullTestFeeds(t)
	var cur feedCursor
	if err := f.pullOnce(context.Background(), addr, &cur); err != nil {
		t.Fatalf("pullOnce: %v", err)
	}
	if !st.Has("<good@x>") {
		t.Errorf("the good article was not taken")
	}
	for _, id := range []string{"<swap@x>", "<other@x>", "<big@x>"} {
		if st.Has(id) {
			t.Errorf("%s was stored", id)
		}
	}
}

// TestNNTPFeedExchangeTimeout: a peer that accepts and says nothing
// costs one exchange's timeout, not the feed.
func TestNNTPFeedExchangeTimeout(t *testing.T) {
	ln := testkit.Listen(t)
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { nc.Close() })
		}
	}()
	f, _ := pullTestFeeds(t)
	f.timeout = 50 * time.Millisecond
	done := make(chan error, 1)
	go func() { done <- f.pullOnce(context.Background(), ln.Addr().String(), &feedCursor{}) }()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("pullOnce from a silent peer succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("pullOnce from a silent peer still waiting after 10s")
	}
}

// TestNNTPFollowupMailedOnlyLocally: Followup-To: poster mails a
// follow-up only to an address at a local domain; another Reply-To
// would make the server relay with a null sender.
func TestNNTPFollowupMailedOnlyLocally(t *testing.T) {
	f, _ := pullTestFeeds(t)
	d := new(Daemon)
	var sent []string
	newsMail.Store(d, newsMailer(func(ctx context.Context, from, rcpt string, msg []byte) error {
		sent = append(sent, rcpt)
		return nil
	}))
	t.Cleanup(func() { newsMail.Delete(d) })
	be := f.be
	be.d, be.local = d, map[string]bool{"localhost": true}
	ctx := context.Background()
	for _, p := range []struct{ id, replyTo string }{{"<far@x>", "x@elsewhere.org"}, {"<near@x>", "alice@localhost"}} {
		parent := "Path: x\r\nFrom: p@example.org\r\nNewsgroups: local.test\r\nSubject: s\r\nDate: " + nowRFC1123() +
			"\r\nMessage-ID: " + p.id + "\r\nFollowup-To: poster\r\nReply-To: " + p.replyTo + "\r\n\r\nbody\r\n"
		a, err := nntp.ParseArticle([]byte(parent))
		if err != nil {
			t.Fatal(err)
		}
		if err := be.Post(ctx, a, "", true); err != nil {
			t.Fatal(err)
		}
		reply, _ := nntp.ParseArticle([]byte("From: b@example.org\r\nNewsgroups: local.test\r\nSubject: Re\r\nReferences: " + p.id + "\r\n\r\nr\r\n"))
		be.mailFollowup(ctx, reply)
	}
	if len(sent) != 1 || sent[0] != "alice@localhost" {
		t.Errorf("follow-ups mailed to %v, want only alice@localhost", sent)
	}
}
