package interop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestIMAPCurl: curl's imap:// and imaps:// against plumb serve: list,
// fetch by UID and by section, APPEND by upload, STARTTLS with --ssl-reqd.
func TestIMAPCurl(t *testing.T) {
	curl := need(t, "curl")
	s := startIMAP(t)
	base := "imap://" + s.Addr(t, "imap")
	tls := "imaps://" + s.Addr(t, "imaps")
	c := func(args ...string) string {
		t.Helper()
		return run(t, 30*time.Second, curl, append([]string{"-sS", "-k", "--user", "alice:alice-password"}, args...)...)
	}
	if out := c(base + "/"); !strings.Contains(out, `"/" INBOX`) || !strings.Contains(out, `(\Sent \HasNoChildren) "/" Sent`) {
		t.Errorf("curl list = %q", out)
	}
	want := strings.ReplaceAll(imapMessages[1], "\n", "\r\n")
	if out := c(base + "/INBOX/;UID=2"); out != want {
		t.Errorf("curl fetch UID=2 = %q, want %q", out, want)
	}
	if out := c(base + "/INBOX/;UID=1/;SECTION=1"); out != "the quarterly numbers" {
		t.Errorf("curl fetch UID=1 SECTION=1 = %q", out)
	}
	if out := c("--ssl-reqd", base+"/INBOX/;UID=3/;SECTION=HEADER.FIELDS%20(SUBJECT)"); out != "Subject: other\r\n\r\n" {
		t.Errorf("curl --ssl-reqd fetch SECTION=HEADER.FIELDS = %q", out)
	}
	up := filepath.Join(t.TempDir(), "up.eml")
	msg := "From: curl@example.org\r\nSubject: uploaded\r\n\r\nby curl -T\r\n"
	if err := os.WriteFile(up, []byte(msg), 0o600); err != nil {
		t.Fatal(err)
	}
	c("-T", up, tls+"/Archive")
	if out := c(tls + "/Archive/;UID=1"); out != msg {
		t.Errorf("curl fetch of the upload = %q, want %q", out, msg)
	}
	if out := c(base+"/INBOX", "-X", "SEARCH SUBJECT plan"); !strings.Contains(out, "* SEARCH 1") {
		t.Errorf("curl -X SEARCH = %q", out)
	}
}
