package interop

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/mailstore"
)

// pop3Config runs POP3 and POP3S on free ports and nothing else of the mail services.
const pop3Config = `
[smtp]
enabled = false
[smtp.submission]
enabled = false
[smtp.submissions]
enabled = false
[pop3]
addr = "127.0.0.1:0"
[pop3.pop3s]
addr = "127.0.0.1:0"
`

// pop3Messages are stored as given; the wire form (CRLF line ends) is
// what every client must read back.
var pop3Messages = []string{
	"From: a@example.org\r\nSubject: first\r\n\r\nHello over POP3.\r\n",
	"From: b@example.org\nSubject: bare LF\n\n.a line with a dot\n..two dots\nlast line\n",
	"Subject: big\r\n\r\n" + strings.Repeat(strings.Repeat("x", 998)+"\r\n", 300),
	"Subject: no final line end\r\n\r\nlast",
}

func wireForm(m string) string {
	w := strings.ReplaceAll(strings.ReplaceAll(m, "\r\n", "\n"), "\n", "\r\n")
	if !strings.HasSuffix(w, "\r\n") {
		w += "\r\n" // a message must end with a line end on the wire
	}
	return w
}

// startPOP3 starts plumb serve with POP3, the user alice (password
// "alice-password", APOP secret "apop-secret") and pop3Messages in her inbox.
func startPOP3(t *testing.T) *Serve {
	t.Helper()
	s := startServe(t, pop3Config)
	if _, errs, code := plumbUser(t, s.Data, "alice-password\n", "add", "alice"); code != 0 {
		t.Fatalf("plumb user add alice: exit %d: %s", code, errs)
	}
	if _, errs, code := plumbUser(t, s.Data, "apop-secret\n", "passwd", "alice", "--apop"); code != 0 {
		t.Fatalf("plumb user passwd alice --apop: exit %d: %s", code, errs)
	}
	st, err := mailstore.Open(filepath.Join(s.Data, "mail"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range pop3Messages {
		if _, err := st.Deliver(context.Background(), "alice", "", strings.NewReader(m)); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

type poplibResult struct {
	Welcome string   `json:"welcome"`
	Login   string   `json:"login"`
	Capa    []string `json:"capa"`
	Stat    []int    `json:"stat"`
	List    []string `json:"list"`
	UIDL    []string `json:"uidl"`
	Retr    []string `json:"retr"`
	Octets  []int    `json:"octets"`
	Top     string   `json:"top"`
	Dele    string   `json:"dele"`
	Quit    string   `json:"quit"`
}

func runPoplib(t *testing.T, py, mode, addr, user, secret string) poplibResult {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	out := run(t, 30*time.Second, py, "-W", "ignore", "testdata/pop3_poplib.py", mode, host, port, user, secret)
	var r poplibResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("poplib %s printed %q: %v", mode, out, err)
	}
	return r
}

func inboxCount(t *testing.T, data string) int {
	t.Helper()
	st, err := mailstore.Open(filepath.Join(data, "mail"))
	if err != nil {
		t.Fatal(err)
	}
	mb, err := st.Mailbox(context.Background(), "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := mb.Messages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(msgs)
}

func TestPOP3Poplib(t *testing.T) {
	py := needPyModule(t, "poplib")
	s := startPOP3(t)
	total := 0
	for _, m := range pop3Messages {
		total += len(wireForm(m))
	}
	left := len(pop3Messages)
	for _, tc := range []struct{ mode, service, secret string }{
		{"user", "pop3", "alice-password"},
		{"apop", "pop3", "apop-secret"},
		{"stls", "pop3", "alice-password"},
		{"ssl", "pop3s", "alice-password"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			r := runPoplib(t, py, tc.mode, s.Addr(t, tc.service), "alice", tc.secret)
			if !strings.HasPrefix(r.Login, "+OK") {
				t.Fatalf("login = %q", r.Login)
			}
			first := len(pop3Messages) - left // messages deleted by earlier modes
			if r.Stat[0] != left {
				t.Fatalf("STAT = %v, want %d messages", r.Stat, left)
			}
			size := 0
			for i, m := range pop3Messages[first:] {
				want := wireForm(m)
				size += len(want)
				got, _ := hex.DecodeString(r.Retr[i])
				if string(got) != want {
					t.Errorf("poplib retr(%d) = %q, want %q", i+1, got, want)
				}
				if r.Octets[i] != len(want) {
					t.Errorf("poplib retr(%d) octets = %d, want %d", i+1, r.Octets[i], len(want))
				}
				if wantList := fmt.Sprintf("%d %d", i+1, len(want)); r.List[i] != wantList {
					t.Errorf("LIST line %d = %q, want %q", i, r.List[i], wantList)
				}
			}
			if r.Stat[1] != size {
				t.Errorf("STAT size = %d, want %d", r.Stat[1], size)
			}
			top, _ := hex.DecodeString(r.Top)
			hdr, _, _ := strings.Cut(wireForm(pop3Messages[first]), "\r\n\r\n")
			if string(top) != hdr+"\r\n\r\n" {
				t.Errorf("poplib top(1, 0) = %q, want %q", top, hdr+"\r\n\r\n")
			}
			if len(r.UIDL) != left || r.UIDL[0] == "" {
				t.Errorf("UIDL = %q", r.UIDL)
			}
			if !strings.HasPrefix(r.Quit, "+OK") {
				t.Errorf("QUIT = %q", r.Quit)
			}
			left--
			if n := inboxCount(t, s.Data); n != left {
				t.Errorf("after DELE 1 and QUIT the inbox holds %d, want %d", n, left)
			}
		})
		if left == 0 {
			break
		}
	}
}

func TestPOP3Curl(t *testing.T) {
	curl := need(t, "curl")
	s := startPOP3(t)
	pop3, pop3s := s.Addr(t, "pop3"), s.Addr(t, "pop3s")
	cred := "alice:alice-password"
	list := run(t, 30*time.Second, curl, "-sS", "--max-time", "20", "-u", cred, "pop3://"+pop3+"/")
	var want strings.Builder
	for i, m := range pop3Messages {
		fmt.Fprintf(&want, "%d %d\r\n", i+1, len(wireForm(m)))
	}
	if list != want.String() {
		t.Errorf("curl pop3:// listing = %q, want %q", list, want.String())
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"plain", []string{"pop3://" + pop3 + "/2"}},
		{"stls", []string{"--ssl-reqd", "-k", "pop3://" + pop3 + "/2"}},
		{"pop3s", []string{"-k", "pop3s://" + pop3s + "/2"}},
	} {
		got := run(t, 30*time.Second, curl, append([]string{"-sS", "--max-time", "20", "-u", cred}, tc.args...)...)
		if got != wireForm(pop3Messages[1]) {
			t.Errorf("curl %s retrieval of message 2 = %q, want %q", tc.name, got, wireForm(pop3Messages[1]))
		}
	}
	// A wrong password is refused, and curl says so.
	cmd := exec.Command(curl, "-sS", "--max-time", "20", "-u", "alice:wrong", "pop3://"+pop3+"/")
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("curl with a wrong password succeeded: %s", out)
	}
	if n := inboxCount(t, s.Data); n != len(pop3Messages) {
		t.Errorf("after curl the inbox holds %d, want %d (nothing deleted)", n, len(pop3Messages))
	}
}

func TestPOP3MailCLI(t *testing.T) {
	s := startPOP3(t)
	url := "pop3://alice:alice-password@" + s.Addr(t, "pop3")
	out := run(t, 30*time.Second, plumbBin, "mail", "list", url)
	if !strings.Contains(out, "NUM") || !strings.Contains(out, "a@example.org") || !strings.Contains(out, "bare LF") {
		t.Errorf("plumb mail list = %q, want a table with From and Subject", out)
	}
	if lines := strings.Count(out, "\n"); lines != len(pop3Messages)+1 {
		t.Errorf("plumb mail list printed %d lines, want %d", lines, len(pop3Messages)+1)
	}
	out = run(t, 30*time.Second, plumbBin, "mail", "list", "--brief", "pop3s://alice:alice-password@"+s.Addr(t, "pop3s"), "--insecure")
	if strings.Contains(out, "FROM") || strings.Count(out, "\n") != len(pop3Messages)+1 {
		t.Errorf("plumb mail list --brief over pop3s = %q", out)
	}

	// Fetch into a Maildir, twice: the second fetch finds nothing new.
	dir := filepath.Join(t.TempDir(), "Maildir")
	for round, want := range []int{len(pop3Messages), 0} {
		cmd := exec.Command(plumbBin, "mail", "fetch", url, "--starttls", "--insecure", "--to-maildir", dir)
		msg, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("plumb mail fetch (round %d): %v\n%s", round, err, msg)
		}
		if !strings.Contains(string(msg), fmt.Sprintf("%d messages fetched", want)) {
			t.Errorf("plumb mail fetch round %d said %q, want %d messages fetched", round, msg, want)
		}
	}
	local, err := mailstore.Open(filepath.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := local.Mailbox(context.Background(), "Maildir", "")
	msgs, _ := mb.Messages(context.Background())
	if len(msgs) != len(pop3Messages) {
		t.Fatalf("the Maildir holds %d messages, want %d", len(msgs), len(pop3Messages))
	}
	for i, m := range msgs {
		f, _ := mb.Open(m.UID)
		b := new(strings.Builder)
		io.Copy(b, f)
		f.Close()
		if b.String() != wireForm(pop3Messages[i]) {
			t.Errorf("fetched message %d = %q, want %q", i+1, b.String(), wireForm(pop3Messages[i]))
		}
	}
	if n := inboxCount(t, s.Data); n != len(pop3Messages) {
		t.Errorf("fetch without --delete left %d on the server, want %d", n, len(pop3Messages))
	}

	// --delete to standard output (mbox) empties the server's inbox.
	out = run(t, 30*time.Second, plumbBin, "mail", "fetch", url, "--delete")
	if strings.Count(out, "\nFrom ")+boolInt(strings.HasPrefix(out, "From ")) != len(pop3Messages) {
		t.Errorf("mbox output has the wrong number of From lines:\n%.300s", out)
	}
	if n := inboxCount(t, s.Data); n != 0 {
		t.Errorf("after fetch --delete the server holds %d messages, want 0", n)
	}

	// A wrong password fails with advice and a non-zero status.
	cmd := exec.Command(plumbBin, "mail", "list", "pop3://alice:nope@"+s.Addr(t, "pop3"))
	msg, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(msg), "check the user and password") {
		t.Errorf("plumb mail list with a wrong password = %v, %q", err, msg)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
