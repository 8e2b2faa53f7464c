package interop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/mailstore"
)

// Fault injection seen by independent clients: each test changes a
// service's rule through the admin API (/api/chaos) while the daemon
// runs, has a Python standard-library client (or curl) meet the fault,
// clears it, and checks that everything the client was told is stored
// was kept, and nothing it was refused was.

// chaosRule PUTs rule (JSON) as service's rule, or DELETEs it when rule is "".
func chaosRule(t *testing.T, s *Serve, service, rule string) {
	t.Helper()
	method := http.MethodPut
	if rule == "" {
		method = http.MethodDelete
	}
	req, _ := http.NewRequest(method, "http://"+s.Addr(t, "admin")+"/api/chaos/"+service, strings.NewReader(rule))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s /api/chaos/%s %s = %d %s", method, service, rule, resp.StatusCode, body)
	}
}

// faultsInjected reads plumb_faults_injected_total{service,kind} from /metrics.
func faultsInjected(t *testing.T, s *Serve, service, kind string) int {
	t.Helper()
	resp, err := http.Get("http://" + s.Addr(t, "admin") + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	prefix := `plumb_faults_injected_total{kind="` + kind + `",service="` + service + `"} `
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, prefix); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int(n)
		}
	}
	return 0
}

// refusal is what chaos_clients.py reports for a refused step.
type refusal struct {
	Error string `json:"error"`
	Reply string `json:"reply"`
}

// pyStep runs one chaos_clients.py job and decodes its report.
func pyStep(t *testing.T, py string, args ...string) map[string]json.RawMessage {
	t.Helper()
	out := run(t, 60*time.Second, py, append([]string{"-W", "ignore", "testdata/chaos_clients.py"}, args...)...)
	var r map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("chaos_clients.py %v: %v in %q", args, err, out)
	}
	return r
}

// refused returns the refusal reported under step, failing the test if
// the step was not refused.
func refused(t *testing.T, r map[string]json.RawMessage, step string) refusal {
	t.Helper()
	var f refusal
	if err := json.Unmarshal(r[step], &f); err != nil || f.Error == "" {
		t.Fatalf("%s = %s, want a refusal", step, r[step])
	}
	return f
}

// done checks that step was not refused.
func done(t *testing.T, r map[string]json.RawMessage, step string) {
	t.Helper()
	var f refusal
	if json.Unmarshal(r[step], &f) == nil && f.Error != "" || r[step] == nil {
		t.Fatalf("%s = %s, want it done", step, r[step])
	}
}

func hostPort(t *testing.T, s *Serve, service string) (string, string) {
	t.Helper()
	h, p, _ := strings.Cut(s.Addr(t, service), ":")
	return h, p
}

func TestChaosSmtplib(t *testing.T) {
	py := needPyModule(t, "smtplib")
	s := startServe(t, "")
	if _, errs, code := plumbUser(t, s.Data, "alice-password\n", "add", "alice"); code != 0 {
		t.Fatalf("plumb user add alice: exit %d: %s", code, errs)
	}
	host, port := hostPort(t, s, "smtp")
	send := func(subject string) map[string]json.RawMessage {
		return pyStep(t, py, "smtp", host, port, "sender@example.org", "alice@localhost", subject)
	}
	done(t, send("before the faults"), "send")

	chaosRule(t, s, "smtp", `{"steps":[{"step":"rcpt","code":"451","message":"chaos: try again later"}]}`)
	if f := refused(t, send("refused at RCPT"), "send"); f.Error != "SMTPRecipientsRefused" || !strings.HasPrefix(f.Reply, "451 ") || !strings.Contains(f.Reply, "chaos: try again later") {
		t.Errorf("smtplib under a RCPT fault saw %+v, want SMTPRecipientsRefused 451 with the rule's text", f)
	}
	chaosRule(t, s, "smtp", `{"steps":[{"step":"data","code":"554","message":"chaos: rejected"}]}`)
	if f := refused(t, send("refused at DATA"), "send"); f.Error != "SMTPDataError" || !strings.HasPrefix(f.Reply, "554 ") {
		t.Errorf("smtplib under a DATA fault saw %+v, want SMTPDataError 554", f)
	}
	chaosRule(t, s, "smtp", `{"latency":"150ms"}`)
	r := send("slowly")
	done(t, r, "send")
	var seconds float64
	json.Unmarshal(r["seconds"], &seconds)
	// MAIL, RCPT, DATA, the end of the message: four replies, each late.
	if seconds < 0.6 {
		t.Errorf("smtplib sent in %.3fs under 150ms per reply, want at least 0.6s", seconds)
	}
	chaosRule(t, s, "smtp", "")
	done(t, send("after the faults"), "send")

	if n := inboxCount(t, s.Data); n != 3 {
		t.Errorf("alice's inbox holds %d messages, want the 3 smtplib was told were sent", n)
	}
	if n := faultsInjected(t, s, "smtp", "step"); n != 2 {
		t.Errorf("plumb_faults_injected_total{smtp,step} = %d, want 2", n)
	}
}

