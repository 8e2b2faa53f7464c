package smtp

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// gatedBackend holds every message's Data at a gate.
type gatedBackend struct {
	MemoryBackend
	gate *testkit.Gate
}

func (b *gatedBackend) NewSession(ctx context.Context, c *Conn) (Session, error) {
	s, err := b.MemoryBackend.NewSession(ctx, c)
	return gatedSession{s, b.gate}, err
}

type gatedSession struct {
	Session
	gate *testkit.Gate
}

func (s gatedSession) Data(ctx context.Context, r io.Reader) error {
	if err := s.gate.Wait(ctx); err != nil {
		return err
	}
	return s.Session.Data(ctx, r)
}

// TestConformance runs the lifecycle every stream server shares; a
// session whose message is held at the backend is the busy one.
func TestConformance(t *testing.T) {
	testkit.Conformance(t, testkit.Target{
		New: func(t *testing.T, gate *testkit.Gate) testkit.StreamServer {
			return &Server{Backend: &gatedBackend{gate: gate}, Hostname: "mx.test", Logger: slog.New(slog.DiscardHandler)}
		},
		Greet: func(t *testing.T, c *testkit.Transcript) {
			if code, text := c.Reply(); code != 220 {
				t.Fatalf("greeting = %q, want 220", text)
			}
		},
		Busy: func(t *testing.T, c *testkit.Transcript) {
			c.Do("EHLO client.test", 250)
			c.Do("MAIL FROM:<a@b.c>", 250)
			c.Do("RCPT TO:<x@mx.test>", 250)
			c.Do("DATA", 354)
			c.Write("Subject: busy\r\n\r\nx\r\n.\r\n")
		},
		Finish: func(t *testing.T, c *testkit.Transcript) {
			if code, text := c.Reply(); code != 250 {
				t.Errorf("message held through Shutdown: reply %q, want 250", text)
			}
		},
	})
}

// shutdownIn runs srv.Shutdown with a deadline d from now in its own
// goroutine; the channel gets its result.
func shutdownIn(srv *Server, d time.Duration) <-chan error {
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		done <- srv.Shutdown(ctx)
	}()
	return done
}

