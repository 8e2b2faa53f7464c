package smtp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"

	"github.com/plumbnet/plumb/sasl"
	"github.com/plumbnet/plumb/smtp"
)

// A server with the in-memory backend, and the client sending to it.
func Example() {
	be := &smtp.MemoryBackend{}
	srv := &smtp.Server{Backend: be, Hostname: "mx.example"}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go srv.Serve(ln)
	defer srv.Close()

	c, err := smtp.Dial(context.Background(), ln.Addr().String())
	if err != nil {
		panic(err)
	}
	err = c.SendMail("alice@example.org", []string{"bob@mx.example"},
		strings.NewReader("Subject: hello\r\n\r\nHi Bob.\r\n"), nil)
	if err != nil {
		panic(err)
	}
	c.Quit()

	m := be.Messages()[0]
	fmt.Println(m.From, "->", m.To)
	fmt.Println(strings.HasSuffix(string(m.Data), "Subject: hello\r\n\r\nHi Bob.\r\n"))
	// Output:
	// alice@example.org -> [bob@mx.example]
	// true
}

// authBackend is a backend written outside the package, with only
// exported names: it offers AUTH PLAIN and LOGIN through the sasl
// package and keeps the messages of authenticated users.
type authBackend struct {
	users map[string]string

	mu       sync.Mutex // sessions run in the server's goroutines
	messages []string
}

var (
	_ smtp.Backend     = (*authBackend)(nil)
	_ smtp.AuthSession = (*authSession)(nil)
)

func (b *authBackend) NewSession(ctx context.Context, c *smtp.Conn) (smtp.Session, error) {
	return &authSession{b: b}, nil
}

type authSession struct {
	b    *authBackend
	user string
}

func (s *authSession) AuthMechanisms() []string { return sasl.Mechanisms() }

func (s *authSession) Auth(ctx context.Context, mech string) (sasl.Server, error) {
	return sasl.NewServer(mech, func(ctx context.Context, identity, user, pass string) error {
		if want, ok := s.b.users[user]; !ok || pass != want {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	})
}

func (s *authSession) Mail(ctx context.Context, from string, opts *smtp.MailOptions) error {
	if s.user == "" {
		return smtp.ErrAuthRequired
	}
	return nil
}

func (s *authSession) Rcpt(ctx context.Context, to string, opts *smtp.RcptOptions) error {
	return nil
}

func (s *authSession) Data(ctx context.Context, r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	body := string(b[strings.LastIndex(string(b), "\r\n\r\n")+4:])
	s.b.mu.Lock()
	s.b.messages = append(s.b.messages, s.user+": "+body)
	s.b.mu.Unlock()
	return nil
}

func (s *authSession) Reset()        {}
func (s *authSession) Logout() error { return nil }

// A backend of one's own that offers AUTH, and the client logging in to
// it. Refusals come back as *smtp.Error; the SASL client's own failures
// match the sasl package's sentinels.
func Example_authBackend() {
	be := &authBackend{users: map[string]string{"alice": "s3cret"}}
	srv := &smtp.Server{Backend: be, Hostname: "mx.example"}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go srv.Serve(ln)
	defer srv.Close()

	c, err := smtp.Dial(context.Background(), ln.Addr().String())
	if err != nil {
		panic(err)
	}
	defer c.Close()
	// On loopback a password may go in clear; elsewhere use StartTLS first.
	err = c.Auth(sasl.NewPlainClient("", "alice", "wrong"))
	var se *smtp.Error
	if errors.As(err, &se) {
		fmt.Println("refused:", se.Code, se.Msg)
	}
	err = c.Auth(sasl.NewPlainClient("", "alice", ""))
	fmt.Println("empty password is malformed:", errors.Is(err, sasl.ErrMalformed))
	if err := c.Auth(sasl.NewLoginClient("alice", "s3cret")); err != nil {
		panic(err)
	}
	err = c.SendMail("alice@mx.example", []string{"bob@example.org"},
		strings.NewReader("Subject: hi\r\n\r\nHello Bob.\r\n"), nil)
	if err != nil {
		panic(err)
	}
	c.Quit()
	be.mu.Lock()
	fmt.Printf("%q\n", be.messages)
	be.mu.Unlock()
	// Output:
	// refused: 535 Authentication credentials invalid
	// empty password is malformed: true
	// ["alice: Hello Bob.\r\n"]
}
