package plumbtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/plumbnet/plumb/internal/daemon"
	"github.com/plumbnet/plumb/internal/newsstore"
	"github.com/plumbnet/plumb/nntp"
)

// maxArticles bounds how many articles Articles reads from one group.
const maxArticles = 10000

// addGroups writes the newsgroups into the news spool's groups file
// before the daemon opens it, as plumb news group add does.
func addGroups(data string, groups []string) error {
	for _, g := range groups {
		if err := newsstore.AddGroup(daemon.NewsDir(data), newsstore.GroupConfig{Name: g, Creator: "plumbtest"}); err != nil {
			return fmt.Errorf("Group(%q): %w", g, err)
		}
	}
	return nil
}

// News is the "nntp" service's spool, reached the way a reader reaches
// it: over NNTP, logged in as the server's first account.
type News struct {
	s *Server
}

// Article is one article of a group, taken apart as a [Message] is.
type Article struct {
	Group     string
	Number    int64
	MessageID string
	*Message
}

// News returns the news handle. A server without "nntp" fails the test.
func (s *Server) News() *News {
	if s.tb != nil {
		s.tb.Helper()
	}
	s.Addr("nntp")
	return &News{s: s}
}

func (n *News) dial(ctx context.Context) (*nntp.Client, error) {
	c, err := nntp.Dial(ctx, n.s.addrs["nntp"])
	if err != nil {
		return nil, fmt.Errorf("plumbtest: news: %w", err)
	}
	user, password := n.s.firstUser()
	if err := c.Auth(ctx, user, password); err != nil {
		c.Close()
		return nil, fmt.Errorf("plumbtest: news: logging in as %s: %w", user, err)
	}
	return c, nil
}

// Post posts an article (its header, with Newsgroups and From, a blank
// line and its body), as the server's first account, and returns once
// the server has stored it.
func (n *News) Post(ctx context.Context, article []byte) error {
	c, err := n.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Post(ctx, bytes.NewReader(article)); err != nil {
		return fmt.Errorf("plumbtest: news: POST: %w", err)
	}
	c.Quit(ctx)
	return nil
}

// Articles returns the articles of group, oldest first.
func (n *News) Articles(ctx context.Context, group string) ([]*Article, error) {
	c, err := n.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	nums, err := c.ListGroup(ctx, group, "")
	if err != nil {
		return nil, fmt.Errorf("plumbtest: news: LISTGROUP %s: %w", group, err)
	}
	if len(nums) > maxArticles {
		nums = nums[len(nums)-maxArticles:]
	}
	var out []*Article
	for _, num := range nums {
		var buf bytes.Buffer
		_, id, err := c.Article(ctx, fmt.Sprint(num), &limitWriter{w: &buf, n: maxMessageBytes})
		if err != nil {
			if e, ok := errors.AsType[*nntp.Error](err); ok && e.Code == 423 {
				continue // expired or cancelled since the listing
			}
			return nil, fmt.Errorf("plumbtest: news: ARTICLE %d of %s: %w", num, group, err)
		}
		out = append(out, &Article{Group: group, Number: num, MessageID: id, Message: parseMessage(buf.Bytes())})
	}
	c.Quit(ctx)
	return out, nil
}

// limitWriter fails a write past n bytes, so a huge article cannot fill
// the test's memory.
type limitWriter struct {
	w io.Writer
	n int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.n {
		return 0, fmt.Errorf("plumbtest: article over %d bytes", maxMessageBytes)
	}
	l.n -= int64(len(p))
	return l.w.Write(p)
}