// TestShutdownEndsSessionsInTransaction: a session waiting for a
// command is ended by Shutdown whether or not MAIL started a
// transaction, so neither a client gone silent after MAIL nor one
// sending NOOP after NOOP holds Shutdown.
func TestShutdownEndsSessionsInTransaction(t *testing.T) {
	be := &MemoryBackend{}
	srv := &Server{Backend: be}
	addr := startServer(t, srv)
	idle := dialSession(t, addr)
	idle.cmd("EHLO client.test", "250 ")
	silent := dialSession(t, addr)
	silent.cmd("EHLO client.test", "250 ")
	silent.cmd("MAIL FROM:<a@b.c>", "250 ")
	trickling := dialSession(t, addr)
	trickling.cmd("EHLO client.test", "250 ")
	trickling.cmd("MAIL FROM:<a@b.c>", "250 ")
	trickling.cmd("RCPT TO:<x@mx.test>", "250 ")

	start := time.Now()
	done := shutdownIn(srv, 3*time.Second)
	idle.expect("421 4.3.2")
	silent.expect("421 4.3.2")
	for {
		code, text := trickling.Cmd("NOOP")
		if code == 421 {
			break
		}
		if code != 250 || time.Since(start) > 5*time.Second {
			t.Fatalf("NOOP during Shutdown, in a transaction = %q, want 250 and soon 421", text)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for name, s := range map[string]*session{"idle": idle, "silent": silent, "trickling": trickling} {
		if !s.closed() {
			t.Errorf("%s session open after Shutdown's 421", name)
		}
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown(3s) with sessions in a transaction = %v after %v, want nil", err, time.Since(start))
	}
	if n := len(be.Messages()); n != 0 {
		t.Errorf("%d messages stored, want 0", n)
	}
}

// heldBackend holds each message's Data until release is closed,
// telling entered when it starts waiting.
type heldBackend struct {
	MemoryBackend
	entered chan struct{}
	release chan struct{}
}

func (b *heldBackend) NewSession(ctx context.Context, c *Conn) (Session, error) {
	s, err := b.MemoryBackend.NewSession(ctx, c)
	return heldSession{s, b}, err
}

type heldSession struct {
	Session
	b *heldBackend
}

func (s heldSession) Data(ctx context.Context, r io.Reader) error {
	s.b.entered <- struct{}{}
	<-s.b.release
	return s.Session.Data(ctx, r)
}

// TestShutdownAnswersPipelinedCommands: a message being received when
// Shutdown comes is finished, and the commands the client pipelined
// behind it are answered before the 421.
func TestShutdownAnswersPipelinedCommands(t *testing.T) {
	be := &heldBackend{entered: make(chan struct{}, 1), release: make(chan struct{})}
	srv := &Server{Backend: be}
	addr := startServer(t, srv)
	s := dialSession(t, addr)
	s.cmd("EHLO client.test", "250 ")
	s.cmd("MAIL FROM:<a@b.c>", "250 ")
	s.cmd("RCPT TO:<x@mx.test>", "250 ")
	s.cmd("DATA", "354 ")
	s.send("Subject: held\r\n\r\nx\r\n.\r\nRSET\r\nNOOP\r\n")
	<-be.entered
	done := shutdownIn(srv, 5*time.Second)
	testkit.Eventually(t, 5*time.Second, "closing", srv.loop.Closing)
	close(be.release)
	for _, want := range []string{"250 2.0.0 OK", "250 2.0.0", "250 2.0.0", "421 4.3.2"} {
		s.expect(want)
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown(5s) = %v, want nil", err)
	}
	if n := len(be.Messages()); n != 1 {
		t.Errorf("%d messages stored, want the one in progress", n)
	}
}

// eventBackend reports each message's Data as it returns, and each Logout.
type eventBackend struct {
	MemoryBackend
	events chan string
}

func (b *eventBackend) NewSession(ctx context.Context, c *Conn) (Session, error) {
	s, err := b.MemoryBackend.NewSession(ctx, c)
	return eventSession{s, b.events}, err
}

type eventSession struct {
	Session
	events chan string
}

func (s eventSession) Data(ctx context.Context, r io.Reader) error {
	err := s.Session.Data(ctx, r)
	if err != nil {
		s.events <- "Data failed"
	} else {
		s.events <- "Data stored"
	}
	return err
}

func (s eventSession) Logout() error {
	s.events <- "Logout"
	return s.Session.Logout()
}

// TestUnfinishedBDATEndsData: however a session ends with a BDAT
// message unfinished, the backend's Data (reading from a pipe in its own
// goroutine) fails and returns before Logout, so it leaks nothing.
func TestUnfinishedBDATEndsData(t *testing.T) {
	for _, tc := range []struct{ end, reply string }{
		{"QUIT", "221 "},
		{"GET / HTTP/1.1", "521 "},
	} {
		t.Run(strings.Fields(tc.end)[0], func(t *testing.T) {
			be := &eventBackend{events: make(chan string, 4)}
			addr := startServer(t, &Server{Backend: be})
			s := dialSession(t, addr)
			s.cmd("EHLO client.test", "250 ")
			s.cmd("MAIL FROM:<a@b.c>", "250 ")
			s.cmd("RCPT TO:<x@mx.test>", "250 ")
			s.send("BDAT 4\r\nabcd")
			s.expect("250 2.0.0 4 octets")
			s.send("BDAT 4\r\nefgh")
			s.expect("250 2.0.0 4 octets")
			s.cmd(tc.end, tc.reply)
			var got []string
			for len(got) < 2 {
				select {
				case e := <-be.events:
					got = append(got, e)
				case <-time.After(5 * time.Second):
					t.Fatalf("BDAT 4, BDAT 4, %s: backend calls = %q, want [Data failed Logout]", tc.end, got)
				}
			}
			if got[0] != "Data failed" || got[1] != "Logout" {
				t.Errorf("BDAT 4, BDAT 4, %s: backend calls = %q, want [Data failed Logout]", tc.end, got)
			}
			if n := len(be.Messages()); n != 0 {
				t.Errorf("%d messages stored from an unfinished BDAT, want 0", n)
			}
		})
	}
}

// TestShutdownEndsImplicitTLSHandshake: a client that connects to an
// implicit-TLS listener and sends nothing holds no command, so Shutdown
// ends it at once rather than after the handshake's timeout.
func TestShutdownEndsImplicitTLSHandshake(t *testing.T) {
	serverTLS, _ := testkit.TLS(t)
	srv := &Server{Backend: &MemoryBackend{}, Hostname: "mx.test"}
	reading := make(chan struct{})
	var once sync.Once
	ln := testkit.Listener{Listener: testkit.Listen(t), Wrap: func(c net.Conn) net.Conn {
		return readHook{c, func() { once.Do(func() { close(reading) }) }}
	}}
	addr := testkit.Serve(t, srv, tls.NewListener(ln, serverTLS))
	c := testkit.Dial(t, addr)
	select {
	case <-reading: // the handshake waits for the ClientHello
	case <-time.After(5 * time.Second):
		t.Fatal("the server never started its TLS handshake")
	}
	start := time.Now()
	if err := <-shutdownIn(srv, 3*time.Second); err != nil {
		t.Fatalf("Shutdown(3s) with a client silent before its TLS handshake = %v, want nil", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Shutdown with a silent TLS client took %v, want it prompt", d)
	}
	if !c.Closed(2 * time.Second) {
		t.Error("silent TLS session open after Shutdown")
	}
}

// TestShutdownAnswersAuthContinuation: a client that leaves an AUTH
// exchange waiting for its response is woken by Shutdown and told 421.
func TestShutdownAnswersAuthContinuation(t *testing.T) {
	srv := &Server{Backend: &MemoryBackend{Users: map[string]string{"alice": "s3cret"}}}
	addr := startServer(t, srv)
	s := dialSession(t, addr)
	s.cmd("EHLO client.test", "250 ")
	s.cmd("AUTH LOGIN", "334 ")
	start := time.Now()
	done := shutdownIn(srv, 3*time.Second)
	s.expect("421 4.3.2")
	if !s.closed() {
		t.Error("session open after Shutdown's 421 in AUTH")
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown(3s) during an AUTH exchange = %v after %v, want nil", err, time.Since(start))
	}
}
