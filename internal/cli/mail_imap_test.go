package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/imap"
	"github.com/plumbnet/plumb/internal/testkit"
)

func startIMAPServer(t *testing.T) (*imap.MemoryBackend, string) {
	t.Helper()
	be := imap.NewMemoryBackend()
	be.AddUser("alice", "pw")
	for _, m := range []string{
		"From: Bob <bob@example.org>\r\nSubject: hello\r\n\r\nfirst body\r\n",
		"From: carol@example.org\r\nSubject: =?utf-8?q?r=C3=A9union?=\r\n\r\nsecond\r\n",
	} {
		if _, err := be.Deliver("alice", "INBOX", []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	return be, "imap://alice:pw@" + testkit.Serve(t, &imap.Server{Backend: be}, nil)
}

func TestMailIMAP(t *testing.T) {
	_, base := startIMAPServer(t)
	out, errs, err := runPlumb(t, "", "mail", "list", base+"/INBOX", "--json")
	var msgs []imapMessage
	if err != nil || json.Unmarshal([]byte(out), &msgs) != nil || len(msgs) != 2 || msgs[1].Subject != "réunion" || msgs[0].From != "Bob <bob@example.org>" {
		t.Fatalf("mail list --json = %q %q %v", out, errs, err)
	}
	out, _, err = runPlumb(t, "", "mail", "list", base)
	if err != nil || !strings.Contains(out, "hello") || !strings.Contains(out, "UID") {
		t.Errorf("mail list = %q, %v", out, err)
	}
	out, _, err = runPlumb(t, "", "mail", "fetch", base+"/INBOX;UID=1")
	if err != nil || out != "From: Bob <bob@example.org>\r\nSubject: hello\r\n\r\nfirst body\r\n" {
		t.Errorf("mail fetch UID=1 = %q, %v", out, err)
	}
	out, _, err = runPlumb(t, "", "mail", "fetch", base+"/INBOX/;UID=2/;SECTION=TEXT")
	if err != nil || out != "second\r\n" {
		t.Errorf("mail fetch UID=2 SECTION=TEXT = %q, %v", out, err)
	}
	out, _, err = runPlumb(t, "", "mail", "search", base, "FROM", "carol", "--json")
	if err != nil || json.Unmarshal([]byte(out), &msgs) != nil || len(msgs) != 1 || msgs[0].UID != 2 {
		t.Errorf("mail search FROM carol = %q, %v", out, err)
	}
	out, _, err = runPlumb(t, "", "mail", "folders", base, "--json")
	var folders []map[string]any
	if err != nil || json.Unmarshal([]byte(out), &folders) != nil || len(folders) != 6 {
		t.Errorf("mail folders --json = %q, %v", out, err)
	}
	if _, _, err := runPlumb(t, "", "mail", "fetch", base+"/INBOX"); err == nil {
		t.Errorf("mail fetch without a UID succeeded")
	}
}

func TestMailIMAPWatch(t *testing.T) {
	be, base := startIMAPServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root := NewRoot()
	var out syncBuffer
	root.SetArgs([]string{"mail", "watch", base, "--json"})
	root.SetOut(&out)
	root.SetErr(&out)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	// Deliver until the watcher has printed one: a delivery before it is
	// in IDLE is reported when IDLE starts, one after at once.
	testkit.Eventually(t, 10*time.Second, "mail watch printing a delivered message", func() bool {
		if !strings.Contains(out.String(), "while watching") {
			be.Deliver("alice", "INBOX", []byte("From: dave@example.org\r\nSubject: while watching\r\n\r\nx\r\n"))
			return false
		}
		return true
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("mail watch = %v (%s)", err, out.String())
	}
	var m imapMessage
	line, _, _ := strings.Cut(out.String(), "\n")
	if json.Unmarshal([]byte(line), &m) != nil || m.From != "dave@example.org" || m.UID < 3 {
		t.Errorf("mail watch printed %q", out.String())
	}
}
