package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/accounts"
)

// plumbUser runs `plumb user ARGS --data data` with stdin and returns
// stdout, stderr and the exit status.
func plumbUser(t *testing.T, data, stdin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, plumbBin, append(append([]string{"user"}, args...), "--data", data)...)
	if slices.Contains(args, "--config") {
		cmd.Args = append([]string{plumbBin, "user"}, args...)
	}
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("plumb user %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

type listedUser struct {
	Name    string    `json:"name"`
	Home    string    `json:"home"`
	APOP    bool      `json:"apop"`
	Created time.Time `json:"created"`
}

func listUsers(t *testing.T, data string) []listedUser {
	t.Helper()
	out, errs, code := plumbUser(t, data, "", "list", "--json")
	if code != 0 {
		t.Fatalf("plumb user list --json: exit %d: %s", code, errs)
	}
	var us []listedUser
	if err := json.Unmarshal([]byte(out), &us); err != nil {
		t.Fatalf("plumb user list --json printed %q: %v", out, err)
	}
	return us
}

// authenticate checks a password against the file the binary wrote,
// as plumb serve would read it.
func authenticate(t *testing.T, data, name, password string) error {
	t.Helper()
	db, err := accounts.Open(filepath.Join(data, accounts.FileName))
	if err != nil {
		t.Fatalf("accounts.Open: %v", err)
	}
	_, err = db.Authenticate(context.Background(), name, password, nil)
	return err
}

func TestUserCLI(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data") // does not exist yet: add creates it

	if us := listUsers(t, data); len(us) != 0 {
		t.Fatalf("list on a fresh data dir = %+v, want []", us)
	}
	if _, err := os.Stat(data); err == nil {
		t.Errorf("plumb user list created %s; listing must not write", data)
	}
	for _, u := range []struct{ name, pw string }{{"alice", "correct horse"}, {"bob", "b0b-pass"}} {
		if out, errs, code := plumbUser(t, data, u.pw+"\n", "add", u.name); code != 0 || !strings.Contains(out, "added user "+u.name) {
			t.Fatalf("plumb user add %s = exit %d, %q, %q; want success", u.name, code, out, errs)
		}
	}
	us := listUsers(t, data)
	if len(us) != 2 || us[0].Name != "alice" || us[0].Home != "alice" || us[1].Name != "bob" || us[0].APOP {
		t.Fatalf("list --json = %+v, want alice (home alice, no APOP) and bob", us)
	}
	if d := time.Since(us[0].Created); d < -time.Minute || d > time.Minute {
		t.Errorf("alice created %v, want about now", us[0].Created)
	}
	if err := authenticate(t, data, "alice", "correct horse"); err != nil {
		t.Errorf("Authenticate(alice, password given on stdin) = %v, want nil", err)
	}
	if err := authenticate(t, data, "alice", "correct horse\n"); err == nil {
		t.Errorf("Authenticate(alice, password with the newline) succeeded; the line end must not be part of it")
	}

	// The file: 0600, no temporary files left beside it.
	fi, err := os.Stat(filepath.Join(data, accounts.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("accounts.toml mode = %v, want 0600", fi.Mode().Perm())
	}
	ents, _ := os.ReadDir(data)
	for _, e := range ents {
		if strings.Contains(e.Name(), "tmp") {
			t.Errorf("temporary file %s left in the data dir", e.Name())
		}
	}

	// Errors: exit status non-zero, message says what to do.
	if _, errs, code := plumbUser(t, data, "x\n", "add", "alice"); code == 0 || !strings.Contains(errs, "plumb user passwd alice") {
		t.Errorf("add alice again = exit %d, %q; want failure pointing to passwd", code, errs)
	}
	if _, errs, code := plumbUser(t, data, "x\n", "add", "../etc"); code != 2 || !strings.Contains(errs, "invalid user name") {
		t.Errorf("add ../etc = exit %d, %q; want exit 2, invalid user name", code, errs)
	}
	if _, errs, code := plumbUser(t, data, "", "add", "carol"); code != 2 || !strings.Contains(errs, "standard input") {
		t.Errorf("add with empty stdin = exit %d, %q; want exit 2 about standard input", code, errs)
	}

	// passwd, then the old password fails and the new one works.
	if _, errs, code := plumbUser(t, data, "new pass\n", "passwd", "alice"); code != 0 {
		t.Fatalf("passwd alice = exit %d, %s", code, errs)
	}
	if err := authenticate(t, data, "alice", "correct horse"); err == nil {
		t.Errorf("old password still works after passwd")
	}
	if err := authenticate(t, data, "alice", "new pass"); err != nil {
		t.Errorf("Authenticate(alice, new) = %v, want nil", err)
	}
	if _, errs, code := plumbUser(t, data, "x\n", "passwd", "nobody"); code == 0 || !strings.Contains(errs, "no user") {
		t.Errorf("passwd nobody = exit %d, %q; want failure, no user", code, errs)
	}

	// APOP secret set and cleared.
	if _, errs, code := plumbUser(t, data, "tanstaaf\n", "passwd", "alice", "--apop"); code != 0 {
		t.Fatalf("passwd --apop = exit %d, %s", code, errs)
	}
	db, _ := accounts.Open(filepath.Join(data, accounts.FileName))
	if s, ok := db.APOPSecret("alice"); !ok || s != "tanstaaf" {
		t.Errorf("APOPSecret(alice) after passwd --apop = %q, %v; want tanstaaf", s, ok)
	}
	if us := listUsers(t, data); !us[0].APOP {
		t.Errorf("list after --apop: alice apop = false, want true")
	}
	if _, errs, code := plumbUser(t, data, "", "passwd", "alice", "--clear-apop"); code != 0 {
		t.Fatalf("passwd --clear-apop = exit %d, %s", code, errs)
	}
	if _, ok := db.APOPSecret("alice"); ok {
		t.Errorf("APOPSecret(alice) after --clear-apop = ok (the open DB must reload)")
	}

	// del.
	if out, errs, code := plumbUser(t, data, "", "del", "bob"); code != 0 || !strings.Contains(out, "deleted user bob") {
		t.Fatalf("del bob = exit %d, %q, %q", code, out, errs)
	}
	if us := listUsers(t, data); len(us) != 1 || us[0].Name != "alice" {
		t.Errorf("list after del bob = %+v, want alice only", us)
	}
	if err := authenticate(t, data, "bob", "b0b-pass"); err == nil {
		t.Errorf("deleted bob can still authenticate")
	}
	if _, errs, code := plumbUser(t, data, "", "del", "bob"); code == 0 || !strings.Contains(errs, "no user") {
		t.Errorf("del bob twice = exit %d, %q; want failure, no user", code, errs)
	}

	// --config takes the data directory from a plumb serve config.
	cfg := filepath.Join(t.TempDir(), "plumb.toml")
	os.WriteFile(cfg, []byte("data = "+strconv.Quote(data)+"\n"), 0o600)
	if out, errs, code := plumbUser(t, t.TempDir(), "", "list", "--config", cfg); code != 0 || !strings.Contains(out, "alice") {
		t.Errorf("list --config (data %s) = exit %d, %q, %q; want alice", data, code, out, errs)
	}

	// Plain list prints a table.
	if out, _, code := plumbUser(t, data, "", "list"); code != 0 || !strings.HasPrefix(out, "NAME") || !strings.Contains(out, "alice") {
		t.Errorf("list = exit %d, %q; want a table with alice", code, out)
	}
}

// TestUserCLITerminal types the password on a pseudo-terminal, as a
// person would: it is asked twice and never echoed.
func TestUserCLITerminal(t *testing.T) {
	py := needPyModule(t, "pty")
	data := t.TempDir()
	const secret = "typed-in-secret"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "-W", "ignore", "testdata/pty_password.py",
		"Password for carol: ", secret, "Again: ", secret, "--", plumbBin, "user", "add", "carol", "--data", data).CombinedOutput()
	if err != nil {
		t.Fatalf("plumb user add on a terminal: %v\n%s", err, out)
	}
	if strings.Contains(string(out), secret) {
		t.Errorf("the terminal showed the password: %q", out)
	}
	if !strings.Contains(string(out), "Again: ") || !strings.Contains(string(out), "added user carol") {
		t.Errorf("terminal session = %q, want both prompts and \"added user carol\"", out)
	}
	if err := authenticate(t, data, "carol", secret); err != nil {
		t.Errorf("Authenticate(carol, typed password) = %v, want nil", err)
	}

	// Two different entries change nothing.
	out, err = exec.CommandContext(ctx, py, "-W", "ignore", "testdata/pty_password.py",
		"Password for dave: ", "one", "Again: ", "other", "--", plumbBin, "user", "add", "dave", "--data", data).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "differ") {
		t.Errorf("add dave with a mismatched second entry = %v, %q; want failure saying they differ", err, out)
	}
	if err := authenticate(t, data, "dave", "one"); err == nil {
		t.Errorf("dave was created despite mismatched entries")
	}
}