func TestChaosPoplib(t *testing.T) {
	py := needPyModule(t, "poplib")
	s := startPOP3(t)
	host, port := hostPort(t, s, "pop3")
	chaosRule(t, s, "pop3", `{"steps":[{"step":"fetch","code":"SYS/TEMP","message":"chaos: not now"}]}`)
	r := pyStep(t, py, "pop3", host, port, "alice", "alice-password")
	done(t, r, "login")
	if f := refused(t, r, "retr"); f.Error != "error_proto" || f.Reply != "-ERR [SYS/TEMP] chaos: not now" {
		t.Errorf("poplib RETR under a fault saw %+v, want error_proto -ERR [SYS/TEMP] chaos: not now", f)
	}
	chaosRule(t, s, "pop3", `{"steps":[{"step":"login","code":"AUTH","message":"chaos: no"}]}`)
	if f := refused(t, pyStep(t, py, "pop3", host, port, "alice", "alice-password"), "login"); !strings.HasPrefix(f.Reply, "-ERR [AUTH] chaos: no") {
		t.Errorf("poplib login under a fault saw %+v", f)
	}
	chaosRule(t, s, "pop3", "")
	r = pyStep(t, py, "pop3", host, port, "alice", "alice-password")
	done(t, r, "retr")
	var body string
	json.Unmarshal(r["retr"], &body)
	if !strings.Contains(body, "Hello over POP3.") {
		t.Errorf("RETR 1 after the fault = %q", body)
	}
	if n := inboxCount(t, s.Data); n != len(pop3Messages) {
		t.Errorf("inbox holds %d messages, want %d", n, len(pop3Messages))
	}
}

