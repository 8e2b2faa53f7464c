package accounts

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// fastOpts keep bcrypt cheap and the throttle short so tests stay fast.
var fastOpts = Options{
	Cost:     bcrypt.MinCost,
	Throttle: Throttle{Failures: 3, Delay: 40 * time.Millisecond, MaxDelay: 200 * time.Millisecond, Window: time.Minute},
	Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
}

func openTemp(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", FileName)
	db, err := OpenWith(path, fastOpts)
	if err != nil {
		t.Fatalf("OpenWith(%q) = %v", path, err)
	}
	return db, path
}

var (
	ctx     = context.Background()
	client1 = &net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 4000}
	client2 = &net.TCPAddr{IP: net.ParseIP("192.0.2.2"), Port: 4000}
)

func TestAddAuthenticate(t *testing.T) {
	db, path := openTemp(t)
	if err := db.Add("alice", "s3cret pass"); err != nil {
		t.Fatalf("Add(alice) = %v", err)
	}
	u, err := db.Authenticate(ctx, "alice", "s3cret pass", client1)
	if err != nil || u != (User{Name: "alice", Home: "alice"}) {
		t.Fatalf("Authenticate(alice, right) = %+v, %v; want alice, nil", u, err)
	}
	if u, err := db.Authenticate(ctx, "ALICE", "s3cret pass", client1); err != nil || u.Name != "alice" {
		t.Errorf("Authenticate(ALICE) = %+v, %v; want alice (names fold case)", u, err)
	}
	if _, err := db.Authenticate(ctx, "alice", "wrong", client1); !errors.Is(err, ErrAuthFailed) {
		t.Errorf("Authenticate(alice, wrong) = %v, want ErrAuthFailed", err)
	}
	if _, err := db.Authenticate(ctx, "bob", "s3cret pass", client1); !errors.Is(err, ErrAuthFailed) {
		t.Errorf("Authenticate(bob unknown) = %v, want ErrAuthFailed", err)
	}
	if _, err := db.Authenticate(ctx, "../etc", "x", nil); !errors.Is(err, ErrAuthFailed) {
		t.Errorf("Authenticate(../etc) = %v, want ErrAuthFailed", err)
	}
	if err := db.Add("alice", "other"); !errors.Is(err, ErrExists) {
		t.Errorf("Add(alice) again = %v, want ErrExists", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("account file mode = %v, want 0600", perm)
	}
	// A second DB on the same file sees the account: it is on disk.
	db2, err := OpenWith(path, fastOpts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db2.Authenticate(ctx, "alice", "s3cret pass", nil); err != nil {
		t.Errorf("reopened Authenticate(alice) = %v, want nil", err)
	}
}

func TestLongPasswordPrefixFails(t *testing.T) {
	db, _ := openTemp(t)
	p72 := strings.Repeat("a", 72)
	if err := db.Add("carol", p72); err != nil {
		t.Fatalf("Add(carol, 72 bytes) = %v", err)
	}
	if _, err := db.Authenticate(ctx, "carol", p72, nil); err != nil {
		t.Errorf("Authenticate(carol, 72 bytes) = %v, want nil", err)
	}
	// bcrypt would accept this (it reads 72 bytes); we must not.
	if _, err := db.Authenticate(ctx, "carol", p72+"zzz", nil); !errors.Is(err, ErrAuthFailed) {
		t.Errorf("Authenticate(carol, 75 bytes with right prefix) = %v, want ErrAuthFailed", err)
	}
	if err := db.Add("dave", p72+"a"); !errors.Is(err, ErrInvalidPassword) {
		t.Errorf("Add(dave, 73 bytes) = %v, want ErrInvalidPassword", err)
	}
}

func TestSetPasswordDeleteList(t *testing.T) {
	db, _ := openTemp(t)
	for _, n := range []string{"zed", "alice", "bob.smith"} {
		if err := db.Add(n, "pw-"+n); err != nil {
			t.Fatalf("Add(%s) = %v", n, err)
		}
	}
	if err := db.SetPassword("alice", "new-pw"); err != nil {
		t.Fatalf("SetPassword(alice) = %v", err)
	}
	if _, err := db.Authenticate(ctx, "alice", "pw-alice", nil); !errors.Is(err, ErrAuthFailed) {
		t.Errorf("Authenticate(alice, old) = %v, want ErrAuthFailed", err)
	}
	if _, err := db.Authenticate(ctx, "alice", "new-pw", nil); err != nil {
		t.Errorf("Authenticate(alice, new) = %v, want nil", err)
	}
	if err := db.SetPassword("nobody", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetPassword(nobody) = %v, want ErrNotFound", err)
	}
	if err := db.Delete("zed"); err != nil {
		t.Fatalf("Delete(zed) = %v", err)
	}
	if err := db.Delete("zed"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete(zed) twice = %v, want ErrNotFound", err)
	}
	if _, ok := db.Lookup("zed"); ok {
		t.Errorf("Lookup(zed) after Delete = ok")
	}
	if _, err := db.Authenticate(ctx, "zed", "pw-zed", nil); !errors.Is(err, ErrAuthFailed) {
		t.Errorf("Authenticate(zed) after Delete = %v, want ErrAuthFailed", err)
	}
	var names []string
	for _, a := range db.List() {
		names = append(names, a.Name)
		if a.Created.IsZero() {
			t.Errorf("List()[%s].Created is zero", a.Name)
		}
	}
	if got := strings.Join(names, ","); got != "alice,bob.smith" {
		t.Errorf("List() names = %q, want %q", got, "alice,bob.smith")
	}
}

func TestCheckName(t *testing.T) {
	good := []string{"a", "alice", "bob.smith", "x_1-2", "0day", strings.Repeat("a", 64)}
	bad := []string{"", ".", "..", "a..b", ".hidden", "-x", "a/b", "a\\b", "Alice", "a+b", "a b", "a@b",
		"a\x00", "\u00e9", strings.Repeat("a", 65), "a\r\nb"}
	for _, n := range good {
		if err := CheckName(n); err != nil {
			t.Errorf("CheckName(%q) = %v, want nil", n, err)
		}
	}
	for _, n := range bad {
		if err := CheckName(n); !errors.Is(err, ErrInvalidName) {
			t.Errorf("CheckName(%q) = %v, want ErrInvalidName", n, err)
		}
	}
}

// TestCheckNameNamesWholeCharacter: a bad non-ASCII character is
// reported as the character, not as the first byte of its UTF-8 form.
func TestCheckNameNamesWholeCharacter(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"jörg", `"jörg" has 'ö'`},
		{"zoë", `"zoë" has 'ë'`},
		{"日本", `"日本" has '日'`},
		{"a😀", `"a😀" has '😀'`},
		{"a b", `"a b" has ' '`},
		{"a\xc3", `"a\xc3" is not valid UTF-8 (byte 0xc3)`},
	} {
		err := CheckName(tc.name)
		if !errors.Is(err, ErrInvalidName) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckName(%q) = %v, want ErrInvalidName saying %s", tc.name, err, tc.want)
		}
	}
}

