package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// smtpConfig runs the three SMTP listeners on free ports, POP3 off, and
// an alias with a UTF-8 name.
const smtpConfig = `
[smtp]
addr = "127.0.0.1:0"
hostname = "mx.plumb.test"
[smtp.aliases]
"bøb" = "bob"
[smtp.submission]
addr = "127.0.0.1:0"
[smtp.submissions]
addr = "127.0.0.1:0"
[pop3]
enabled = false
[pop3.pop3s]
enabled = false
`

// startSMTP starts plumb serve with SMTP and the users alice and bob
// (passwords "alice-password", "bob-password"); extra is more config.
func startSMTP(t *testing.T, extra string, args ...string) *Serve {
	t.Helper()
	s := startServe(t, smtpConfig+extra, args...)
	for _, u := range []string{"alice", "bob"} {
		if _, errs, code := plumbUser(t, s.Data, u+"-password\n", "add", u); code != 0 && !strings.Contains(errs, "exists") {
			t.Fatalf("plumb user add %s: exit %d: %s", u, code, errs)
		}
	}
	return s
}

type smtplibJob struct {
	Host     string   `json:"host"`
	Port     string   `json:"port"`
	From     string   `json:"from"`
	To       []string `json:"to"`
	MsgFile  string   `json:"msgfile"`
	SSL      bool     `json:"ssl,omitempty"`
	StartTLS bool     `json:"starttls,omitempty"`
	User     string   `json:"user,omitempty"`
	Password string   `json:"password,omitempty"`
	Options  []string `json:"options,omitempty"`
}

type smtplibResult struct {
	OK      bool                      `json:"ok"`
	EHLO    []string                  `json:"ehlo"`
	TLS     bool                      `json:"tls"`
	Auth    bool                      `json:"auth"`
	Refused map[string][2]interface{} `json:"refused"`
	Code    int                       `json:"code"`
	Error   string                    `json:"error"`
}

// smtplib sends msg with Python's smtplib to the service at addr.
func smtplib(t *testing.T, addr string, job smtplibJob, msg []byte) smtplibResult {
	t.Helper()
	py := needPyModule(t, "smtplib")
	dir := t.TempDir()
	job.Host, job.Port, _ = net.SplitHostPort(addr)
	job.MsgFile = filepath.Join(dir, "msg")
	if err := os.WriteFile(job.MsgFile, msg, 0o600); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(job)
	jobFile := filepath.Join(dir, "job.json")
	os.WriteFile(jobFile, b, 0o600)
	out := run(t, 2*time.Minute, py, "-W", "ignore", "testdata/smtp_smtplib.py", jobFile)
	var r smtplibResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("smtplib output %q: %v", out, err)
	}
	return r
}

// maildir returns the messages in user's inbox (new/ and cur/).
func maildir(t *testing.T, data, user string) [][]byte {
	t.Helper()
	var msgs [][]byte
	for _, sub := range []string{"new", "cur"} {
		dir := filepath.Join(data, "mail", user, sub)
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, b)
		}
	}
	return msgs
}