func TestChaosImaplib(t *testing.T) {
	py := needPyModule(t, "imaplib")
	s := startServe(t, "")
	if _, errs, code := plumbUser(t, s.Data, "alice-password\n", "add", "alice"); code != 0 {
		t.Fatalf("plumb user add alice: exit %d: %s", code, errs)
	}
	st, err := mailstore.Open(filepath.Join(s.Data, "mail"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Deliver(context.Background(), "alice", "", strings.NewReader("Subject: hi\r\n\r\nfor imaplib\r\n")); err != nil {
		t.Fatal(err)
	}
	host, port := hostPort(t, s, "imap")
	chaosRule(t, s, "imap", `{"steps":[{"step":"login","code":"NO UNAVAILABLE","message":"chaos: come back later"}]}`)
	if f := refused(t, pyStep(t, py, "imap", host, port, "alice", "alice-password"), "login"); f.Error != "error" || !strings.Contains(f.Reply, "[UNAVAILABLE] chaos: come back later") {
		t.Errorf("imaplib LOGIN under a fault saw %+v, want IMAP4.error with NO [UNAVAILABLE]", f)
	}
	chaosRule(t, s, "imap", `{"steps":[{"step":"fetch","code":"NO","message":"chaos: fetch failed"}]}`)
	r := pyStep(t, py, "imap", host, port, "alice", "alice-password")
	done(t, r, "login")
	if f := refused(t, r, "fetch"); !strings.Contains(f.Reply, "chaos: fetch failed") {
		t.Errorf("imaplib FETCH under a fault saw %+v", f)
	}
	chaosRule(t, s, "imap", "")
	done(t, pyStep(t, py, "imap", host, port, "alice", "alice-password"), "fetch")
	if n := faultsInjected(t, s, "imap", "step"); n != 2 {
		t.Errorf("plumb_faults_injected_total{imap,step} = %d, want 2", n)
	}
}

func TestChaosFtplib(t *testing.T) {
	py := needPyModule(t, "ftplib")
	s, home := startFTPServe(t, "")
	host, port := hostPort(t, s, "ftp")
	stor := func(name string) map[string]json.RawMessage {
		return pyStep(t, py, "ftp", host, port, ftpUser, ftpPass, name)
	}
	done(t, stor("before.txt"), "stor")
	chaosRule(t, s, "ftp", `{"steps":[{"step":"data","code":"425","message":"chaos: no data connection"}]}`)
	if f := refused(t, stor("refused-data.txt"), "stor"); f.Error != "error_temp" || !strings.HasPrefix(f.Reply, "425 chaos: no data connection") {
		t.Errorf("ftplib STOR under a data-connection fault saw %+v, want error_temp 425", f)
	}
	chaosRule(t, s, "ftp", `{"steps":[{"step":"stor","code":"452","message":"chaos: disk full"}]}`)
	if f := refused(t, stor("refused-stor.txt"), "stor"); f.Error != "error_temp" || !strings.HasPrefix(f.Reply, "452 chaos: disk full") {
		t.Errorf("ftplib STOR under a control fault saw %+v, want error_temp 452", f)
	}
	chaosRule(t, s, "ftp", "")
	done(t, stor("after.txt"), "stor")
	for name, want := range map[string]bool{"before.txt": true, "after.txt": true, "refused-data.txt": false, "refused-stor.txt": false} {
		b, err := os.ReadFile(filepath.Join(home, name))
		if got := err == nil; got != want {
			t.Errorf("%s stored = %v, want %v", name, got, want)
		} else if want && string(b) != "uploaded by ftplib\n" {
			t.Errorf("%s = %q", name, b)
		}
	}
}

func TestChaosNntplib(t *testing.T) {
	py := needPyModule(t, "nntplib")
	s := startNNTP(t)
	host, port := hostPort(t, s, "nntp")
	post := func(subject string) map[string]json.RawMessage {
		return pyStep(t, py, "nntp", host, port, "alice", "alice-password", "local.test", subject)
	}
	done(t, post("before"), "post")
	chaosRule(t, s, "nntp", `{"steps":[{"step":"post","code":"440","message":"chaos: posting not permitted"}]}`)
	if f := refused(t, post("refused"), "post"); f.Error != "NNTPTemporaryError" || !strings.HasPrefix(f.Reply, "440 chaos") {
		t.Errorf("nntplib POST under a fault saw %+v, want NNTPTemporaryError 440", f)
	}
	chaosRule(t, s, "nntp", `{"tls_failure":1}`)
	if f := refused(t, post("no tls"), "starttls"); f.Error == "" {
		t.Errorf("nntplib STARTTLS under tls_failure 1 saw %+v", f)
	}
	chaosRule(t, s, "nntp", "")
	r := post("after")
	done(t, r, "post")
	var count int
	json.Unmarshal(r["count"], &count)
	if count != 2 {
		t.Errorf("local.test holds %d articles, want the 2 nntplib was told were posted", count)
	}
	if n := faultsInjected(t, s, "nntp", "tls"); n != 1 {
		t.Errorf("plumb_faults_injected_total{nntp,tls} = %d, want 1", n)
	}
}

// curlExit runs curl and returns its exit code and its -w output.
func curlExit(t *testing.T, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "curl", append([]string{"-s", "-o", "/dev/null", "--max-time", "20"}, args...)...).Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

func TestChaosCurlHTTP(t *testing.T) {
	need(t, "curl")
	s := startServe(t, "")
	url := "http://" + s.Addr(t, "http") + "/"
	if code, _ := curlExit(t, url); code != 0 {
		t.Fatalf("curl %s without faults: exit %d", url, code)
	}
	chaosRule(t, s, "http", `{"latency":"300ms"}`)
	code, w := curlExit(t, "-w", "%{time_starttransfer}", url)
	if secs, _ := strconv.ParseFloat(w, 64); code != 0 || secs < 0.3 {
		t.Errorf("curl under 300ms latency: exit %d, first byte after %ss; want 0 and at least 0.3s", code, w)
	}
	// A 40,000-byte file under a 20,000 B/s cap: at least 1.9 s (the
	// first twentieth of a second's worth goes at once).
	anon := filepath.Join(s.Data, "files", "anonymous")
	os.MkdirAll(anon, 0o750)
	if err := os.WriteFile(filepath.Join(anon, "capped.bin"), make([]byte, 40000), 0o640); err != nil {
		t.Fatal(err)
	}
	chaosRule(t, s, "http", `{"bandwidth":20000}`)
	code, w = curlExit(t, "-w", "%{time_total} %{size_download}", url+"capped.bin")
	var secs float64
	var size int
	fmt.Sscan(w, &secs, &size)
	if code != 0 || size != 40000 || secs < 1.9 {
		t.Errorf("curl of 40000 bytes under a 20000 B/s cap: exit %d, %q (seconds, bytes); want 40000 bytes in at least 1.9s", code, w)
	}
	chaosRule(t, s, "http", `{"drop_after_bytes":12}`)
	if code, _ := curlExit(t, url); code == 0 {
		t.Error("curl read a whole reply from a connection dropped after 12 bytes")
	}
	chaosRule(t, s, "https", `{"tls_failure":1}`)
	if code, _ := curlExit(t, "-k", "https://"+s.Addr(t, "https")+"/"); code != 35 {
		t.Errorf("curl https under tls_failure 1: exit %d, want 35 (TLS handshake failed)", code)
	}
	chaosRule(t, s, "http", "")
	chaosRule(t, s, "https", "")
	if code, _ := curlExit(t, url); code != 0 {
		t.Errorf("curl after the rule is cleared: exit %d", code)
	}
	if code, _ := curlExit(t, "-k", "https://"+s.Addr(t, "https")+"/"); code != 0 {
		t.Errorf("curl https after the rule is cleared: exit %d", code)
	}
	if n := faultsInjected(t, s, "http", "drop"); n != 1 {
		t.Errorf("plumb_faults_injected_total{http,drop} = %d, want 1", n)
	}
}
