package smtp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
	"github.com/plumbnet/plumb/sasl"
)

func dialClient(t *testing.T, addr string) *Client {
	t.Helper()
	c, err := Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestClientSendMail(t *testing.T) {
	for _, chunking := range []bool{false, true} {
		be := &MemoryBackend{Mailboxes: []string{"bob@mx.test", "carol@mx.test", "jörg@mx.test"}}
		addr := startServer(t, &Server{Backend: be})
		c := dialClient(t, addr)
		c.Chunking = chunking
		msg := "Subject: t\n\n.dot line\nbare lf\r\nlone cr\rend"
		err := c.SendMail("alice@example.org", []string{"bob@mx.test", "nobody@mx.test", "carol@mx.test"}, strings.NewReader(msg), nil)
		var re *RcptErrors
		if !errors.As(err, &re) || re.All || len(re.Errors) != 1 {
			t.Fatalf("SendMail(chunking=%v) = %v, want *RcptErrors for nobody only", chunking, err)
		}
		var se *Error
		if !errors.As(re.Errors["nobody@mx.test"], &se) || se.Code != 550 || se.EnhancedCode != (EnhancedCode{5, 1, 1}) {
			t.Errorf("refusal of nobody = %#v, want 550 5.1.1", re.Errors["nobody@mx.test"])
		}
		err = c.SendMail("alice@example.org", []string{"nobody@mx.test"}, strings.NewReader(msg), nil)
		if !errors.As(err, &re) || !re.All {
			t.Errorf("SendMail to only unknown users = %v, want *RcptErrors with All", err)
		}
		if err := c.SendMail("alice@example.org", []string{"jörg@mx.test"}, strings.NewReader("x"), nil); err != nil {
			t.Errorf("SendMail to a UTF-8 address = %v", err)
		}
		if err := c.Quit(); err != nil {
			t.Errorf("Quit = %v", err)
		}
		msgs := be.Messages()
		if len(msgs) != 2 {
			t.Fatalf("chunking=%v: %d messages stored, want 2", chunking, len(msgs))
		}
		want := "Subject: t\r\n\r\n.dot line\r\nbare lf\r\nlone cr\r\nend\r\n"
		if chunking {
			want = strings.TrimSuffix(want, "\r\n") // BDAT sends the bytes as they are
		}
		if got := body(t, msgs[0].Data); got != want {
			t.Errorf("chunking=%v: body = %q, want %q", chunking, got, want)
		}
		if strings.Join(msgs[0].To, ",") != "bob@mx.test,carol@mx.test" || !msgs[1].Opts.UTF8 {
			t.Errorf("envelopes = %q, UTF8 %v", msgs[0].To, msgs[1].Opts.UTF8)
		}
	}
}

func TestClientStartTLSAndAuth(t *testing.T) {
	serverTLS, clientTLS := testkit.TLS(t)
	be := &MemoryBackend{Users: map[string]string{"alice": "s3cret"}}
	addr := startServerOn(t, &Server{Backend: be, TLSConfig: serverTLS, TLSRequired: true, AuthRequired: true}, fromAfar)
	c := dialClient(t, addr)
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Fatal("STARTTLS not offered")
	}
	if err := c.StartTLS(clientTLS); err != nil {
		t.Fatalf("StartTLS = %v", err)
	}
	if _, ok := c.TLSConnectionState(); !ok {
		t.Error("TLSConnectionState reports no TLS after StartTLS")
	}
	err := c.Auth(sasl.NewLoginClient("alice", "wrong"))
	var se *Error
	if !errors.As(err, &se) || se.Code != 535 {
		t.Errorf("Auth with a wrong password = %v, want 535", err)
	}
	if err := c.Auth(sasl.NewLoginClient("alice", "s3cret")); err != nil {
		t.Fatalf("Auth(LOGIN) = %v", err)
	}
	if err := c.SendMail("alice@mx.test", []string{"bob@far.test"}, strings.NewReader("hi\r\n"), &MailOptions{Body: Body8BitMIME}); err != nil {
		t.Fatalf("SendMail = %v", err)
	}
	if m := be.Messages(); len(m) != 1 || m[0].User != "alice" {
		t.Errorf("messages = %v, want one from alice", m)
	}
}

