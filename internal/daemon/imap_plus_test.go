package daemon

import (
	"context"
	"strings"
	"testing"

	"github.com/plumbnet/plumb/internal/mailstore"
)

// TestPlusAddressIntoFolder: alice+Lists@ lands in alice's folder Lists
// when it exists, and alice+nothing@ in her inbox.
func TestPlusAddressIntoFolder(t *testing.T) {
	d, addrs := startSMTPDaemon(t, nil)
	store, err := d.MailStore()
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateFolder("alice", "Lists"); err != nil {
		t.Fatal(err)
	}
	c := dialSMTP(t, addrs["smtp"])
	for _, rcpt := range []string{"alice+Lists@mx.test", "alice+nothing@mx.test"} {
		if err := c.SendMail("carol@far.test", []string{rcpt}, strings.NewReader("Subject: to "+rcpt+"\r\n\r\nx\r\n"), nil); err != nil {
			t.Fatalf("SendMail to %s = %v", rcpt, err)
		}
	}
	count := func(folder string) int {
		mb, err := store.Mailbox(context.Background(), "alice", folder)
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := mb.Messages(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return len(msgs)
	}
	if n := count("Lists"); n != 1 {
		t.Errorf("alice's Lists has %d messages, want 1 (alice+Lists@)", n)
	}
	if n := count(mailstore.Inbox); n != 1 {
		t.Errorf("alice's inbox has %d messages, want 1 (alice+nothing@)", n)
	}
}
