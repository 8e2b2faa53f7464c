package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The tests here run plumb on a pseudo-terminal made by Python's pty
// module (testdata/pty_session.py), as a person at a terminal would,
// and compare with the same command piped.

// ptySession runs plumb with args on a pseudo-terminal (standard input,
// output and error all on it), playing steps ("expect:TEXT",
// "send:TEXT"), and returns what the terminal showed and the exit status.
func ptySession(t *testing.T, py string, steps []string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	argv := append([]string{"-W", "ignore", "testdata/pty_session.py"}, steps...)
	argv = append(append(argv, "--", plumbBin), args...)
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, py, argv...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		if ee.ExitCode() == 124 {
			t.Fatalf("plumb %s on a terminal: %s\nterminal:\n%q", strings.Join(args, " "), errb.String(), out.String())
		}
		return out.String(), ee.ExitCode()
	case err != nil:
		t.Fatalf("pty_session.py: %v\n%s", err, errb.String())
	}
	return out.String(), 0
}

// progressBar matches a finished bar as transfer.go draws it: the file
// name, 100%, the bar, then bytes done of the total, after a carriage return.
var progressBar = regexp.MustCompile(`\r[^\r\n]*100% \|[^|]*\| \([0-9.]+/[0-9.]+ [kMG]?B`)

// TestTransferProgressBarOnTerminal downloads and uploads a few MB with
// plumb get and plumb put from our FTP server: on a terminal a progress
// bar is drawn on standard error; piped, or with --silent, nothing but
// the data moves. The files arrive intact either way.
func TestTransferProgressBarOnTerminal(t *testing.T) {
	py := needPyModule(t, "pty")
	s, home := startFTPServe(t, "")
	data := make([]byte, 4<<20+123)
	rand.Read(data)
	if err := os.WriteFile(filepath.Join(home, "big.bin"), data, 0o640); err != nil {
		t.Fatal(err)
	}
	base := "ftp://" + ftpUser + ":" + ftpPass + "@" + s.Addr(t, "ftp") + "/"
	dir := t.TempDir()
	checkFile := func(what, file string) {
		t.Helper()
		b, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("%s: %v", what, err)
		} else if sha256Hex(b) != sha256Hex(data) {
			t.Errorf("%s: %d bytes, sha256 %s; want %d bytes, %s", what, len(b), sha256Hex(b), len(data), sha256Hex(data))
		}
	}

	// get on a terminal: a bar that reaches 100% of 4.2 MB.
	out := filepath.Join(dir, "tty.bin")
	screen, code := ptySession(t, py, nil, "get", base+"big.bin", "-o", out)
	t.Logf("plumb get on a terminal:\n%q", screen)
	if code != 0 {
		t.Fatalf("plumb get on a terminal: exit %d\n%q", code, screen)
	}
	if !progressBar.MatchString(screen) || !strings.Contains(screen, "tty.bin") || !strings.Contains(screen, "4.2 MB") {
		t.Errorf("plumb get on a terminal showed %q; want a progress bar for tty.bin reaching 100%% of 4.2 MB", screen)
	}
	checkFile("get on a terminal", out)

	// --silent on a terminal: no bar.
	out = filepath.Join(dir, "silent.bin")
	screen, code = ptySession(t, py, nil, "get", "--silent", base+"big.bin", "-o", out)
	if code != 0 || screen != "" {
		t.Errorf("plumb get --silent on a terminal: exit %d, terminal %q; want 0 and nothing shown", code, screen)
	}
	checkFile("get --silent on a terminal", out)

	// put on a terminal: a bar too, and the server gets the same bytes.
	screen, code = ptySession(t, py, nil, "put", filepath.Join(dir, "tty.bin"), base+"up.bin")
	if code != 0 {
		t.Fatalf("plumb put on a terminal: exit %d\n%q", code, screen)
	}
	if !progressBar.MatchString(screen) || !strings.Contains(screen, "up.bin") {
		t.Errorf("plumb put on a terminal showed %q; want a progress bar for up.bin reaching 100%%", screen)
	}
	checkFile("put on a terminal", filepath.Join(home, "up.bin"))

	// Piped: standard output and error are pipes, and stay empty.
	for _, args := range [][]string{
		{"get", base + "big.bin", "-o", filepath.Join(dir, "piped.bin")},
		{"put", filepath.Join(dir, "piped.bin"), base + "up-piped.bin"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, plumbBin, args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		cancel()
		if err != nil || stdout.Len() != 0 || stderr.Len() != 0 {
			t.Errorf("plumb %s piped: %v; stdout %q, stderr %q; want success and no output", args[0], err, stdout.String(), stderr.String())
		}
	}
	checkFile("get piped", filepath.Join(dir, "piped.bin"))
	checkFile("put piped", filepath.Join(home, "up-piped.bin"))
}

// TestFTPShellTabCompletion drives plumb ftp on a terminal: Tab after a
// unique prefix completes a remote directory name, cd goes there, ls
// lists it, and bye ends the session with status 0.
func TestFTPShellTabCompletion(t *testing.T) {
	py := needPyModule(t, "pty")
	s, home := startFTPServe(t, "")
	for _, d := range []string{"quarterly-reports", "queue", "annual reports", "annual reports/2024"} {
		if err := os.Mkdir(filepath.Join(home, d), 0o750); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(home, "quarterly-reports", "q1.txt"), []byte("one\n"), 0o640)
	os.WriteFile(filepath.Join(home, "quarterly-reports", "q2.txt"), []byte("two\n"), 0o640)
	os.WriteFile(filepath.Join(home, "quartz.txt"), []byte("not a directory\n"), 0o640)

	url := "ftp://" + ftpUser + ":" + ftpPass + "@" + s.Addr(t, "ftp") + "/"
	screen, code := ptySession(t, py, []string{
		"expect:ftp> ",
		`send:cd quarte\t`, // "quart" alone would also match quartz.txt
		"expect:cd quarterly-reports/",
		`send:\r`,
		"expect:ftp> ",
		`send:pwd\r`,
		"expect:ftp> ",
		`send:ls\r`,
		"expect:ftp> ",
		`send:cd /ann\t`, // a name with a space is completed escaped
		`expect:cd /annual\ reports/`,
		`send:20\t`,
		`expect:cd /annual\ reports/2024/`,
		`send:\r`,
		"expect:ftp> ",
		`send:pwd\r`,
		"expect:ftp> ",
		`send:bye\r`,
	}, "ftp", url)
	t.Logf("terminal:\n%q", screen)
	if code != 0 {
		t.Errorf("plumb ftp on a terminal: exit %d, want 0\n%q", code, screen)
	}
	// The terminal is raw: lines end in CR LF.
	for _, want := range []string{"/quarterly-reports\r\n", "q1.txt\r\nq2.txt\r\n", "/annual reports/2024\r\n", "bye"} {
		if !strings.Contains(screen, want) {
			t.Errorf("plumb ftp session lacks %q:\n%q", want, screen)
		}
	}
	if strings.Contains(screen, "cd:") || strings.Contains(screen, "?") {
		t.Errorf("a command failed in the session:\n%q", screen)
	}
}