// checkDelivered fails unless user's inbox holds exactly one message
// that is a Received: header (which must contain each of received)
// followed by msg byte for byte.
func checkDelivered(t *testing.T, data, user string, msg []byte, received ...string) {
	t.Helper()
	var found [][]byte
	for _, m := range maildir(t, data, user) {
		if bytes.HasSuffix(m, msg) {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s's inbox holds %d copies of the message, want 1", user, len(found))
	}
	head := string(found[0][:len(found[0])-len(msg)])
	if !strings.HasPrefix(head, "Received: from ") || !strings.HasSuffix(head, "\r\n") || strings.Count(head, "\r\n") != strings.Count(head, "\r\n\t")+1 {
		t.Errorf("%s's copy starts with %q, want exactly one Received: header before the message", user, head)
	}
	for _, r := range received {
		if !strings.Contains(head, r) {
			t.Errorf("Received: header %q lacks %q", head, r)
		}
	}
}

func TestSMTPSmtplibToTwoUsers(t *testing.T) {
	s := startSMTP(t, "")
	msg := []byte("From: sender@example.org\r\nTo: alice@localhost, bob@localhost\r\nSubject: two users\r\n\r\nHello both.\r\n.leading dot\r\n")
	r := smtplib(t, s.Addr(t, "smtp"), smtplibJob{From: "sender@example.org", To: []string{"alice@localhost", "bob@localhost"}}, msg)
	if !r.OK || len(r.Refused) != 0 {
		t.Fatalf("smtplib sendmail = %+v", r)
	}
	for _, ext := range []string{"PIPELINING", "SIZE 33554432", "8BITMIME", "SMTPUTF8", "STARTTLS", "AUTH PLAIN LOGIN", "CHUNKING"} {
		if !strings.Contains(strings.Join(r.EHLO, "\n"), ext) {
			t.Errorf("EHLO %q lacks %s", r.EHLO, ext)
		}
	}
	for _, u := range []string{"alice", "bob"} {
		checkDelivered(t, s.Data, u, msg, "from smtplib.test ([127.0.0.1])", "by mx.plumb.test (plumb) with ESMTP id ")
	}
}

func TestSMTPSmtplibStartTLSAuth(t *testing.T) {
	s := startSMTP(t, "")
	msg := []byte("Subject: submitted\r\n\r\nover STARTTLS\r\n")
	r := smtplib(t, s.Addr(t, "submission"), smtplibJob{From: "alice@localhost", To: []string{"bob@localhost"},
		StartTLS: true, User: "alice", Password: "alice-password"}, msg)
	if !r.OK || !r.TLS || !r.Auth {
		t.Fatalf("smtplib STARTTLS + login + sendmail = %+v", r)
	}
	checkDelivered(t, s.Data, "bob", msg, "with ESMTPSA id", "(using TLS")

	// Implicit TLS on submissions.
	msg2 := []byte("Subject: implicit\r\n\r\nover TLS\r\n")
	r = smtplib(t, s.Addr(t, "submissions"), smtplibJob{From: "alice@localhost", To: []string{"bob@localhost"},
		SSL: true, User: "alice", Password: "alice-password"}, msg2)
	if !r.OK {
		t.Fatalf("smtplib over SMTP_SSL = %+v", r)
	}
	checkDelivered(t, s.Data, "bob", msg2, "with ESMTPSA id")

	// A wrong password is refused with 535.
	r = smtplib(t, s.Addr(t, "submission"), smtplibJob{From: "alice@localhost", To: []string{"bob@localhost"},
		StartTLS: true, User: "alice", Password: "wrong"}, msg)
	if r.OK || r.Code != 535 {
		t.Errorf("login with a wrong password = %+v, want 535", r)
	}
}

func TestSMTPSmtplibUTF8(t *testing.T) {
	s := startSMTP(t, "")
	msg := []byte("From: Jörg <jörg@exämple.org>\r\nSubject: Grüße\r\n\r\nÜnïcödé body\r\n")
	r := smtplib(t, s.Addr(t, "smtp"), smtplibJob{From: "jörg@exämple.org", To: []string{"bøb@localhost"}, Options: []string{"SMTPUTF8"}}, msg)
	if !r.OK {
		t.Fatalf("smtplib SMTPUTF8 = %+v", r)
	}
	checkDelivered(t, s.Data, "bob", msg, "with UTF8SMTP id")
}

func TestSMTPSmtplib20MB(t *testing.T) {
	s := startSMTP(t, "")
	var b bytes.Buffer
	b.WriteString("Subject: big\r\n\r\n")
	line := strings.Repeat("0123456789abcdef", 4) + "xyz\r\n"
	for i := 0; b.Len() < 20<<20; i++ {
		fmt.Fprintf(&b, "%08d %s", i, line)
	}
	msg := b.Bytes()
	r := smtplib(t, s.Addr(t, "smtp"), smtplibJob{From: "big@example.org", To: []string{"alice@localhost"}}, msg)
	if !r.OK {
		t.Fatalf("smtplib 20 MB = %+v", r)
	}
	checkDelivered(t, s.Data, "alice", msg)
}

func TestSMTPPipelinedPeer(t *testing.T) {
	s := startSMTP(t, "")
	py := needPyModule(t, "socket")
	msg := []byte("Subject: pipelined\r\n\r\n.dot\r\nbody\r\n")
	f := filepath.Join(t.TempDir(), "msg")
	os.WriteFile(f, msg, 0o600)
	host, port, _ := net.SplitHostPort(s.Addr(t, "smtp"))
	out := run(t, time.Minute, py, "-W", "ignore", "testdata/smtp_pipeline.py", host, port, "p@example.org", "alice@localhost,bob@localhost", f)
	var r struct {
		Codes      []string `json:"codes"`
		Pipelining bool     `json:"pipelining"`
	}
	json.Unmarshal([]byte(out), &r)
	want := "220 250 250 250 250 354 250 221"
	if got := strings.Join(r.Codes, " "); got != want || !r.Pipelining {
		t.Fatalf("pipelined replies = %q (PIPELINING offered %v), want %q", got, r.Pipelining, want)
	}
	checkDelivered(t, s.Data, "alice", msg)
	checkDelivered(t, s.Data, "bob", msg)
}

func TestSMTPCurlUpload(t *testing.T) {
	curl := need(t, "curl")
	s := startSMTP(t, "")
	msg := []byte("From: alice@localhost\r\nTo: bob@localhost\r\nSubject: curl\r\n\r\nuploaded by curl\r\n")
	f := filepath.Join(t.TempDir(), "msg")
	os.WriteFile(f, msg, 0o600)
	run(t, time.Minute, curl, "-sS", "--url", "smtp://"+s.Addr(t, "submission"), "--ssl-reqd", "-k",
		"--user", "alice:alice-password", "--mail-from", "alice@localhost", "--mail-rcpt", "bob@localhost", "--upload-file", f)
	checkDelivered(t, s.Data, "bob", msg, "with ESMTPSA id")
	// curl over implicit TLS (smtps://) too.
	run(t, time.Minute, curl, "-sS", "--url", "smtps://"+s.Addr(t, "submissions"), "-k",
		"--user", "alice:alice-password", "--mail-from", "alice@localhost", "--mail-rcpt", "alice@localhost", "--upload-file", f)
	checkDelivered(t, s.Data, "alice", msg, "with ESMTPSA id")
}

func TestSMTPSwaks(t *testing.T) {
	swaks := need(t, "swaks")
	s := startSMTP(t, "")
	host, port, _ := net.SplitHostPort(s.Addr(t, "submission"))
	out := run(t, time.Minute, swaks, "--server", host, "--port", port, "--tls", "--auth", "PLAIN",
		"--auth-user", "alice", "--auth-password", "alice-password", "--pipeline",
		"--from", "alice@localhost", "--to", "bob@localhost", "--header", "Subject: swaks test", "--body", "from swaks")
	if !strings.Contains(out, "250 2.0.0 OK queued as") {
		t.Errorf("swaks transcript lacks the 250 after DATA:\n%s", out)
	}
	msgs := maildir(t, s.Data, "bob")
	if len(msgs) != 1 || !bytes.Contains(msgs[0], []byte("Subject: swaks test")) {
		t.Errorf("bob's inbox = %d messages, want the swaks one", len(msgs))
	}
}

func TestSMTPRelayRefused(t *testing.T) {
	s := startSMTP(t, "")
	for _, svc := range []string{"smtp"} {
		r := smtplib(t, s.Addr(t, svc), smtplibJob{From: "spammer@example.org", To: []string{"victim@example.com"}}, []byte("Subject: spam\r\n\r\nx\r\n"))
		ref, ok := r.Refused["victim@example.com"]
		if r.OK || !ok || fmt.Sprint(ref[0]) != "554" || !strings.HasPrefix(fmt.Sprint(ref[1]), "5.7.1") {
			t.Errorf("unauthenticated relay via %s = %+v, want 554 5.7.1", svc, r)
		}
	}
	// Submission wants a login before anything.
	r := smtplib(t, s.Addr(t, "submission"), smtplibJob{From: "spammer@example.org", To: []string{"victim@example.com"}}, []byte("x\r\n"))
	if r.OK || r.Code != 530 {
		t.Errorf("submission without login = %+v, want 530", r)
	}
	if entries, _ := os.ReadDir(filepath.Join(s.Data, "queue")); len(entries) != 0 {
		t.Errorf("queue holds %d files after refused relays", len(entries))
	}
}

// startSink runs the aiosmtpd sink on a free port; it returns the
// address and the directory it writes messages to.
func startSink(t *testing.T, rejectPrefix string) (addr, dir string) {
	t.Helper()
	py := needPyModule(t, "aiosmtpd")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	dir = t.TempDir()
	args := []string{"-W", "ignore", "testdata/smtp_sink.py", port, dir}
	if rejectPrefix != "" {
		args = append(args, rejectPrefix)
	}
	cmd := exec.Command(py, args...)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		ready <- sc.Scan() && sc.Text() == "ready"
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("aiosmtpd sink did not start: %s", stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("aiosmtpd sink did not start in 20s: %s", stderr.String())
	}
	return addr, dir
}

type sinkMessage struct {
	From string   `json:"from"`
	To   []string `json:"to"`
	Data []byte   `json:"-"`
}

// sinkMessages waits up to 20s for n messages in the sink's directory.
func sinkMessages(t *testing.T, dir string, n int) []sinkMessage {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var msgs []sinkMessage
		for i := 1; ; i++ {
			b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d.json", i)))
			if err != nil {
				break
			}
			var m sinkMessage
			json.Unmarshal(b, &m)
			m.Data, _ = os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d.eml", i)))
			msgs = append(msgs, m)
		}
		if len(msgs) >= n || time.Now().After(deadline) {
			if len(msgs) < n {
				t.Fatalf("the sink got %d messages in 20s, want %d", len(msgs), n)
			}
			return msgs
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSMTPSmarthostDelivery(t *testing.T) {
	sinkAddr, sinkDir := startSink(t, "gone")
	s := startSMTP(t, fmt.Sprintf("[smtp.outbound]\nsmarthost = %q\nretry = [\"200ms\"]\n", sinkAddr))
	msg := []byte("From: alice@localhost\r\nTo: friend@remote.test\r\nSubject: outbound\r\n\r\nto the world\r\n")
	r := smtplib(t, s.Addr(t, "submission"), smtplibJob{From: "alice@localhost", To: []string{"friend@remote.test", "gone@remote.test", "bob@localhost"},
		User: "alice", Password: "alice-password"}, msg)
	if !r.OK || len(r.Refused) != 0 {
		t.Fatalf("smtplib to remote recipients = %+v", r)
	}
	checkDelivered(t, s.Data, "bob", msg, "with ESMTPA id")
	got := sinkMessages(t, sinkDir, 1)
	if got[0].From != "alice@localhost" || strings.Join(got[0].To, ",") != "friend@remote.test" || !bytes.HasSuffix(got[0].Data, msg) {
		t.Errorf("the smarthost got %q -> %q, %d bytes; want alice@localhost -> friend@remote.test and the message", got[0].From, got[0].To, len(got[0].Data))
	}
	// gone@ was refused by the smarthost: alice gets a DSN.
	deadline := time.Now().Add(20 * time.Second)
	for len(maildir(t, s.Data, "alice")) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	dsn := maildir(t, s.Data, "alice")
	if len(dsn) != 1 || !bytes.Contains(dsn[0], []byte("report-type=delivery-status")) || !bytes.Contains(dsn[0], []byte("Final-Recipient: rfc822; gone@remote.test")) {
		t.Errorf("alice's inbox = %d messages, want one DSN for gone@remote.test", len(dsn))
	}
}

func TestSMTPClientAgainstAiosmtpd(t *testing.T) {
	sinkAddr, sinkDir := startSink(t, "")
	server := "smtp://" + sinkAddr
	run(t, time.Minute, plumbBin, "mail", "send", "--server", server, "--from", "me@plumb.test",
		"--to", "you@aiosmtpd.test", "--to", "jörg@aiosmtpd.test", "--subject", "from plumb", "--body", "Hello, aiosmtpd.")
	cmd := exec.Command(plumbBin, "sendmail", "--server", server, "-t", "-f", "app@plumb.test")
	cmd.Stdin = strings.NewReader("To: ops@aiosmtpd.test\nBcc: hidden@aiosmtpd.test\nSubject: alert\n\n.disk full\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("plumb sendmail -t: %v\n%s", err, out)
	}
	got := sinkMessages(t, sinkDir, 2)
	if got[0].From != "me@plumb.test" || strings.Join(got[0].To, ",") != "you@aiosmtpd.test,jörg@aiosmtpd.test" ||
		!bytes.Contains(got[0].Data, []byte("Subject: from plumb")) || !bytes.Contains(got[0].Data, []byte("Hello, aiosmtpd.")) {
		t.Errorf("mail send arrived as %q -> %q:\n%s", got[0].From, got[0].To, got[0].Data)
	}
	if strings.Join(got[1].To, ",") != "ops@aiosmtpd.test,hidden@aiosmtpd.test" || bytes.Contains(got[1].Data, []byte("hidden@")) ||
		!bytes.Contains(got[1].Data, []byte("\r\n.disk full\r\n")) {
		t.Errorf("sendmail -t arrived as -> %q:\n%q", got[1].To, got[1].Data)
	}
}

// TestSMTPDurability sends messages from several clients, kills the
// daemon with SIGKILL in the middle, restarts it on the same data, and
// checks that every message that got a 250 is in the inbox exactly once.
func TestSMTPDurability(t *testing.T) {
	s := startSMTP(t, "")
	addr := s.Addr(t, "smtp")
	type result struct {
		id    string
		acked bool
	}
	results := make(chan result, 10000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const clients = 4
	done := make(chan struct{}, clients)
	for c := range clients {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; ctx.Err() == nil; i++ {
				id := fmt.Sprintf("<durable-%d-%d@plumb.test>", c, i)
				msg := "Message-ID: " + id + "\r\nSubject: durable\r\n\r\nbody\r\n"
				err := sendOne(addr, "load@example.org", "alice@localhost", msg)
				results <- result{id, err == nil}
				if err != nil {
					return
				}
			}
		}()
	}
	// Kill once a good number has been acknowledged.
	acked := map[string]bool{}
	var all []string
	for len(acked) < 60 {
		r := <-results
		all = append(all, r.id)
		if r.acked {
			acked[r.id] = true
		}
	}
	s.Kill()
	for range clients {
		<-done
	}
	close(results)
	for r := range results {
		all = append(all, r.id)
		if r.acked {
			acked[r.id] = true
		}
	}
	s2 := startServe(t, smtpConfig, "--data", s.Data)
	// After the restart the service works, and every acknowledged
	// message is there exactly once.
	if err := sendOne(s2.Addr(t, "smtp"), "load@example.org", "alice@localhost", "Message-ID: <after@plumb.test>\r\n\r\nx\r\n"); err != nil {
		t.Fatalf("sending after the restart: %v", err)
	}
	counts := map[string]int{}
	for _, m := range maildir(t, s.Data, "alice") {
		if i := bytes.Index(m, []byte("Message-ID: ")); i >= 0 {
			id, _, _ := bytes.Cut(m[i+12:], []byte("\r\n"))
			counts[string(id)]++
		}
	}
	for id := range acked {
		if counts[id] != 1 {
			t.Errorf("acknowledged message %s is in the inbox %d times, want 1", id, counts[id])
		}
	}
	for _, id := range all {
		if counts[id] > 1 {
			t.Errorf("message %s is in the inbox %d times", id, counts[id])
		}
	}
	if counts["<after@plumb.test>"] != 1 {
		t.Errorf("the message sent after the restart is there %d times, want 1", counts["<after@plumb.test>"])
	}
	t.Logf("%d messages acknowledged before SIGKILL, %d attempted", len(acked), len(all))
}
