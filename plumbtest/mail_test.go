package plumbtest_test

import (
	"bytes"
	"context"
	"fmt"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/imap"
	"github.com/plumbnet/plumb/plumbtest"
	"github.com/plumbnet/plumb/pop3"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitAsync starts WaitFor before anything is sent, so the test shows
// that the delivery itself wakes it.
func waitAsync(ctx context.Context, mb *plumbtest.Mailbox, m plumbtest.Match) <-chan result {
	ch := make(chan result, 1)
	go func() {
		msg, err := mb.WaitFor(ctx, m)
		ch <- result{msg, err}
	}()
	return ch
}

type result struct {
	msg *plumbtest.Message
	err error
}

// The standard library's net/smtp sends to the smtp service; WaitFor,
// already waiting, wakes with the message.
func TestNetSMTPSendThenWaitFor(t *testing.T) {
	srv := plumbtest.NewServer(t, plumbtest.With("smtp"))
	ctx := testContext(t)
	inbox := srv.Mail("alice")
	got := waitAsync(ctx, inbox, plumbtest.Match{To: "alice@", Subject: "password reset"})

	msg := "From: App <noreply@example.org>\r\nTo: Alice <alice@localhost>\r\n" +
		"Subject: =?utf-8?q?Your_password_reset?=\r\n\r\nClick here.\r\n"
	if err := smtp.SendMail(srv.Addr("smtp"), nil, "noreply@example.org", []string{"alice@localhost"}, []byte(msg)); err != nil {
		t.Fatalf("smtp.SendMail: %v", err)
	}
	r := <-got
	if r.err != nil {
		t.Fatalf("WaitFor: %v", r.err)
	}
	if r.msg.Subject != "Your password reset" || r.msg.From != "noreply@example.org" ||
		len(r.msg.To) != 1 || r.msg.To[0] != "alice@localhost" || !bytes.Equal(r.msg.Body, []byte("Click here.\r\n")) {
		t.Errorf("WaitFor = %+v, want the message sent", r.msg)
	}
	if r.msg.Folder != "INBOX" || r.msg.UID == 0 || r.msg.Received.IsZero() {
		t.Errorf("WaitFor: folder %q, UID %d, received %v; want INBOX, a UID, a time", r.msg.Folder, r.msg.UID, r.msg.Received)
	}
}

// Submission with STARTTLS (trusting srv.TLSConfig) and AUTH PLAIN, the
// way an application sends; a header match selects among several
// messages.
func TestNetSMTPSubmissionTLSAuth(t *testing.T) {
	srv := plumbtest.NewServer(t, plumbtest.With("smtp"))
	ctx := testContext(t)
	c, err := smtp.Dial(srv.Addr("submission"))
	if err != nil {
		t.Fatalf("smtp.Dial: %v", err)
	}
	defer c.Close()
	if err := c.StartTLS(srv.TLSConfig()); err != nil {
		t.Fatalf("StartTLS with srv.TLSConfig(): %v", err)
	}
	if err := c.Auth(smtp.PlainAuth("", plumbtest.DefaultUser, plumbtest.DefaultPassword, "127.0.0.1")); err != nil {
		t.Fatalf("Auth: %v", err)
	}
	for _, id := range []string{"one", "two", "three"} {
		if err := c.Mail("alice@localhost"); err != nil {
			t.Fatalf("Mail: %v", err)
		}
		if err := c.Rcpt("alice@example.com"); err != nil {
			t.Fatalf("Rcpt: %v", err)
		}
		w, err := c.Data()
		if err != nil {
			t.Fatalf("Data: %v", err)
		}
		w.Write([]byte("Subject: note\r\nX-Request-Id: " + id + "\r\n\r\nbody " + id + "\r\n"))
		if err := w.Close(); err != nil {
			t.Fatalf("Data close: %v", err)
		}
	}
	c.Quit()
	msg, err := srv.Mail("alice").WaitFor(ctx, plumbtest.Match{Header: map[string]string{"x-request-id": "two"}})
	if err != nil {
		t.Fatalf("WaitFor: %v", err)
	}
	if !strings.Contains(string(msg.Body), "body two") {
		t.Errorf("WaitFor(X-Request-Id two) body = %q, want body two", msg.Body)
	}
	all, err := srv.Mail("alice").Messages(ctx)
	if err != nil || len(all) != 3 {
		t.Fatalf("Messages = %d messages, %v; want 3", len(all), err)
	}
}

// WaitFor gives up when its context ends, saying what it waited for.
func TestWaitForTimeout(t *testing.T) {
	srv := plumbtest.NewServer(t, plumbtest.With("smtp"))
	inbox := srv.Mail("alice")
	if _, err := inbox.Deliver(testContext(t), []byte("Subject: other\r\n\r\nx\r\n")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	got := waitAsync(ctx, inbox, plumbtest.Match{Subject: "never"})
	cancel()
	r := <-got
	if r.err == nil || !strings.Contains(r.err.Error(), "never") || !strings.Contains(r.err.Error(), "1 messages") {
		t.Errorf("WaitFor after cancel = %v, %v; want an error naming the match and the 1 message", r.msg, r.err)
	}
}

// A message put in with Deliver is read over POP3 and over IMAPS (TLS
// trusting srv.TLSConfig), byte for byte, and the IMAP read shows as
// Seen in the store.
func TestDeliverThenReadOverPOP3AndIMAP(t *testing.T) {
	srv := plumbtest.NewServer(t, plumbtest.With("pop3", "imap"), plumbtest.User("bob", "hunter2"))
	ctx := testContext(t)
	raw := []byte("From: alice@localhost\r\nTo: bob@localhost\r\nSubject: hello\r\n\r\nHi Bob.\r\n")
	stored, err := srv.Mail("bob").Deliver(ctx, raw)
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}

	p, err := pop3.Dial(ctx, srv.Addr("pop3"))
	if err != nil {
		t.Fatalf("pop3.Dial: %v", err)
	}
	defer p.Close()
	if err := p.Login("bob", "hunter2"); err != nil {
		t.Fatalf("pop3 Login: %v", err)
	}
	got, err := p.Retr(1)
	if err != nil {
		t.Fatalf("pop3 Retr(1): %v", err)
	}
	if !bytes.Equal(got, raw) {
		t.Errorf("pop3 Retr(1) = %q, want %q", got, raw)
	}
	p.Quit()

	c, err := imap.DialTLS(ctx, srv.Addr("imaps"), srv.TLSConfig())
	if err != nil {
		t.Fatalf("imap.DialTLS with srv.TLSConfig(): %v", err)
	}
	defer c.Close()
	if err := c.Login(ctx, "bob", "hunter2"); err != nil {
		t.Fatalf("imap Login: %v", err)
	}
	if _, err := c.Select(ctx, "INBOX", false); err != nil {
		t.Fatalf("imap Select: %v", err)
	}
	var body []byte
	var uid uint32
	err = c.Fetch(ctx, true, imap.SeqSetOf(stored.UID), "(UID BODY[])", func(f *imap.FetchData) error {
		body, uid = []byte(f.Sections["BODY[]"]), f.UID
		return nil
	})
	if err != nil {
		t.Fatalf("imap Fetch: %v", err)
	}
	if uid != stored.UID || !bytes.Equal(body, raw) {
		t.Errorf("imap UID FETCH %d BODY[] = UID %d, %q; want %q", stored.UID, uid, body, raw)
	}
	c.Logout(ctx)
	msgs, err := srv.Mail("bob").Messages(ctx)
	if err != nil || len(msgs) != 1 || !msgs[0].Seen {
		t.Errorf("Messages after the IMAP read = %+v, %v; want the one message, Seen", msgs, err)
	}
}

// Folder("Sent") is the IMAP folder Sent: Deliver makes it, IMAP sees
// what is in it, and an IMAP APPEND wakes a WaitFor on it.
func TestFolderIsTheIMAPFolder(t *testing.T) {
	srv := plumbtest.NewServer(t, plumbtest.With("imap"))
	ctx := testContext(t)
	sent := srv.Mail("alice").Folder("Sent")
	if _, err := sent.Deliver(ctx, []byte("Subject: first\r\n\r\n1\r\n")); err != nil {
		t.Fatalf("Folder(Sent).Deliver: %v", err)
	}
	got := waitAsync(ctx, sent, plumbtest.Match{Subject: "second"})

	c, err := imap.Dial(ctx, srv.Addr("imap"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(ctx, "alice", "secret"); err != nil {
		t.Fatal(err)
	}
	sel, err := c.Select(ctx, "Sent", true)
	if err != nil || sel.Exists != 1 {
		t.Fatalf("imap SELECT Sent = %+v, %v; want 1 message", sel, err)
	}
	if _, _, err := c.Append(ctx, "Sent", nil, time.Time{}, []byte("Subject: second\r\n\r\n2\r\n")); err != nil {
		t.Fatalf("imap APPEND: %v", err)
	}
	r := <-got
	if r.err != nil || r.msg.Folder != "Sent" {
		t.Fatalf("WaitFor in Sent = %+v, %v; want the appended message", r.msg, r.err)
	}
	if inbox, _ := srv.Mail("alice").Messages(ctx); len(inbox) != 0 {
		t.Errorf("INBOX has %d messages, want none (they went to Sent)", len(inbox))
	}
}

// CatchAll takes every recipient of any domain; nothing is refused.
func TestCatchAll(t *testing.T) {
	srv := plumbtest.NewServer(t, plumbtest.With("smtp"), plumbtest.CatchAll("alice"))
	ctx := testContext(t)
	err := smtp.SendMail(srv.Addr("smtp"), nil, "app@example.org",
		[]string{"someone@customer.example", "other@elsewhere.test"},
		[]byte("To: someone@customer.example\r\nCc: other@elsewhere.test\r\nSubject: invoice\r\n\r\n.\r\n"))
	if err != nil {
		t.Fatalf("SendMail to two foreign addresses: %v", err)
	}
	msg, err := srv.Mail("alice").WaitFor(ctx, plumbtest.Match{To: "other@elsewhere"})
	if err != nil {
		t.Fatalf("WaitFor: %v", err)
	}
	if msg.Subject != "invoice" {
		t.Errorf("WaitFor = %q, want invoice", msg.Subject)
	}
}

// Without CatchAll, an unknown local user is refused at RCPT, as plumb
// serve refuses it.
func TestUnknownRecipientRefused(t *testing.T) {
	srv := plumbtest.NewServer(t, plumbtest.With("smtp"))
	err := smtp.SendMail(srv.Addr("smtp"), nil, "a@example.org", []string{"nobody@localhost"}, []byte("Subject: x\r\n\r\nx\r\n"))
	if err == nil || !strings.Contains(err.Error(), "550") {
		t.Errorf("SendMail to nobody@localhost = %v, want a 550", err)
	}
}

// Config reaches the daemon's config: a small message limit refuses a
// bigger message.
func TestConfigOption(t *testing.T) {
	srv := plumbtest.NewServer(t, plumbtest.With("smtp"), plumbtest.Config("[smtp]\nmax_message_bytes = 100\n"))
	big := "Subject: big\r\n\r\n" + strings.Repeat("x", 500) + "\r\n"
	err := smtp.SendMail(srv.Addr("smtp"), nil, "a@example.org", []string{"alice@localhost"}, []byte(big))
	if err == nil || !strings.Contains(err.Error(), "552") {
		t.Errorf("SendMail of 500 bytes with max_message_bytes = 100: %v, want a 552", err)
	}
}

// Delete empties a folder, so a later WaitFor waits for new mail only.
func TestDelete(t *testing.T) {
	srv := plumbtest.NewServer(t, plumbtest.With("smtp"))
	ctx := testContext(t)
	inbox := srv.Mail("alice")
	for range 3 {
		if _, err := inbox.Deliver(ctx, []byte("Subject: old\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	if err := inbox.Delete(ctx); err != nil {
		t.Fatalf("Delete(): %v", err)
	}
	if msgs, err := inbox.Messages(ctx); err != nil || len(msgs) != 0 {
		t.Fatalf("Messages after Delete() = %d, %v; want none", len(msgs), err)
	}
}

// A plus address reaches the inbox when no folder has its tag's name,
// so tests sharing one server can each wait for their own mail.
func TestPlusAddressToInbox(t *testing.T) {
	srv := plumbtest.NewServer(t, plumbtest.With("smtp"))
	ctx := testContext(t)
	for _, to := range []string{"alice+TestOne@localhost", "alice+TestTwo@localhost"} {
		if err := smtp.SendMail(srv.Addr("smtp"), nil, "a@example.org", []string{to}, []byte("To: "+to+"\r\nSubject: hi\r\n\r\n.\r\n")); err != nil {
			t.Fatalf("SendMail to %s: %v", to, err)
		}
	}
	msg, err := srv.Mail("alice").WaitFor(ctx, plumbtest.Match{To: "alice+testtwo@"})
	if err != nil || msg.To[0] != "alice+TestTwo@localhost" {
		t.Fatalf("WaitFor(To alice+testtwo@) = %v, %v", msg, err)
	}
}

// WaitFor finds the one message it waits for among many delivered at
// once, from several goroutines, while it waits.
func TestWaitForAmongConcurrentDeliveries(t *testing.T) {
	srv := plumbtest.NewServer(t, plumbtest.With("smtp"))
	ctx := testContext(t)
	inbox := srv.Mail("alice")
	got := waitAsync(ctx, inbox, plumbtest.Match{Subject: "number 37"})
	errs := make(chan error, 4)
	for w := range 4 {
		go func() {
			for i := w; i < 60; i += 4 {
				if _, err := inbox.Deliver(ctx, []byte(fmt.Sprintf("Subject: number %d\r\n\r\n%d\r\n", i, i))); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatalf("Deliver: %v", err)
		}
	}
	r := <-got
	if r.err != nil || r.msg.Subject != "number 37" || string(r.msg.Body) != "37\r\n" {
		t.Fatalf("WaitFor(number 37) = %+v, %v", r.msg, r.err)
	}
}

// A Config cannot choose listeners: With does, on kernel-picked ports.
func TestConfigCannotMoveListeners(t *testing.T) {
	srv := plumbtest.NewServer(t, plumbtest.With("smtp"),
		plumbtest.Config("listen = \"0.0.0.0\"\n[smtp]\naddr = \":10025\"\n[telnet]\nenabled = true\n[admin]\nenabled = true\n"))
	if got := srv.Services(); strings.Join(got, " ") != "smtp submission submissions" {
		t.Errorf("Services() = %v, want smtp's three listeners only", got)
	}
	if addr := srv.Addr("smtp"); addr == "127.0.0.1:10025" || !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Errorf("Addr(smtp) = %s, want 127.0.0.1 and a port of the kernel's", addr)
	}
}
