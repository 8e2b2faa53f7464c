package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestUserAddBadName: a name with a non-ASCII letter is refused with
// exit 2, naming the whole character, before any file is touched.
func TestUserAddBadName(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	for _, tc := range []struct{ name, want string }{
		{"jörg", `"jörg" has 'ö'`},
		{"José", `"José" has upper case`},
		{"名前", `"名前" has '名'`},
	} {
		_, _, err := runSocketCmd(t, strings.NewReader("pw\n"), "user", "add", tc.name, "--data", data)
		if err == nil || socketExitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("plumb user add %s = %v (exit %d), want exit 2 and an error saying %s", tc.name, err, socketExitCode(err), tc.want)
		}
	}
	out, _, err := runSocketCmd(t, strings.NewReader("pw\n"), "user", "add", "jorg", "--data", data)
	if err != nil || !strings.Contains(out, "added user jorg") {
		t.Errorf("plumb user add jorg = %q, %v; want added", out, err)
	}
}

// TestUserHelpNamesBuiltServices: the help names only services that exist.
func TestUserHelpNamesBuiltServices(t *testing.T) {
	out, _, err := runSocketCmd(t, nil, "user", "--help")
	if err != nil || !strings.Contains(out, "POP3") {
		t.Fatalf("plumb user --help = %q, %v; want the help", out, err)
	}
	for _, absent := range []string{"IMAP", "NNTP"} {
		if strings.Contains(out, absent) {
			t.Errorf("plumb user --help mentions %s, which plumb serve does not offer yet", absent)
		}
	}
}
