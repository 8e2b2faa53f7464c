package smtp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestTranscriptDelivery(t *testing.T) {
	be := &MemoryBackend{}
	addr := startServer(t, &Server{Backend: be})
	s := dialSession(t, addr)
	ehlo := s.cmd("EHLO client.test", "250 ")
	for _, ext := range []string{"PIPELINING", "SIZE 33554432", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "CHUNKING", "DSN", "HELP"} {
		if !strings.Contains(ehlo, "250-"+ext+"\n") && !strings.HasSuffix(ehlo, "250 "+ext) {
			t.Errorf("EHLO reply %q lacks %s", ehlo, ext)
		}
	}
	if strings.Contains(ehlo, "STARTTLS") || strings.Contains(ehlo, "AUTH") {
		t.Errorf("EHLO reply %q offers STARTTLS or AUTH without TLS config or users", ehlo)
	}
	s.cmd("MAIL FROM:<alice@example.org> SIZE=100 BODY=8BITMIME RET=HDRS ENVID=abc+2B1", "250 2.1.0")
	s.cmd("RCPT TO:<bob@mx.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@mx.test", "250 2.1.5")
	s.cmd("RCPT TO:<carol@mx.test>", "250 2.1.5")
	s.cmd("DATA", "354 ")
	s.send("Subject: hi\r\n\r\n..leading dot\r\nline two\r\n.\r\n")
	s.expect("250 2.0.0 OK queued as ")
	s.cmd("NOOP", "250 2.0.0")
	s.cmd("HELP", "214 ")
	s.cmd("QUIT", "221 2.0.0")

	msgs := be.Messages()
	if len(msgs) != 1 {
		t.Fatalf("Messages() = %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.From != "alice@example.org" || strings.Join(m.To, ",") != "bob@mx.test,carol@mx.test" {
		t.Errorf("envelope = %q -> %q, want alice@example.org -> bob@mx.test,carol@mx.test", m.From, m.To)
	}
	if m.Opts.Size != 100 || m.Opts.Body != Body8BitMIME || m.Opts.Return != "HDRS" || m.Opts.EnvelopeID != "abc+2B1" {
		t.Errorf("MailOptions = %+v", m.Opts)
	}
	if got, want := body(t, m.Data), "Subject: hi\r\n\r\n.leading dot\r\nline two\r\n"; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
	if !strings.Contains(string(m.Data), "Received: from client.test ([127.0.0.1])\r\n\tby mx.test (plumb) with ESMTP id ") {
		t.Errorf("Received: header = %q", string(m.Data)[:200])
	}
}

func TestSmugglingDoesNotEndMessage(t *testing.T) {
	for name, trick := range map[string]string{
		"LF.LF":   "\n.\n",
		"CR.CR":   "\r.\r",
		"LF.CRLF": "\n.\r\n",
		"CRLF.LF": "\r\n.\n",
		"CR.CRLF": "\r.\r\n",
		"CRLF.CR": "\r\n.\r",
	} {
		t.Run(name, func(t *testing.T) {
			be := &MemoryBackend{}
			addr := startServer(t, &Server{Backend: be})
			s := dialSession(t, addr)
			s.cmd("EHLO client.test", "250 ")
			s.cmd("MAIL FROM:<alice@example.org>", "250 ")
			s.cmd("RCPT TO:<bob@mx.test>", "250 ")
			s.cmd("DATA", "354 ")
			s.send("Subject: real\r\n\r\nbody" + trick +
				"MAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@mx.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\n")
			// One reply for the whole thing: the tricks did not end the message.
			s.expect("550 5.5.2 ")
			s.cmd("NOOP", "250 ")
			if n := len(be.Messages()); n != 0 {
				t.Errorf("%d messages stored, want 0: %q", n, be.Messages()[0].Data)
			}
		})
	}
}

func TestSequenceErrors(t *testing.T) {
	addr := startServer(t, &Server{Backend: &MemoryBackend{}, MaxErrors: 50})
	s := dialSession(t, addr)
	s.cmd("MAIL FROM:<a@b.c>", "503 5.5.1")
	s.cmd("HELO client.test", "250 ")
	s.cmd("MAIL FROM:<a@b.c> SIZE=10", "555 5.5.4") // parameters need EHLO
	s.cmd("EHLO client.test", "250 ")
	s.cmd("RCPT TO:<b@mx.test>", "503 5.5.1")
	s.cmd("DATA", "503 5.5.1")
	s.cmd("MAIL FROM:<>", "250 ")
	s.cmd("MAIL FROM:<a@b.c>", "503 5.5.1")
	s.cmd("DATA", "554 5.5.1")
	s.cmd("RCPT TO:<>", "501 ")
	s.cmd("RCPT TO:b@mx.test", "501 ")
	s.cmd("RCPT TO:<b@mx.test> FOO=1", "555 5.5.4")
	s.cmd("RCPT TO:<ü@mx.test>", "553 5.6.7")
	s.cmd("RSET", "250 ")
	s.cmd("DATA", "503 ")
	s.cmd("EXPN list", "502 ")
	s.cmd("FROB", "500 5.5.2")
}

func TestHTTPRequestIsCutOff(t *testing.T) {
	addr := startServer(t, &Server{Backend: &MemoryBackend{}})
	s := dialSession(t, addr)
	s.cmd("GET / HTTP/1.1", "521 ")
	if !s.closed() {
		t.Error("connection open after an HTTP request line, want closed")
	}
}

func TestUTF8(t *testing.T) {
	be := &MemoryBackend{}
	addr := startServer(t, &Server{Backend: be})
	s := dialSession(t, addr)
	s.cmd("EHLO client.test", "250 ")
	s.cmd("MAIL FROM:<jörg@exämple.org> SMTPUTF8", "250 ")
	s.cmd("RCPT TO:<用户@mx.test>", "250 ")
	s.cmd("DATA", "354 ")
	s.send("Subject: grüße\r\n\r\nß\r\n.\r\n")
	s.expect("250 ")
	m := be.Messages()[0]
	if m.From != "jörg@exämple.org" || m.To[0] != "用户@mx.test" || !m.Opts.UTF8 {
		t.Errorf("envelope = %q -> %q UTF8=%v", m.From, m.To, m.Opts.UTF8)
	}
	if !strings.Contains(string(m.Data), "with UTF8SMTP id") {
		t.Errorf("Received: header does not say UTF8SMTP: %q", m.Data)
	}
}

func TestLimits(t *testing.T) {
	be := &MemoryBackend{}
	addr := startServer(t, &Server{Backend: be, MaxMessageBytes: 1000, MaxRecipients: 2, MaxLineLength: 100, MaxDataLineLength: 200})
	s := dialSession(t, addr)
	s.cmd("EHLO client.test", "250 ")
	s.cmd("MAIL FROM:<a@b.c> SIZE=1001", "552 5.3.4")
	s.cmd("MAIL FROM:<a@b.c> SIZE=1000", "250 ")
	s.cmd("RCPT TO:<x@mx.test>", "250 ")
	s.cmd("RCPT TO:<y@mx.test>", "250 ")
	s.cmd("RCPT TO:<z@mx.test>", "452 4.5.3")
	s.cmd("NOOP "+strings.Repeat("x", 200), "500 5.5.6")
	s.cmd("DATA", "354 ")
	s.send(strings.Repeat(strings.Repeat("y", 98)+"\r\n", 20) + ".\r\n")
	s.expect("552 5.3.4")
	s.cmd("MAIL FROM:<a@b.c>", "250 ")
	s.cmd("RCPT TO:<x@mx.test>", "250 ")
	s.cmd("DATA", "354 ")
	s.send(strings.Repeat("z", 300) + "\r\n.\r\n")
	s.expect("500 5.5.6")
	s.cmd("NOOP", "250 ")
	if n := len(be.Messages()); n != 0 {
		t.Errorf("%d messages stored, want 0", n)
	}
}

func TestTooManyErrors(t *testing.T) {
	addr := startServer(t, &Server{Backend: &MemoryBackend{}, MaxErrors: 3})
	s := dialSession(t, addr)
	for range 4 {
		s.cmd("FROB", "500 ")
	}
	s.expect("421 4.7.0")
	if !s.closed() {
		t.Error("connection open after too many errors")
	}
}

func TestIdleTimeout(t *testing.T) {
	addr := startServer(t, &Server{Backend: &MemoryBackend{}, IdleTimeout: 100 * time.Millisecond})
	s := dialSession(t, addr)
	s.expect("421 4.4.2")
	if !s.closed() {
		t.Error("connection open after idle timeout")
	}
}

func TestPipelining(t *testing.T) {
	be := &MemoryBackend{}
	addr := startServer(t, &Server{Backend: be})
	s := dialSession(t, addr)
	s.send("EHLO client.test\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@mx.test>\r\nRCPT TO:<y@mx.test>\r\nDATA\r\n")
	for _, want := range []string{"250 ", "250 2.1.0", "250 2.1.5", "250 2.1.5", "354 "} {
		s.expect(want)
	}
	s.send("Subject: p\r\n\r\nx\r\n.\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@mx.test>\r\nDATA\r\nSubject: q\r\n\r\ny\r\n.\r\nQUIT\r\n")
	for _, want := range []string{"250 2.0.0", "250 2.1.0", "250 2.1.5", "354 ", "250 2.0.0", "221 "} {
		s.expect(want)
	}
	if n := len(be.Messages()); n != 2 {
		t.Fatalf("%d messages stored, want 2", n)
	}
}

func TestBDAT(t *testing.T) {
	be := &MemoryBackend{}
	addr := startServer(t, &Server{Backend: be, MaxMessageBytes: 100})
	s := dialSession(t, addr)
	s.cmd("EHLO client.test", "250 ")
	s.cmd("MAIL FROM:<a@b.c>", "250 ")
	s.cmd("RCPT TO:<x@mx.test>", "250 ")
	s.send("BDAT 10\r\nSubject: a")
	s.expect("250 2.0.0 10 octets")
	s.send("BDAT 10 LAST\r\n\r\n\r\nbody\r\n")
	s.expect("250 2.0.0 OK")
	if got, want := body(t, be.Messages()[0].Data), "Subject: a\r\n\r\nbody\r\n"; got != want {
		t.Errorf("BDAT body = %q, want %q", got, want)
	}
	// A bare LF fails the message, and the stream stays framed.
	s.cmd("MAIL FROM:<a@b.c>", "250 ")
	s.cmd("RCPT TO:<x@mx.test>", "250 ")
	s.send("BDAT 6 LAST\r\nx\n.\nAB")
	s.expect("550 5.5.2")
	s.cmd("NOOP", "250 ")
	// Too large.
	s.cmd("MAIL FROM:<a@b.c>", "250 ")
	s.cmd("RCPT TO:<x@mx.test>", "250 ")
	s.send("BDAT 60\r\n" + strings.Repeat("a", 58) + "\r\n")
	s.expect("250 ")
	s.send("BDAT 60 LAST\r\n" + strings.Repeat("a", 58) + "\r\n")
	s.expect("552 5.3.4")
	s.cmd("BDAT 0 LAST", "503 ")
	s.cmd("NOOP", "250 ")
	if n := len(be.Messages()); n != 1 {
		t.Errorf("%d messages stored, want 1", n)
	}
}

func TestVRFY(t *testing.T) {
	be := &MemoryBackend{Mailboxes: []string{"bob@mx.test"}}
	addr := startServer(t, &Server{Backend: be})
	s := dialSession(t, addr)
	s.cmd("VRFY bob@mx.test", "252 2.5.2")
	addr = startServer(t, &Server{Backend: be, EnableVRFY: true})
	s = dialSession(t, addr)
	s.cmd("VRFY <bob@mx.test>", "250 2.1.5 <bob@mx.test>")
	s.cmd("VRFY eve@mx.test", "550 5.1.1")
}

type failingBackend struct {
	MemoryBackend
	fail func(step string) error
}

func (b *failingBackend) NewSession(ctx context.Context, c *Conn) (Session, error) {
	s, _ := b.MemoryBackend.NewSession(ctx, c)
	return &failingSession{Session: s, b: b}, nil
}

type failingSession struct {
	Session
	b *failingBackend
}

func (s *failingSession) Mail(ctx context.Context, from string, o *MailOptions) error {
	if err := s.b.fail("mail"); err != nil {
		return err
	}
	return s.Session.Mail(ctx, from, o)
}

func (s *failingSession) Rcpt(ctx context.Context, to string, o *RcptOptions) error {
	if err := s.b.fail("rcpt"); err != nil {
		return err
	}
	return s.Session.Rcpt(ctx, to, o)
}

func (s *failingSession) Data(ctx context.Context, r io.Reader) error {
	if err := s.b.fail("data"); err != nil {
		return err
	}
	return s.Session.Data(ctx, r)
}

func TestBackendErrors(t *testing.T) {
	be := &failingBackend{fail: func(step string) error {
		if step == "mail" {
			return fmt.Errorf("database password is hunter2: %w", errors.New("boom"))
		}
		return &Error{Code: 452, EnhancedCode: EnhancedCode{4, 2, 2}, Msg: "Mailbox full\r\nINJECTED"}
	}}
	addr := startServer(t, &Server{Backend: be})
	s := dialSession(t, addr)
	s.cmd("EHLO client.test", "250 ")
	if r := s.cmd("MAIL FROM:<a@b.c>", "451 4.3.0"); strings.Contains(r, "hunter2") {
		t.Errorf("internal error text sent to the client: %q", r)
	}
	be.fail = func(step string) error {
		if step == "data" {
			return &Error{Code: 452, EnhancedCode: EnhancedCode{4, 2, 2}, Msg: "Mailbox full\r\nINJECTED"}
		}
		return nil
	}
	s.cmd("MAIL FROM:<a@b.c>", "250 ")
	s.cmd("RCPT TO:<x@mx.test>", "250 ")
	s.cmd("DATA", "354 ")
	s.send("x\r\n.\r\n")
	if r := s.expect("452 4.2.2 Mailbox full  INJECTED"); strings.Contains(r, "\nINJECTED") {
		t.Errorf("reply %q carries a line break from the backend", r)
	}
}

// TestBackendSuccessCodeIsNotAReply: an *Error with a code that is not
// a failure would tell the client a refused step was taken (250 for a
// recipient not added) or put it out of step (354 after MAIL); it is
// logged and answered 451.
func TestBackendSuccessCodeIsNotAReply(t *testing.T) {
	var log lockedBuffer
	be := &failingBackend{fail: func(step string) error {
		if step == "mail" {
			return &Error{Code: 354, Msg: "Go ahead"}
		}
		return nil
	}}
	addr := startServer(t, &Server{Backend: be, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	s := dialSession(t, addr)
	s.cmd("EHLO client.test", "250 ")
	if r := s.cmd("MAIL FROM:<a@b.c>", "451 "); r != "451 4.3.0 "+ErrTryLater.Msg {
		t.Errorf("MAIL with Session.Mail = &Error{354} answered %q, want %q", r, "451 4.3.0 "+ErrTryLater.Msg)
	}
	be.fail = func(step string) error {
		if step == "rcpt" {
			return &Error{Code: 250, EnhancedCode: EnhancedCode{2, 1, 5}, Msg: "Fine"}
		}
		return nil
	}
	s.cmd("MAIL FROM:<a@b.c>", "250 ")
	if r := s.cmd("RCPT TO:<x@mx.test>", "451 "); r != "451 4.3.0 "+ErrTryLater.Msg {
		t.Errorf("RCPT with Session.Rcpt = &Error{250} answered %q, want %q", r, "451 4.3.0 "+ErrTryLater.Msg)
	}
	s.cmd("DATA", "554 5.5.1") // the recipient was not added
	if got := log.String(); strings.Count(got, "smtp: backend error") != 2 {
		t.Errorf("log = %q, want the two bad codes logged as backend errors", got)
	}
}

func TestPanicAnswers421(t *testing.T) {
	be := &failingBackend{fail: func(step string) error {
		if step == "mail" {
			panic("backend bug")
		}
		return nil
	}}
	addr := startServer(t, &Server{Backend: be})
	s := dialSession(t, addr)
	s.cmd("EHLO client.test", "250 ")
	s.cmd("MAIL FROM:<a@b.c>", "421 4.3.0")
	if !s.closed() {
		t.Error("connection open after a panic")
	}
	s2 := dialSession(t, addr) // the server itself lives on
	s2.cmd("NOOP", "250 ")
}

// TestSlowlorisCommandLine: a client trickling a command a byte at a
// time keeps the idle timer happy but not the line timer.
func TestSlowlorisCommandLine(t *testing.T) {
	addr := startServer(t, &Server{Backend: &MemoryBackend{}, IdleTimeout: time.Minute, LineTimeout: 300 * time.Millisecond})
	s := dialSession(t, addr)
	start := time.Now()
	for _, b := range []byte("NOOP and on and on") {
		if _, err := s.Conn.Write([]byte{b}); err != nil {
			break
		}
		time.Sleep(30 * time.Millisecond)
	}
	s.expect("421 4.4.2")
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("trickled command cut off after %v, want about 300ms", took)
	}
	if !s.closed() {
		t.Error("connection open after the line timeout")
	}
}

// TestCommandTooLongToSkip: a line over the limit is skipped and
// answered; one too long even to skip closes the connection.
func TestCommandTooLongToSkip(t *testing.T) {
	addr := startServer(t, &Server{Backend: &MemoryBackend{}, MaxLineLength: 100})
	s := dialSession(t, addr)
	s.cmd("NOOP "+strings.Repeat("x", 50<<10), "500 5.5.6 Line too long")
	s.cmd("NOOP", "250 ")
	go s.Conn.Write([]byte(strings.Repeat("x", 2<<20) + "\r\n"))
	s.expect("500 5.5.6 Line too long, closing connection")
	if !s.closed() {
		t.Error("connection open after a line over the skip limit")
	}
}
