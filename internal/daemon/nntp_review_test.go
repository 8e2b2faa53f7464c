package daemon

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
	"github.com/plumbnet/plumb/nntp"
	"github.com/plumbnet/plumb/sasl"
	"github.com/plumbnet/plumb/smtp"
)

// sendTo runs one SMTP transaction and returns the RCPT errors and
// DATA's.
func sendTo(t *testing.T, c *smtp.Client, rcpts []string, msg string) ([]error, error) {
	t.Helper()
	if err := c.Mail("carol@example.org", nil); err != nil {
		t.Fatal(err)
	}
	var errs []error
	ok := 0
	for _, r := range rcpts {
		err := c.Rcpt(r, nil)
		errs = append(errs, err)
		if err == nil {
			ok++
		}
	}
	if ok == 0 {
		c.Reset()
		return errs, nil
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(msg))
	return errs, w.Close()
}

func smtpCode(err error) int {
	var se *smtp.Error
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// TestNNTPMailToNewsNeedsAuth: with anonymous_post off, port 25 does
// not post for anyone; the refused news recipient leaves the local
// recipients of the transaction their message.
func TestNNTPMailToNewsNeedsAuth(t *testing.T) {
	d, addr := startNNTPDaemon(t)
	sc := dialSMTP(t, addrOf(t, d, "smtp"))
	msg := "From: carol@example.org\r\nSubject: anon\r\nMessage-ID: <anon-1@example.org>\r\n\r\nhi\r\n"
	errs, err := sendTo(t, sc, []string{"local.test@news.localhost", "alice@localhost"}, msg)
	if smtpCode(errs[0]) != 550 || errs[1] != nil || err != nil {
		t.Fatalf("RCPT news, RCPT alice, DATA = %v, %v; want 550, accepted, delivered", errs, err)
	}
	if msgs := inbox(t, d, "alice", 1); len(msgs) != 1 {
		t.Errorf("alice's inbox = %d messages, want 1", len(msgs))
	}
	c, err := nntp.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if g, _ := c.Group(context.Background(), "local.test"); g.Count != 0 {
		t.Errorf("local.test has %d articles after anonymous mail", g.Count)
	}
}

// TestNNTPMailToNewsChecks: an authenticated sender still cannot post
// to a read-only group or past max_article_bytes, and a message without
// a Message-ID sent twice (an SMTP retry) is posted once.
func TestNNTPMailToNewsChecks(t *testing.T) {
	d, addr := startNNTPDaemon(t, func(n *NNTPConfig) { n.MaxArticle = 2000 })
	sc := dialSMTP(t, addrOf(t, d, "smtp"))
	if err := sc.Auth(sasl.NewPlainClient("", "bob", "bob-pw")); err != nil {
		t.Fatal(err)
	}
	msg := "From: bob@example.org\r\nSubject: no id\r\n\r\nhi\r\n"
	if _, err := sendTo(t, sc, []string{"local.ro@news.localhost"}, msg); smtpCode(err) != 550 {
		t.Errorf("mail to a read-only group: DATA = %v, want 550", err)
	}
	if _, err := sendTo(t, sc, []string{"local.test@news.localhost"}, msg+strings.Repeat("x", 3000)+"\r\n"); smtpCode(err) != 552 {
		t.Errorf("mail over max_article_bytes: DATA = %v, want 552", err)
	}
	for range 2 {
		if _, err := sendTo(t, sc, []string{"local.test@news.localhost"}, msg); err != nil {
			t.Fatalf("mail to local.test: %v", err)
		}
	}
	c, err := nntp.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if g, _ := c.Group(context.Background(), "local.test"); g.Count != 1 {
		t.Errorf("local.test has %d articles after a retried mail, want 1", g.Count)
	}
}

// TestNNTPFeedRules: a fed article for a moderated group needs
// Approved; a moderator at another domain lets no local account
// approve; an ordinary account may not feed.
func TestNNTPFeedRules(t *testing.T) {
	_, addr := startNNTPDaemon(t, func(n *NNTPConfig) { n.FeedFrom = nil; n.FeedAccounts = []string{"alice"} })
	fed := func(id, group, extra string) string {
		return "Path: peer\r\nFrom: p@example.org\r\nNewsgroups: " + group + "\r\nSubject: fed\r\nDate: " +
			nowRFC1123() + "\r\nMessage-ID: " + id + "\r\n" + extra + "\r\nbody\r\n.\r\n"
	}
	c := testkit.Dial(t, addr)
	c.Expect("20")
	c.Do("AUTHINFO USER bob", 381)
	c.Do("AUTHINFO PASS bob-pw", 281)
	c.Do("IHAVE <b@peer>", 480)
	// bob@elsewhere.org moderates local.far: local bob is not them.
	c.Do("POST", 340)
	c.Write("From: bob@example.org\r\nNewsgroups: local.far\r\nSubject: s\r\nApproved: bob\r\n\r\nx\r\n.\r\n")
	c.Expect("441 ")

	c = testkit.Dial(t, addr)
	c.Expect("20")
	c.Do("AUTHINFO USER alice", 381)
	c.Do("AUTHINFO PASS alice-pw", 281)
	c.Do("IHAVE <m1@peer>", 335)
	c.Write(fed("<m1@peer>", "local.mod", ""))
	c.Expect("437 Unapproved")
	c.Do("IHAVE <m2@peer>", 335)
	c.Write(fed("<m2@peer>", "local.mod", "Approved: mod@example.org\r\n"))
	c.Expect("235 ")
}

func nowRFC1123() string { return time.Now().UTC().Format(time.RFC1123Z) }
