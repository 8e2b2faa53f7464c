package webadmin

import (
	"net/mail"
	"strings"
	"testing"
)

// FuzzCleanFilePath checks that a path the file pages accept has no
// empty, "." or ".." segment and no control character, and that
// cleaning it again changes nothing.
func FuzzCleanFilePath(f *testing.F) {
	for _, s := range []string{"", "/", "a/b.txt", "pub/", "../etc/passwd", "a//b", "a/./b", "x\x00y", `a\..\b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := cleanFilePath(s)
		if err != nil {
			return
		}
		if p != "" {
			for _, seg := range strings.Split(p, "/") {
				if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, "\x00\r\n\\") {
					t.Fatalf("cleanFilePath(%q) = %q: segment %q", s, p, seg)
				}
			}
		}
		if again, err := cleanFilePath(p); err != nil || again != p {
			t.Fatalf("cleanFilePath(%q) = %q, but again %q, %v", s, p, again, err)
		}
	})
}

// FuzzReleaseAddresses checks that the addresses a message may be
// released to are bare addresses that parse again as themselves, with
// no line break (SMTP command injection), and at most maxReleaseTo.
func FuzzReleaseAddresses(f *testing.F) {
	for _, s := range []string{"a@example.org", "a@x, b@y", "Ann <a@x>", "x\r\nRCPT TO:<y>", ",,", `"q q"@x`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		to, err := releaseAddresses(s)
		if err != nil {
			return
		}
		if len(to) == 0 || len(to) > maxReleaseTo {
			t.Fatalf("releaseAddresses(%q) = %d addresses", s, len(to))
		}
		for _, a := range to {
			if strings.ContainsAny(a, "\r\n\x00") {
				t.Fatalf("releaseAddresses(%q): %q has a line break", s, a)
			}
			if p, err := mail.ParseAddress(a); err != nil || p.Address != a {
				t.Fatalf("releaseAddresses(%q): %q parses again as %v, %v", s, a, p, err)
			}
		}
	})
}

func TestAttachmentDisposition(t *testing.T) {
	for name, want := range map[string]string{
		"invoice.pdf": "attachment; filename=invoice.pdf",
		"résumé.txt":  "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.txt",
		"a\x00b":      "attachment; filename*=utf-8''a%00b", // encoded, never raw
	} {
		if got := attachmentDisposition(name); got != want {
			t.Errorf("attachmentDisposition(%q) = %q, want %q", name, got, want)
		}
	}
}