func TestBadPasswords(t *testing.T) {
	db, _ := openTemp(t)
	for _, p := range []string{"", "a\nb", "a\rb", "a\x00b", "tab\there", "\xff\xfe"} {
		if err := db.Add("eve", p); !errors.Is(err, ErrInvalidPassword) {
			t.Errorf("Add(eve, %q) = %v, want ErrInvalidPassword", p, err)
		}
	}
}

func TestAtomicWriteLeavesNoTemp(t *testing.T) {
	db, path := openTemp(t)
	for i, n := range []string{"a1", "a2", "a3"} {
		if err := db.Add(n, "pw"); err != nil {
			t.Fatalf("Add #%d = %v", i, err)
		}
	}
	db.Delete("a2")
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got, want := strings.Join(names, ","), FileName+","+FileName+".lock"; got != want {
		t.Errorf("data dir holds %q, want %q (no temporary files)", got, want)
	}
	// A failed write (directory made read-only) leaves the old file intact and no temp.
	if os.Geteuid() == 0 {
		return // root ignores directory permissions
	}
	dir := filepath.Dir(path)
	os.Chmod(dir, 0o500)
	defer os.Chmod(dir, 0o700)
	if err := db.Add("a4", "pw"); err == nil {
		t.Errorf("Add into read-only dir = nil, want error")
	}
	if _, ok := db.Lookup("a3"); !ok {
		t.Errorf("Lookup(a3) after failed write = missing")
	}
}