func TestClientRefusesPasswordInClear(t *testing.T) {
	be := &MemoryBackend{Users: map[string]string{"alice": "s3cret"}}
	addr := startServer(t, &Server{Backend: be, AllowInsecureAuth: true})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(testkit.FromAfar(conn))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(sasl.NewPlainClient("", "alice", "s3cret")); !errors.Is(err, ErrPlaintext) {
		t.Errorf("Auth(PLAIN) over clear text from afar = %v, want ErrPlaintext", err)
	}
}

func TestClientRefusesCRLF(t *testing.T) {
	be := &MemoryBackend{}
	addr := startServer(t, &Server{Backend: be})
	c := dialClient(t, addr)
	for name, call := range map[string]func() error{
		"Hello":    func() error { return c.Hello("a\r\nMAIL FROM:<x@y>") },
		"Mail":     func() error { return c.Mail("a@b.c>\r\nRCPT TO:<v@w.x", nil) },
		"Rcpt":     func() error { return c.Rcpt("v@w.x>\nDATA", nil) },
		"Verify":   func() error { return c.Verify("v\r@w.x") },
		"NUL":      func() error { return c.Mail("a\x00@b.c", nil) },
		"SendMail": func() error { return c.SendMail("a@b.c", []string{"x@y.z\r\nRSET"}, strings.NewReader("x"), nil) },
	} {
		if err := call(); !errors.Is(err, ErrBadArgument) {
			t.Errorf("%s with CR/LF = %v, want ErrBadArgument", name, err)
		}
	}
	if err := c.Noop(); err != nil {
		t.Errorf("Noop after refusals = %v", err)
	}
}

// TestClientHeloFallback talks to a scripted server that refuses EHLO.
func TestClientHeloFallback(t *testing.T) {
	cc, sc := net.Pipe()
	script := []struct{ want, reply string }{
		{"", "220 old.test SMTP"},
		{"EHLO localhost", "502 Command not implemented"},
		{"HELO localhost", "250 old.test"},
		{"MAIL FROM:<a@b.c>", "250 ok"},
		{"RCPT TO:<x@old.test>", "550 no such user"},
	}
	errc := make(chan error, 1)
	go func() {
		defer sc.Close()
		r := bufio.NewReader(sc)
		for _, step := range script {
			if step.want != "" {
				line, err := r.ReadString('\n')
				if err != nil || strings.TrimRight(line, "\r\n") != step.want {
					errc <- errors.New("server got " + line + ", want " + step.want)
					return
				}
			}
			sc.Write([]byte(step.reply + "\r\n"))
		}
		errc <- nil
	}()
	c, err := NewClient(cc)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("a@b.c", &MailOptions{Size: 10}); err != nil {
		t.Fatalf("Mail after HELO fallback = %v", err)
	}
	err = c.Rcpt("x@old.test", nil)
	var se *Error
	if !errors.As(err, &se) || se.Code != 550 || se.EnhancedCode != NoEnhancedCode || se.Msg != "no such user" {
		t.Errorf("Rcpt = %#v, want 550 without enhanced code", err)
	}
	if err := <-errc; err != nil {
		t.Error(err)
	}
}

// TestClientHugeReplyLine: a hostile server's 100 MB greeting line
// fails the client fast, after a bounded read, with ErrProtocol.
func TestClientHugeReplyLine(t *testing.T) {
	cc, sc := net.Pipe()
	go func() {
		defer sc.Close()
		sc.Write([]byte("220 "))
		chunk := []byte(strings.Repeat("x", 64<<10))
		for sent := 0; sent < 100<<20; sent += len(chunk) {
			if _, err := sc.Write(chunk); err != nil {
				return
			}
		}
		sc.Write([]byte("\r\n"))
	}()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	c, err := NewClient(cc)
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if err == nil {
		c.Close()
	}
	cc.Close()
	if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "reply line over") {
		t.Fatalf("NewClient() with a 100 MB greeting = %v, want ErrProtocol: reply line over ...", err)
	}
	if took > 2*time.Second {
		t.Errorf("NewClient() with a 100 MB greeting took %v, want it to fail fast", took)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("NewClient() with a 100 MB greeting allocated %d bytes, want a bounded read", alloc)
	}
}

