package cli

import (
	"bytes"
	b64 "encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plumbnet/plumb/smtp"
)

// startMailServer runs an in-memory SMTP server on loopback.
func startMailServer(t *testing.T) (*smtp.MemoryBackend, string) {
	t.Helper()
	be := &smtp.MemoryBackend{Users: map[string]string{"alice": "pw-alice"}}
	srv := &smtp.Server{Backend: be, Hostname: "mx.test"}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return be, "smtp://" + ln.Addr().String()
}

func runPlumb(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	root := NewRoot()
	var out, errb bytes.Buffer
	root.SetArgs(args)
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&errb)
	err = root.Execute()
	return out.String(), errb.String(), err
}

// stored returns a stored message without the server's Received: header.
func stored(t *testing.T, m *smtp.Message) *mail.Message {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("stored message does not parse: %v\n%s", err, m.Data)
	}
	return msg
}

func TestMailSendBuildsMIME(t *testing.T) {
	be, server := startMailServer(t)
	att := filepath.Join(t.TempDir(), "data.bin")
	attData := []byte("\x00\x01binary\xff and more")
	os.WriteFile(att, attData, 0o600)
	out, errOut, err := runPlumb(t, "Grüße aus der Pipe.\n", "mail", "send", "--server", server,
		"--to", "bob@mx.test", "--cc", "carol@mx.test", "--bcc", "dave@mx.test",
		"--from", "alice@mx.test", "--subject", "Bericht über alles", "--attach", att)
	if err != nil {
		t.Fatalf("mail send = %v; stderr %s", err, errOut)
	}
	if !strings.Contains(out, "sent to <dave@mx.test>") {
		t.Errorf("output %q does not report dave", out)
	}
	msgs := be.Messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if strings.Join(m.To, ",") != "bob@mx.test,carol@mx.test,dave@mx.test" || m.From != "alice@mx.test" {
		t.Errorf("envelope %q -> %q", m.From, m.To)
	}
	msg := stored(t, m)
	if subj, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); subj != "Bericht über alles" {
		t.Errorf("Subject = %q", subj)
	}
	if msg.Header.Get("Bcc") != "" || strings.Contains(string(m.Data), "dave@") && strings.Contains(msg.Header.Get("To")+msg.Header.Get("Cc"), "dave") {
		t.Errorf("the Bcc recipient shows in the header: %q", m.Data)
	}
	mt, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if mt != "multipart/mixed" {
		t.Fatalf("Content-Type = %q, want multipart/mixed", mt)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	p1, err := mr.NextPart() // quoted-printable is decoded by NextPart
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(p1); string(b) != "Grüße aus der Pipe.\r\n\r\n" && string(b) != "Grüße aus der Pipe.\r\n" {
		t.Errorf("text part = %q", b)
	}
	p2, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if p2.FileName() != "data.bin" {
		t.Errorf("attachment name = %q", p2.FileName())
	}
	b64, _ := io.ReadAll(p2)
	dec := make([]byte, len(b64))
	n, _ := decodeBase64Lines(b64, dec)
	if !bytes.Equal(dec[:n], attData) {
		t.Errorf("attachment = %q, want %q", dec[:n], attData)
	}
}

func TestMailSendRawAndErrors(t *testing.T) {
	be, server := startMailServer(t)
	raw := "From: a@mx.test\r\nSubject: raw\r\n\r\nas is\r\n"
	if _, errOut, err := runPlumb(t, raw, "mail", "send", "--server", server, "--raw", "--from", "a@mx.test", "--to", "b@mx.test"); err != nil {
		t.Fatalf("mail send --raw = %v; %s", err, errOut)
	}
	if got := string(be.Messages()[0].Data); !strings.HasSuffix(got, raw) {
		t.Errorf("raw message arrived as %q, want it to end in %q", got, raw)
	}
	if _, _, err := runPlumb(t, "", "mail", "send", "--server", server); err == nil || !strings.Contains(err.Error(), "--to") {
		t.Errorf("mail send without --to = %v, want a hint about --to", err)
	}
	if _, _, err := runPlumb(t, "", "mail", "send", "--server", server, "--to", "x@y\r\nRSET"); err == nil {
		t.Error("mail send with CRLF in --to succeeded")
	}
	// A login over loopback, password in the URL.
	u := strings.Replace(server, "smtp://", "smtp://alice:pw-alice@", 1)
	if _, errOut, err := runPlumb(t, "hi\n", "mail", "send", "--server", u, "--to", "far@elsewhere.test", "--subject", "s"); err != nil {
		t.Fatalf("mail send with login = %v; %s", err, errOut)
	}
	if m := be.Messages(); len(m) != 2 || m[1].User != "alice" {
		t.Errorf("messages = %d, want the second sent as alice", len(m))
	}
	u = strings.Replace(server, "smtp://", "smtp://alice:wrong@", 1)
	if _, _, err := runPlumb(t, "hi\n", "mail", "send", "--server", u, "--to", "b@mx.test"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("mail send with a wrong password = %v, want a refused login", err)
	}
}

func TestSendmailT(t *testing.T) {
	be, server := startMailServer(t)
	in := "To: Bob <bob@mx.test>, carol@mx.test\nBcc: secret@mx.test\nSubject: via sendmail\n\nline one\n.\nnot sent\n"
	if _, errOut, err := runPlumb(t, in, "sendmail", "--server", server, "-t", "-f", "app@mx.test", "extra@mx.test"); err != nil {
		t.Fatalf("sendmail -t = %v; %s", err, errOut)
	}
	m := be.Messages()[0]
	if got := strings.Join(m.To, ","); got != "extra@mx.test,bob@mx.test,carol@mx.test,secret@mx.test" {
		t.Errorf("recipients = %q", got)
	}
	data := string(m.Data)
	if strings.Contains(data, "secret@") || strings.Contains(data, "not sent") || !strings.Contains(data, "line one\r\n") {
		t.Errorf("message = %q: want no Bcc, the text up to the dot line", data)
	}
	for _, h := range []string{"Date: ", "Message-ID: ", "From: <app@mx.test>"} {
		if !strings.Contains(data, h) {
			t.Errorf("message lacks an added %q header: %q", h, data)
		}
	}
	// -oi: the dot line is text; PLUMB_SMTP names the server.
	t.Setenv("PLUMB_SMTP", server)
	if _, errOut, err := runPlumb(t, "Subject: x\n\na\n.\nb\n", "sendmail", "-oi", "bob@mx.test"); err != nil {
		t.Fatalf("sendmail -oi = %v; %s", err, errOut)
	}
	if got := string(be.Messages()[1].Data); !strings.Contains(got, "a\r\n..\r\nb\r\n") && !strings.Contains(got, "a\r\n.\r\nb\r\n") {
		t.Errorf("sendmail -oi message = %q, want the dot line kept", got)
	}
	_, _, err := runPlumb(t, "x\n", "sendmail")
	if code := exitCode(err); code != exUsage {
		t.Errorf("sendmail without recipients exits %d (%v), want %d", code, err, exUsage)
	}
}

func exitCode(err error) int {
	var ee *exitError
	if err == nil {
		return 0
	}
	if e, ok := err.(*exitError); ok {
		ee = e
		return ee.code
	}
	return 1
}

func decodeBase64Lines(src, dst []byte) (int, error) {
	return base64Std.Decode(dst, bytes.ReplaceAll(bytes.ReplaceAll(src, []byte("\r"), nil), []byte("\n"), nil))
}

var base64Std = b64.StdEncoding