func TestReloadAfterExternalChange(t *testing.T) {
	db, path := openTemp(t)
	if err := db.Add("alice", "pw1"); err != nil {
		t.Fatal(err)
	}
	// Another process (here another DB) changes the file.
	other, err := OpenWith(path, fastOpts)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Add("bob", "pw2"); err != nil {
		t.Fatal(err)
	}
	if err := other.SetPassword("alice", "pw3"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Authenticate(ctx, "bob", "pw2", nil); err != nil {
		t.Errorf("Authenticate(bob) after external add = %v, want nil", err)
	}
	if _, err := db.Authenticate(ctx, "alice", "pw3", nil); err != nil {
		t.Errorf("Authenticate(alice, new) after external passwd = %v, want nil", err)
	}
	// Hand edit that breaks the file: the old accounts stay in force.
	if err := os.WriteFile(path, []byte("[[user]]\nname = \"bob\"\nbogus = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Authenticate(ctx, "bob", "pw2", nil); err != nil {
		t.Errorf("Authenticate(bob) after broken edit = %v, want nil (old accounts kept)", err)
	}
	// And a broken file is not overwritten by a change.
	if err := db.Add("carol", "pw"); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("Add over a broken file = %v, want error naming key bogus", err)
	}
	// Removing the file removes every account.
	os.Remove(path)
	if _, ok := db.Lookup("bob"); ok {
		t.Errorf("Lookup(bob) after the file was removed = ok")
	}
}

func TestConcurrentWritersLoseNothing(t *testing.T) {
	db, path := openTemp(t)
	db2, err := OpenWith(path, fastOpts)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := db
			if i%2 == 1 {
				d = db2
			}
			if err := d.Add("u"+string(rune('a'+i)), "pw"); err != nil {
				t.Errorf("Add #%d = %v", i, err)
			}
		}()
	}
	wg.Wait()
	if n := len(db.List()); n != 20 {
		t.Errorf("len(List()) after 20 concurrent adds from two DBs = %d, want 20", n)
	}
}

func TestThrottle(t *testing.T) {
	db, _ := openTemp(t)
	if err := db.Add("alice", "right"); err != nil {
		t.Fatal(err)
	}
	k1, k2 := clientKey(client1), clientKey(client2)
	timed := func(user, pw string, from net.Addr) (time.Duration, error) {
		start := time.Now()
		_, err := db.Authenticate(ctx, user, pw, from)
		return time.Since(start), err
	}
	// The first Failures attempts are not delayed (unknown users count too).
	for i := range 3 {
		if w := db.fails.next(k1); w != 0 {
			t.Fatalf("before failure #%d the wait is %v, want 0", i+1, w)
		}
		if _, err := timed("nobody", "wrong", client1); !errors.Is(err, ErrAuthFailed) {
			t.Fatalf("failure #%d = %v, want ErrAuthFailed", i+1, err)
		}
	}
	// Now every attempt from that address waits, even the right password;
	// sleeping never ends early, so lower bounds hold on a loaded machine.
	if w := db.fails.next(k1); w != 40*time.Millisecond {
		t.Errorf("after 3 failures the wait is %v, want Delay (40ms)", w)
	}
	if d, err := timed("alice", "wrong", client1); !errors.Is(err, ErrAuthFailed) || d < 40*time.Millisecond {
		t.Errorf("4th attempt took %v, %v; want ≥40ms delay and ErrAuthFailed", d, err)
	}
	if d, err := timed("alice", "right", client1); err != nil || d < 80*time.Millisecond {
		t.Errorf("5th attempt (right password) took %v, %v; want ≥80ms (doubled) and success", d, err)
	}
	// A success does not reset the count.
	if w := db.fails.next(k1); w != 80*time.Millisecond {
		t.Errorf("after a success the wait is %v, want still 80ms", w)
	}
	// Another address is not slowed.
	if w := db.fails.next(k2); w != 0 {
		t.Errorf("wait for another address = %v, want 0", w)
	}
	if _, err := timed("alice", "right", client2); err != nil {
		t.Errorf("attempt from another address = %v, want success", err)
	}
	// The delay doubles up to MaxDelay.
	for range 4 {
		db.fails.fail(k1)
	}
	if w := db.fails.next(k1); w != 200*time.Millisecond {
		t.Errorf("after 8 failures the wait is %v, want MaxDelay (200ms)", w)
	}
	// The wait honours the context.
	cctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := db.Authenticate(cctx, "alice", "right", client1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Authenticate with expiring ctx = %v, want DeadlineExceeded", err)
	}
}

