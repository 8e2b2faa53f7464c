package interop

import (
	"context"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/plumbnet/plumb/pop3"
	"github.com/plumbnet/plumb/sasl"
)

// startDovecotPOP3 runs Dovecot's POP3 server from a temporary config
// on a free loopback port, with STLS, the user alice (password
// "dove-pw") and msgs in her Maildir. It returns the address and the
// Maildir and stops Dovecot by its PID when the test ends.
func startDovecotPOP3(t *testing.T, msgs []string) (addr, maildir string) {
	t.Helper()
	return startDovecot(t, "pop3", "", msgs, nil, "pop3_uidl_format = %08Xu%08Xv\n")
}

func TestPOP3ClientDovecot(t *testing.T) {
	addr, maildir := startDovecotPOP3(t, pop3Messages)
	c, err := pop3.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	caps, err := c.Capabilities()
	if err != nil {
		t.Fatalf("Capabilities() = %v", err)
	}
	for _, want := range []string{"STLS", "UIDL", "TOP"} {
		if _, ok := caps[want]; !ok {
			t.Errorf("Dovecot CAPA %v lacks %s", caps, want)
		}
	}
	if err := c.StartTLS(&tls.Config{InsecureSkipVerify: true}); err != nil {
		t.Fatalf("StartTLS = %v", err)
	}
	if err := c.Login("alice", "wrong"); err == nil {
		t.Fatalf("Login with a wrong password succeeded")
	} else if pe := (*pop3.Error)(nil); !errors.As(err, &pe) || pe.Command != "PASS" {
		t.Errorf("Login(wrong) = %v, want a *pop3.Error for PASS", err)
	}
	if err := c.Auth(sasl.NewPlainClient("", "alice", "dove-pw")); err != nil {
		t.Fatalf("Auth(PLAIN) = %v", err)
	}
	n, size, err := c.Stat()
	total := 0
	for _, m := range pop3Messages {
		total += len(wireForm(m))
	}
	if err != nil || n != len(pop3Messages) {
		t.Fatalf("Stat() = %d, %d, %v; want %d messages", n, size, err, len(pop3Messages))
	}
	list, err := c.List()
	if err != nil || len(list) != len(pop3Messages) {
		t.Fatalf("List() = %v, %v", list, err)
	}
	for i, m := range pop3Messages {
		got, err := c.Retr(i + 1)
		if err != nil || string(got) != wireForm(m) {
			t.Errorf("Retr(%d) = %q, %v; want %q", i+1, got, err, wireForm(m))
		}
	}
	top, err := c.Top(2, 1)
	if want := "From: b@example.org\r\nSubject: bare LF\r\n\r\n.a line with a dot\r\n"; err != nil || string(top) != want {
		t.Errorf("Top(2, 1) = %q, %v; want %q", top, err, want)
	}
	uids, err := c.UIDL()
	if err != nil || len(uids) != len(pop3Messages) || uids[0].UID == "" {
		t.Fatalf("UIDL() = %v, %v", uids, err)
	}
	// Fetch skips the first by UID and deletes what it fetched.
	var fetched []string
	got, err := c.Fetch(func(uid string) bool { return uid == uids[0].UID }, true, func(mi pop3.MessageInfo, body []byte) error {
		fetched = append(fetched, string(body))
		return nil
	})
	if err != nil || got != len(pop3Messages)-1 || fetched[0] != wireForm(pop3Messages[1]) {
		t.Fatalf("Fetch = %d, %v; fetched %d messages", got, err, len(fetched))
	}
	if err := c.Quit(); err != nil {
		t.Fatalf("Quit() = %v", err)
	}
	var files int
	for _, sub := range []string{"new", "cur"} {
		ents, _ := os.ReadDir(filepath.Join(maildir, sub))
		files += len(ents)
	}
	if files != 1 {
		t.Errorf("after Fetch with delete and QUIT Dovecot's Maildir holds %d messages, want 1", files)
	}
}
