package interop

import (
	"context"
	"crypto/tls"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/imap"
)

// startDovecotIMAP runs Dovecot's IMAP server (STARTTLS offered) for
// alice (password "dove-pw") with her Maildir at mailRoot/alice; mailRoot
// "" makes a fresh one holding msgs and the folders Archive and Trash.
func startDovecotIMAP(t *testing.T, mailRoot string, msgs []string) (addr string) {
	t.Helper()
	addr, _ = startDovecot(t, "imap", mailRoot, msgs, []string{"Archive", "Trash"}, `namespace inbox {
  inbox = yes
  separator = /
}
`)
	return addr
}

// TestIMAPClientDovecot: our client against Dovecot, command by command.
func TestIMAPClientDovecot(t *testing.T) {
	addr := startDovecotIMAP(t, "", imapMessages)
	ctx := context.Background()
	c, err := imap.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.StartTLS(ctx, &tls.Config{InsecureSkipVerify: true}); err != nil {
		t.Fatalf("StartTLS = %v", err)
	}
	var pe *imap.Error
	if err := c.Login(ctx, "alice", "wrong"); !errors.As(err, &pe) || pe.Type != "NO" || pe.Code != "AUTHENTICATIONFAILED" {
		t.Errorf("Login(wrong) = %v, want NO [AUTHENTICATIONFAILED]", err)
	}
	if err := c.Authenticate(ctx, "alice", "dove-pw"); err != nil {
		t.Fatalf("Authenticate = %v", err)
	}
	var updates []*imap.Response
	c.Untagged = func(r *imap.Response) { updates = append(updates, r) }
	sel, err := c.Select(ctx, "INBOX", false)
	if err != nil || sel.Exists != uint32(len(imapMessages)) || sel.UIDValidity == 0 {
		t.Fatalf("Select = %+v, %v", sel, err)
	}
	var got []*imap.FetchData
	err = c.Fetch(ctx, false, imap.SeqSet{Ranges: []imap.SeqRange{{Start: 1, Stop: 0}}}, "(UID FLAGS RFC822.SIZE ENVELOPE BODYSTRUCTURE BODY.PEEK[])", func(f *imap.FetchData) error {
		got = append(got, f)
		return nil
	})
	if err != nil || len(got) != len(imapMessages) {
		t.Fatalf("Fetch 1:* = %d, %v", len(got), err)
	}
	for i, m := range imapMessages {
		want := strings.ReplaceAll(m, "\n", "\r\n")
		if got[i].Sections["BODY[]"] != want || got[i].Size != int64(len(want)) {
			t.Errorf("message %d: BODY[] = %q (size %d), want %q", i+1, got[i].Sections["BODY[]"], got[i].Size, want)
		}
	}
	if got[0].Subject() != "plan" || got[0].From() != "Alice <alice@example.org>" || len(got[0].BodyStructure) < 3 {
		t.Errorf("message 1: subject %q, from %q, structure %v", got[0].Subject(), got[0].From(), got[0].BodyStructure)
	}
	if n, err := c.Search(ctx, false, `OR FROM bob SUBJECT plan`); err != nil || !slices.Equal(n, []uint32{1, 2}) {
		t.Errorf("Search = %v, %v", n, err)
	}
	if err := c.Store(ctx, false, imap.SeqSetOf(3), "+FLAGS", []string{imap.FlagDeleted}); err != nil {
		t.Fatal(err)
	}
	if cd, err := c.Copy(ctx, true, imap.SeqSetOf(got[0].UID), "Archive"); err != nil || cd == nil {
		t.Errorf("Copy = %+v, %v (want COPYUID)", cd, err)
	}
	if cd, err := c.Move(ctx, false, imap.SeqSetOf(2), "Trash"); err != nil || cd == nil {
		t.Errorf("Move = %+v, %v", cd, err)
	}
	if n, err := c.Expunge(ctx); err != nil || len(n) != 1 {
		t.Errorf("Expunge = %v, %v", n, err)
	}
	big := []byte("Subject: big\r\n\r\n" + strings.Repeat(strings.Repeat("y", 76)+"\r\n", 20000))
	if v, u, err := c.Append(ctx, "Archive", []string{imap.FlagSeen}, time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), big); err != nil || v == 0 || u == 0 {
		t.Errorf("Append = %d %d %v", v, u, err)
	}
	if err := c.Create(ctx, "Réunions"); err != nil {
		t.Fatal(err)
	}
	list, err := c.List(ctx, "", "*")
	if err != nil || !slices.ContainsFunc(list, func(l imap.ListData) bool { return l.Name == "Réunions" }) {
		t.Errorf("List = %+v, %v", list, err)
	}
	st, err := c.Status(ctx, "Archive", "MESSAGES", "UIDNEXT")
	if err != nil || st["MESSAGES"] != 2 {
		t.Errorf("Status(Archive) = %v, %v", st, err)
	}
	if _, err := c.Select(ctx, "Nowhere", false); !errors.As(err, &pe) || pe.Type != "NO" {
		t.Errorf("Select(Nowhere) = %v, want NO", err)
	}
	// IDLE: an APPEND from a second session arrives as EXISTS.
	c2, err := imap.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.InsecureAuth = true
	if err := c2.Login(ctx, "alice", "dove-pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, "INBOX", false); err != nil {
		t.Fatal(err)
	}
	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	exists := make(chan uint32, 4)
	idled := make(chan error, 1)
	go func() {
		idled <- c.Idle(ictx, func(r *imap.Response) {
			if r.Type == "EXISTS" {
				exists <- r.Num
			}
		})
	}()
	// Dovecot may take the append before or after IDLE starts; either
	// way it reports it in IDLE (or at its start).
	if _, _, err := c2.Append(ctx, "INBOX", nil, time.Time{}, []byte("Subject: idle\r\n\r\nx\r\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-exists:
		if n != 2 {
			t.Errorf("EXISTS in IDLE = %d, want 2", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no EXISTS in IDLE within 10s of an APPEND")
	}
	cancel()
	if err := <-idled; err != nil {
		t.Errorf("Idle = %v", err)
	}
	if err := c.Logout(ctx); err != nil {
		t.Errorf("Logout = %v", err)
	}
}