func TestThrottleWindowForgets(t *testing.T) {
	f := newFailures(Throttle{Failures: 1, Window: 30 * time.Millisecond, Delay: time.Second}.withDefaults())
	f.fail("k")
	if w := f.next("k"); w != time.Second {
		t.Fatalf("wait after a failure = %v, want 1s", w)
	}
	time.Sleep(50 * time.Millisecond)
	if w := f.next("k"); w != 0 {
		t.Errorf("wait after the window passed = %v, want 0", w)
	}
	start := time.Now()
	end, err := f.begin(ctx, "k")
	if err != nil || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("begin(k) after the window = %v after %v, want nil at once", err, time.Since(start))
	}
	end(false)
	if n := len(f.m); n != 0 {
		t.Errorf("failure table after a forgotten address's attempt holds %d entries, want 0", n)
	}
}

func TestThrottleBoundedMemory(t *testing.T) {
	f := newFailures(Throttle{MaxClients: 100}.withDefaults())
	for i := range 1000 {
		f.fail(netipString(i))
	}
	if n := len(f.m); n > 100 {
		t.Errorf("failure table holds %d addresses, want ≤ MaxClients (100)", n)
	}
}

func netipString(i int) string { return net.IPv4(10, byte(i>>16), byte(i>>8), byte(i)).String() }

