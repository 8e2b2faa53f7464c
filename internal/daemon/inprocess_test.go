package daemon

import (
	"strings"
	"testing"

	"github.com/plumbnet/plumb/internal/testkit"
)

// Listeners names every listener by its config key and points into the
// config.
func TestConfigListeners(t *testing.T) {
	c := DefaultConfig()
	ls := c.Listeners()
	for _, key := range []string{"smtp", "smtp.submission", "smtp.submissions", "ftp", "ftp.ftps", "imap.imaps", "echo"} {
		if ls[key] == nil {
			t.Errorf("Listeners() has no %q", key)
		}
	}
	ls["ftp.ftps"].Addr = "127.0.0.1:0"
	if got := ftpSection.of(c).FTPS.Addr; got != "127.0.0.1:0" {
		t.Errorf("after changing Listeners()[ftp.ftps], ftp.ftps.addr = %q; want the change in the config", got)
	}
}

// Merge sets what it names, keeps the rest, and refuses unknown keys
// with the name and line.
func TestConfigMerge(t *testing.T) {
	c := DefaultConfig()
	if err := c.Merge([]byte("[smtp]\nmax_recipients = 7\n\n[ftp]\npassive_ports = \"\"\n"), "(test)"); err != nil {
		t.Fatalf("Merge: %v", err)
	}
	if s := smtpSection.of(c); s.MaxRecipients != 7 || s.MaxMessageBytes != 33554432 {
		t.Errorf("after Merge: max_recipients %d, max_message_bytes %d; want 7 and the default", s.MaxRecipients, s.MaxMessageBytes)
	}
	if f := ftpSection.of(c); f.PassivePorts != "" || f.Welcome == "" {
		t.Errorf("after Merge: passive_ports %q, welcome %q; want empty and the default", f.PassivePorts, f.Welcome)
	}
	err := c.Merge([]byte("[smtp]\n\nno_such = 1\n"), "(test)")
	if err == nil || !strings.Contains(err.Error(), "(test):3") || !strings.Contains(err.Error(), "smtp.no_such") {
		t.Errorf("Merge of an unknown key = %v, want an error naming (test):3 and smtp.no_such", err)
	}
}

// smtp.starttls = false takes STARTTLS off [smtp] only: submission,
// which needs it off loopback, keeps it.
func TestSMTPStartTLSOff(t *testing.T) {
	_, addrs := startSMTPDaemon(t, func(c *SMTPConfig) { c.StartTLS = false })
	for name, want := range map[string]bool{"smtp": false, "submission": true} {
		tr := testkit.Dial(t, addrs[name])
		tr.Expect("220")
		tr.Send("EHLO client.test")
		var got bool
		for {
			line := tr.Line()
			if strings.Contains(line, "STARTTLS") {
				got = true
			}
			if strings.HasPrefix(line, "250 ") {
				break
			}
		}
		if got != want {
			t.Errorf("%s: EHLO offers STARTTLS = %v, want %v", name, got, want)
		}
	}
}
