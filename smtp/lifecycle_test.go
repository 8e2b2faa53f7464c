package smtp

import (
	"context"
	"io"
	"log/slog"
	"testing"

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
