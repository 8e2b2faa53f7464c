package daemon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/smtp"
)

// TestMailQuotaFromConfig checks that [mail] quota_bytes reaches the
// store: a message over the quota is refused with 552 5.2.2 and nothing
// of it is left in the Maildir.
func TestMailQuotaFromConfig(t *testing.T) {
	cfg := testConfig(t)
	cfg.Mail.QuotaBytes = 1000
	smtpSection.of(cfg).Enabled, smtpSection.of(cfg).Addr = true, "127.0.0.1:0"
	db, err := accounts.Open(filepath.Join(cfg.Data, accounts.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Add("carol", "pw-carol-123"); err != nil {
		t.Fatal(err)
	}
	d := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c := dialSMTP(t, addrOf(t, d, "smtp"))
	small := "Subject: small\r\n\r\nfits\r\n"
	if err := c.SendMail("a@far.test", []string{"carol@localhost"}, strings.NewReader(small), nil); err != nil {
		t.Fatalf("SendMail(small) = %v, want nil under a 1000-byte quota", err)
	}
	big := "Subject: big\r\n\r\n" + strings.Repeat("x", 2000) + "\r\n"
	err = c.SendMail("a@far.test", []string{"carol@localhost"}, strings.NewReader(big), nil)
	var se *smtp.Error
	if !errors.As(err, &se) || se.Code != 552 {
		t.Fatalf("SendMail(2000 bytes) over a 1000-byte quota = %v, want 552", err)
	}
	if got := inbox(t, d, "carol", 1); len(got) != 1 || !strings.HasSuffix(got[0], small) {
		t.Fatalf("carol's inbox = %d messages, want only the small one", len(got))
	}
}