func TestClientKey(t *testing.T) {
	for _, tc := range []struct {
		addr net.Addr
		want string
	}{
		{nil, ""},
		{&net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 1}, "192.0.2.7"},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.7"), Port: 1}, "192.0.2.7"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:3:4:5:6"), Port: 1}, "2001:db8:1:2::/64"},
		{&net.UnixAddr{Name: "/x", Net: "unix"}, ""},
	} {
		if got := clientKey(tc.addr); got != tc.want {
			t.Errorf("clientKey(%v) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

// TestUnknownUserRunsBcrypt checks the constant-time property where it
// can be checked reliably: an unknown user costs a bcrypt comparison of
// the same cost as a known one, not nothing.
func TestUnknownUserRunsBcrypt(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	o := fastOpts
	o.Cost = 8
	o.Throttle.Failures = -1
	db, err := OpenWith(path, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Add("alice", "pw"); err != nil {
		t.Fatal(err)
	}
	measure := func(name string) time.Duration {
		best := time.Hour
		for range 5 {
			start := time.Now()
			db.Authenticate(ctx, name, "wrong", nil)
			best = min(best, time.Since(start))
		}
		return best
	}
	db.Authenticate(ctx, "warm", "x", nil) // makes the dummy hash
	known, unknown, invalid := measure("alice"), measure("nobody"), measure("../bad")
	for name, d := range map[string]time.Duration{"unknown": unknown, "invalid": invalid} {
		if d < known/3 || d > known*3 {
			t.Errorf("Authenticate(%s user) took %v, known user %v; want the same order (a leak would be ~0)", name, d, known)
		}
	}
}

func TestEnsureFirstUser(t *testing.T) {
	db, path := openTemp(t)
	pw, created, err := db.EnsureFirstUser("plumb")
	if err != nil || !created {
		t.Fatalf("EnsureFirstUser on empty = %q, %v, %v; want created", pw, created, err)
	}
	if len(pw) != 19 || strings.Count(pw, "-") != 3 {
		t.Errorf("first password %q, want 4 groups of 4", pw)
	}
	if _, err := db.Authenticate(ctx, "plumb", pw, nil); err != nil {
		t.Errorf("Authenticate(plumb, printed password) = %v, want nil", err)
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), pw) {
		t.Errorf("account file contains the plain first password")
	}
	pw2, created, err := db.EnsureFirstUser("plumb")
	if err != nil || created || pw2 != "" {
		t.Errorf("EnsureFirstUser again = %q, %v, %v; want \"\", false, nil", pw2, created, err)
	}
	// With some other account present, nothing is created.
	db2, _ := openTemp(t)
	db2.Add("alice", "pw")
	if _, created, _ := db2.EnsureFirstUser("plumb"); created {
		t.Errorf("EnsureFirstUser with an existing account created one")
	}
	if _, ok := db2.Lookup("plumb"); ok {
		t.Errorf("Lookup(plumb) = ok, want no first user when accounts exist")
	}
}

func TestRandomPassword(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		p := randomPassword()
		if seen[p] {
			t.Fatalf("randomPassword repeated %q", p)
		}
		seen[p] = true
		for _, c := range strings.ReplaceAll(p, "-", "") {
			if !strings.ContainsRune(passwordAlphabet, c) {
				t.Fatalf("randomPassword() = %q has %q outside the alphabet", p, c)
			}
		}
		if err := checkPassword(p); err != nil {
			t.Fatalf("checkPassword(randomPassword()) = %v", err)
		}
	}
}

func TestAPOP(t *testing.T) {
	db, _ := openTemp(t)
	db.Add("alice", "pw")
	const banner = "<1896.697170952@dbc.mtview.ca.us>"
	if _, ok := db.APOPSecret("alice"); ok {
		t.Errorf("APOPSecret(alice) before set = ok")
	}
	if _, err := db.VerifyAPOP(ctx, "alice", banner, "", nil); !errors.Is(err, ErrAuthFailed) {
		t.Errorf("VerifyAPOP without secret = %v, want ErrAuthFailed", err)
	}
	// RFC 1939's example: secret "tanstaaf" gives this digest.
	if err := db.SetAPOPSecret("alice", "tanstaaf"); err != nil {
		t.Fatalf("SetAPOPSecret = %v", err)
	}
	if s, ok := db.APOPSecret("alice"); !ok || s != "tanstaaf" {
		t.Errorf("APOPSecret(alice) = %q, %v; want tanstaaf", s, ok)
	}
	if _, err := db.VerifyAPOP(ctx, "alice", banner, "c4c9334bac560ecc979e58001b3e22fb", nil); err != nil {
		t.Errorf("VerifyAPOP(RFC 1939 example) = %v, want nil", err)
	}
	if _, err := db.VerifyAPOP(ctx, "alice", banner, "c4c9334bac560ecc979e58001b3e22fc", nil); !errors.Is(err, ErrAuthFailed) {
		t.Errorf("VerifyAPOP(wrong digest) = %v, want ErrAuthFailed", err)
	}
	sum := md5.Sum([]byte(banner + "\x00no secret"))
	if _, err := db.VerifyAPOP(ctx, "nobody", banner, hex.EncodeToString(sum[:]), nil); !errors.Is(err, ErrAuthFailed) {
		t.Errorf("VerifyAPOP(unknown user, dummy digest) = %v, want ErrAuthFailed", err)
	}
	// The password still works and is separate.
	if _, err := db.Authenticate(ctx, "alice", "tanstaaf", nil); !errors.Is(err, ErrAuthFailed) {
		t.Errorf("Authenticate with the APOP secret = %v, want ErrAuthFailed", err)
	}
	if a := db.List(); len(a) != 1 || !a[0].APOP {
		t.Errorf("List() = %+v, want alice with APOP", a)
	}
	if err := db.SetAPOPSecret("alice", ""); err != nil {
		t.Fatal(err)
	}
	if _, ok := db.APOPSecret("alice"); ok {
		t.Errorf("APOPSecret(alice) after clearing = ok")
	}
}

func TestOpenReportsBadFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ body, want string }{
		{"[[user]]\nname = \"a\"\nhash = \"x\"\n", "not a bcrypt hash"},
		{"[[user]]\nname = \"a\"\nhash = 3\n", "3:"},
		{"[[user]]\nname = \"a\"\nhash = \"$2a$04$......................................................\"\ncolour = 1\n", "colour"},
		{"[[user]]\nname = \"../x\"\n", "invalid user name"},
	} {
		p := filepath.Join(dir, "bad.toml")
		os.WriteFile(p, []byte(tc.body), 0o600)
		_, err := OpenWith(p, fastOpts)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("OpenWith(%q) = %v, want error with path and %q", tc.body, err, tc.want)
		}
	}
}

func TestFullName(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	db, err := OpenWith(path, Options{Cost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Add("alice", "pw"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetFullName("Alice", "Alice Liddell"); err != nil {
		t.Fatalf("SetFullName = %v", err)
	}
	if err := db.SetFullName("alice", "bad\x1b[2J"); !errors.Is(err, ErrInvalidFullName) {
		t.Errorf("SetFullName(with ESC) = %v, want ErrInvalidFullName", err)
	}
	again, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := again.Lookup("alice"); u.FullName != "Alice Liddell" {
		t.Errorf("Lookup(alice).FullName after reopen = %q, want %q", u.FullName, "Alice Liddell")
	}
}