// TestUserChangesTakeEffectWhileServing changes accounts with the
// binary while plumb serve runs and logs in with Python's poplib after
// each change: no restart is needed for add, passwd or del.
func TestUserChangesTakeEffectWhileServing(t *testing.T) {
	py := needPyModule(t, "poplib")
	s := startServe(t, pop3Config)
	host, port, _ := strings.Cut(s.Addr(t, "pop3"), ":")
	login := func(user, pw string) string {
		t.Helper()
		return strings.TrimSpace(run(t, 30*time.Second, py, "-W", "ignore", "testdata/pop3_login.py", host, port, user, pw))
	}
	if got := login("erin", "first-pw"); !strings.HasPrefix(got, "-ERR") {
		t.Fatalf("login before the account exists = %q, want -ERR", got)
	}
	if _, errs, code := plumbUser(t, s.Data, "first-pw\n", "add", "erin"); code != 0 {
		t.Fatalf("plumb user add erin: exit %d: %s", code, errs)
	}
	if got := login("erin", "first-pw"); !strings.HasPrefix(got, "+OK") {
		t.Fatalf("login after plumb user add (serve running) = %q, want +OK", got)
	}
	if _, errs, code := plumbUser(t, s.Data, "second-pw\n", "passwd", "erin"); code != 0 {
		t.Fatalf("plumb user passwd erin: exit %d: %s", code, errs)
	}
	if got := login("erin", "second-pw"); !strings.HasPrefix(got, "+OK") {
		t.Errorf("login with the new password = %q, want +OK", got)
	}
	if got := login("erin", "first-pw"); !strings.HasPrefix(got, "-ERR") {
		t.Errorf("login with the old password after passwd = %q, want -ERR", got)
	}
	if _, errs, code := plumbUser(t, s.Data, "", "del", "erin"); code != 0 {
		t.Fatalf("plumb user del erin: exit %d: %s", code, errs)
	}
	if got := login("erin", "second-pw"); !strings.HasPrefix(got, "-ERR") {
		t.Errorf("login after plumb user del = %q, want -ERR", got)
	}
}