// scripted runs a fake server on a pipe: each step waits for a line
// (unless want is "") and answers reply.
func scripted(t *testing.T, script []struct{ want, reply string }) (net.Conn, <-chan error) {
	cc, sc := net.Pipe()
	errc := make(chan error, 1)
	go func() {
		defer sc.Close()
		r := bufio.NewReader(sc)
		for _, step := range script {
			if step.want != "" {
				line, err := r.ReadString('\n')
				if err != nil || strings.TrimRight(line, "\r\n") != step.want {
					errc <- fmt.Errorf("server got %q, %v; want %q", line, err, step.want)
					return
				}
			}
			if _, err := sc.Write([]byte(step.reply + "\r\n")); err != nil {
				errc <- fmt.Errorf("server writing %q: %v", step.reply, err)
				return
			}
		}
		errc <- nil
	}()
	t.Cleanup(func() { cc.Close() })
	return cc, errc
}

// TestClientAuthErrorsMatchSASL: a failure of the SASL client comes back
// wrapped, matching the sasl package's sentinel, and the exchange is
// cancelled with "*".
func TestClientAuthErrorsMatchSASL(t *testing.T) {
	conn, errc := scripted(t, []struct{ want, reply string }{
		{"", "220 odd.test ESMTP"},
		{"EHLO client.test", "250-odd.test\r\n250 AUTH PLAIN"},
		{"AUTH PLAIN " + plainIR("alice", "s3cret"), "334 bW9yZT8="},
		{"*", "501 cancelled"},
	})
	c, err := NewClient(loopbackConn{conn})
	if err != nil {
		t.Fatal(err)
	}
	c.LocalName = "client.test"
	if err := c.Auth(sasl.NewPlainClient("", "alice", "s3cret")); !errors.Is(err, sasl.ErrUnexpectedChallenge) {
		t.Errorf("Auth(PLAIN) answered with a challenge = %v, want sasl.ErrUnexpectedChallenge", err)
	}
	c.Close()
	if err := <-errc; err != nil {
		t.Error(err)
	}
}

// loopbackConn reports a loopback peer, as a pipe has none.
type loopbackConn struct{ net.Conn }

func (loopbackConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv6loopback, Port: 25} }

func TestClientMalformedReply(t *testing.T) {
	for _, reply := range []string{"hello", "250-a\r\n251 b", "99 x", "2500 x"} {
		conn, _ := scripted(t, []struct{ want, reply string }{{"", "220 ok"}, {"NOOP", reply}})
		c, err := NewClient(conn)
		if err != nil {
			t.Fatal(err)
		}
		c.didHello = true
		if err := c.Noop(); !errors.Is(err, ErrProtocol) {
			t.Errorf("Noop() answered %q = %v, want ErrProtocol", reply, err)
		}
	}
}

func TestDialer(t *testing.T) {
	serverTLS, clientTLS := testkit.TLS(t)
	be := &MemoryBackend{}
	addr := startServer(t, &Server{Backend: be, TLSConfig: serverTLS})
	d := Dialer{TLSConfig: clientTLS, Timeout: 10 * time.Second, LocalName: "client.test"}
	c, err := d.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Timeout != d.Timeout || c.LocalName != d.LocalName {
		t.Errorf("Dial() client Timeout, LocalName = %v, %q; want the Dialer's", c.Timeout, c.LocalName)
	}
	if err := c.StartTLS(nil); err != nil {
		t.Fatalf("StartTLS(nil) with the Dialer's TLSConfig = %v", err)
	}
	if err := c.SendMail("a@b.c", []string{"x@mx.test"}, strings.NewReader("hi\r\n"), nil); err != nil {
		t.Fatal(err)
	}
	if m := be.Messages(); len(m) != 1 || !strings.Contains(string(m[0].Data), "from client.test ") {
		t.Errorf("messages = %d, want one received from client.test", len(m))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Dial(ctx, addr); !errors.Is(err, context.Canceled) {
		t.Errorf("Dial() with a cancelled context = %v, want context.Canceled", err)
	}
}
