package smtp

import (
	"context"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/plumbnet/plumb/sasl"
)

// MemoryBackend keeps every accepted message in memory, for tests and
// examples. Its zero value accepts any recipient and offers no AUTH.
type MemoryBackend struct {
	// Users enables AUTH PLAIN and LOGIN with these names and passwords.
	Users map[string]string
	// Mailboxes, if not empty, are the only recipients accepted (and
	// what VRFY confirms).
	Mailboxes []string

	mu       sync.Mutex
	messages []*Message
	verdict  atomic.Pointer[func(rcpt string) error]
}

// SetVerdict makes f decide each recipient from now on: an error it
// returns (an *Error, say) refuses the recipient with that reply. A
// test uses it to play a relay whose recipients' fate it chooses; nil
// accepts again.
func (b *MemoryBackend) SetVerdict(f func(rcpt string) error) {
	if f == nil {
		b.verdict.Store(nil)
		return
	}
	b.verdict.Store(&f)
}

var (
	_ Backend       = (*MemoryBackend)(nil)
	_ AuthSession   = (*memorySession)(nil)
	_ VerifySession = (*memorySession)(nil)
)

// A Message is one message a MemoryBackend accepted.
type Message struct {
	From string
	To   []string
	Opts MailOptions
	User string // the authenticated user, if any
	Data []byte // with the server's Received: header first
}

// Messages returns the messages accepted so far.
func (b *MemoryBackend) Messages() []*Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.messages)
}

// NewSession implements Backend.
func (b *MemoryBackend) NewSession(ctx context.Context, c *Conn) (Session, error) {
	return &memorySession{b: b}, nil
}

type memorySession struct {
	b    *MemoryBackend
	user string
	msg  *Message
}

func (s *memorySession) AuthMechanisms() []string {
	if len(s.b.Users) == 0 {
		return nil
	}
	return sasl.Mechanisms()
}

func (s *memorySession) Auth(ctx context.Context, mech string) (sasl.Server, error) {
	return sasl.NewServer(mech, func(ctx context.Context, identity, user, pass string) error {
		if p, ok := s.b.Users[user]; !ok || p != pass {
			return ErrAuthFailed
		}
		s.user = user
		return nil
	})
}

func (s *memorySession) Mail(ctx context.Context, from string, opts *MailOptions) error {
	s.msg = &Message{From: from, Opts: *opts, User: s.user}
	return nil
}

func (s *memorySession) Rcpt(ctx context.Context, to string, opts *RcptOptions) error {
	if len(s.b.Mailboxes) > 0 && !slices.ContainsFunc(s.b.Mailboxes, func(m string) bool { return strings.EqualFold(m, to) }) {
		return ErrNoSuchUser
	}
	if f := s.b.verdict.Load(); f != nil {
		if err := (*f)(to); err != nil {
			return err
		}
	}
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *memorySession) Data(ctx context.Context, r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.Data = b
	s.b.mu.Lock()
	s.b.messages = append(s.b.messages, s.msg)
	s.b.mu.Unlock()
	s.msg = nil
	return nil
}

func (s *memorySession) Verify(ctx context.Context, addr string) (string, error) {
	for _, m := range s.b.Mailboxes {
		if strings.EqualFold(m, addr) {
			return m, nil
		}
	}
	return "", ErrNoSuchUser
}

func (s *memorySession) Reset()        { s.msg = nil }
func (s *memorySession) Logout() error { return nil }