// TestRepeatedFailuresAreSlowed: after 5 failed logins from one address
// the daemon makes the next attempt wait (1s by default, doubling), even
// with the right password.
func TestRepeatedFailuresAreSlowed(t *testing.T) {
	py := needPyModule(t, "poplib")
	s := startServe(t, pop3Config)
	if _, errs, code := plumbUser(t, s.Data, "right-pw\n", "add", "frank"); code != 0 {
		t.Fatalf("plumb user add frank: exit %d: %s", code, errs)
	}
	host, port, _ := strings.Cut(s.Addr(t, "pop3"), ":")
	login := func(pw string) (string, time.Duration) {
		t.Helper()
		start := time.Now()
		out := run(t, 60*time.Second, py, "-W", "ignore", "testdata/pop3_login.py", host, port, "frank", pw)
		return strings.TrimSpace(out), time.Since(start)
	}
	var fastest time.Duration = time.Hour
	for i := range 5 {
		got, d := login("wrong")
		if !strings.HasPrefix(got, "-ERR") {
			t.Fatalf("wrong login #%d = %q, want -ERR", i+1, got)
		}
		fastest = min(fastest, d)
	}
	got, d := login("right-pw")
	if !strings.HasPrefix(got, "+OK") {
		t.Fatalf("right login after 5 failures = %q, want +OK (slowed, not locked out)", got)
	}
	if d < fastest+900*time.Millisecond {
		t.Errorf("login after 5 failures took %v, fastest failure %v; want ≥ 1s more", d, fastest)
	}
}
