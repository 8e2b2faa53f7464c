package interop

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

// TestMailEndToEnd: a message sent by smtplib to two users arrives in
// both Maildirs and is read back byte for byte over POP3 by poplib.
func TestMailEndToEnd(t *testing.T) {
	cfg := strings.Replace(smtpConfig, "[pop3]\nenabled = false\n[pop3.pop3s]\nenabled = false\n",
		"[pop3]\naddr = \"127.0.0.1:0\"\n[pop3.pop3s]\naddr = \"127.0.0.1:0\"\n", 1)
	s := startServe(t, cfg)
	for _, u := range []string{"alice", "bob"} {
		if _, errs, code := plumbUser(t, s.Data, u+"-password\n", "add", u); code != 0 {
			t.Fatalf("plumb user add %s: exit %d: %s", u, code, errs)
		}
	}
	msg := []byte("From: carol@example.org\r\nTo: alice@localhost, bob@localhost\r\nSubject: end to end\r\n\r\n.starts with a dot\r\nÜTF-8 body\r\n")
	r := smtplib(t, s.Addr(t, "smtp"), smtplibJob{From: "carol@example.org", To: []string{"alice@localhost", "bob@localhost"}}, msg)
	if !r.OK || len(r.Refused) != 0 {
		t.Fatalf("smtplib = %+v", r)
	}
	py := needPyModule(t, "poplib")
	for _, u := range []string{"alice", "bob"} {
		checkDelivered(t, s.Data, u, msg)
		stored := maildir(t, s.Data, u)[0]
		p := runPoplib(t, py, "user", s.Addr(t, "pop3"), u, u+"-password")
		if len(p.Retr) != 1 {
			t.Fatalf("poplib RETR for %s: %d messages, want 1", u, len(p.Retr))
		}
		got, err := hex.DecodeString(p.Retr[0])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, stored) && !bytes.Equal(append(got, '\r', '\n'), stored) {
			t.Errorf("poplib RETR for %s = %q, want the stored %q", u, got, stored)
		}
	}
}
