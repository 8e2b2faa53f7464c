package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseNetrc(t *testing.T) {
	in := `# a comment
machine ftp.example.org login alice password "s3cret pass"
machine other
  login bob
  account ignored
  password p\w

macdef init
cd /pub
binary

machine after-macro login carol password c
default login anonymous password guest@
`
	got, err := parseNetrc(in)
	if err != nil {
		t.Fatalf("parseNetrc: %v", err)
	}
	want := []netrcEntry{
		{"ftp.example.org", "alice", "s3cret pass"},
		{"other", "bob", `p\w`},
		{"after-macro", "carol", "c"},
		{"", "anonymous", "guest@"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseNetrc = %+v, want %+v", got, want)
	}
	for _, bad := range []string{"login x", "machine", "machine a login", "machine a frob x", `machine "unterminated`, "machine " + strings.Repeat("x", maxNetrcToken+1)} {
		if e, err := parseNetrc(bad); err == nil {
			t.Errorf("parseNetrc(%q) = %+v, nil; want an error", truncateText(bad, 40), e)
		}
	}
}

func TestNetrcLookup(t *testing.T) {
	f := filepath.Join(t.TempDir(), "netrc")
	os.WriteFile(f, []byte("machine h login u1 password p1\nmachine h login u2 password p2\ndefault login anonymous password x\n"), 0o600)
	for _, tt := range []struct{ host, user, login, pass string }{
		{"h", "", "u1", "p1"},
		{"H", "u2", "u2", "p2"},
		{"elsewhere", "", "anonymous", "x"},
	} {
		l, p, ok, err := netrcLookup(f, tt.host, tt.user)
		if err != nil || !ok || l != tt.login || p != tt.pass {
			t.Errorf("netrcLookup(%q, %q) = %q, %q, %v, %v; want %q, %q", tt.host, tt.user, l, p, ok, err, tt.login, tt.pass)
		}
	}
	if _, _, ok, err := netrcLookup(filepath.Join(t.TempDir(), "none"), "h", ""); ok || err != nil {
		t.Errorf("netrcLookup(missing file) = %v, %v; want not found, no error", ok, err)
	}
}

func FuzzParseNetrc(f *testing.F) {
	f.Add("machine a login b password c\ndefault login d password e\n")
	f.Add("macdef x\nline\n\nmachine \"q\\\"x\" login y")
	f.Fuzz(func(t *testing.T, in string) {
		entries, err := parseNetrc(in)
		if err != nil {
			return
		}
		for _, e := range entries {
			if len(e.machine) > maxNetrcToken || len(e.login) > maxNetrcToken || len(e.password) > maxNetrcToken {
				t.Fatalf("parseNetrc(%q): token over the limit", in)
			}
		}
	})
}
