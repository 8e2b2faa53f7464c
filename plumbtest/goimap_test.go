package plumbtest_test

import (
	"bytes"
	"net/smtp"
	"testing"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/plumbnet/plumb/plumbtest"
)

// Independent clients end to end: net/smtp sends, WaitFor sees it, and
// go-imap's client reads the same bytes over imaps, trusting only
// srv.TLSConfig.
func TestNetSMTPToGoIMAP(t *testing.T) {
	srv := plumbtest.NewServer(t, plumbtest.With("smtp", "imap"))
	ctx := testContext(t)
	msg := []byte("From: app@example.org\r\nTo: alice@localhost\r\nSubject: receipt\r\n\r\nThanks.\r\n")
	if err := smtp.SendMail(srv.Addr("smtp"), nil, "app@example.org", []string{"alice@localhost"}, msg); err != nil {
		t.Fatalf("SendMail: %v", err)
	}
	stored, err := srv.Mail("alice").WaitFor(ctx, plumbtest.Match{Subject: "receipt"})
	if err != nil {
		t.Fatalf("WaitFor: %v", err)
	}

	c, err := imapclient.DialTLS(srv.Addr("imaps"), &imapclient.Options{TLSConfig: srv.TLSConfig()})
	if err != nil {
		t.Fatalf("imapclient.DialTLS with srv.TLSConfig(): %v", err)
	}
	defer c.Close()
	if err := c.Login("alice", "secret").Wait(); err != nil {
		t.Fatalf("LOGIN: %v", err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatalf("SELECT: %v", err)
	}
	section := &goimap.FetchItemBodySection{Peek: true}
	got, err := c.Fetch(goimap.UIDSetNum(goimap.UID(stored.UID)), &goimap.FetchOptions{
		UID: true, Envelope: true, BodySection: []*goimap.FetchItemBodySection{section},
	}).Collect()
	if err != nil || len(got) != 1 {
		t.Fatalf("UID FETCH %d = %v, %v; want the message", stored.UID, got, err)
	}
	if got[0].Envelope.Subject != "receipt" || !bytes.Equal(got[0].FindBodySection(section), stored.Raw) {
		t.Errorf("UID FETCH %d: subject %q, body %q; want receipt, %q", stored.UID,
			got[0].Envelope.Subject, got[0].FindBodySection(section), stored.Raw)
	}
	c.Logout().Wait()
}
