package ftp

import (
	"context"
	"log/slog"
	"testing"

	"github.com/plumbnet/plumb/internal/testkit"
)

// gatedBackend logs alice in to a tree whose Mkdir waits at the gate.
type gatedBackend struct {
	*MemoryBackend
	gate *testkit.Gate
}

func (b gatedBackend) Login(ctx context.Context, info ConnInfo, user, password string) (FS, error) {
	fsys, err := b.MemoryBackend.Login(ctx, info, user, password)
	if err != nil {
		return nil, err
	}
	return gatedFS{fsys, b.gate}, nil
}

type gatedFS struct {
	FS
	gate *testkit.Gate
}

func (f gatedFS) Mkdir(ctx context.Context, name string) error {
	if err := f.gate.Wait(ctx); err != nil {
		return err
	}
	return f.FS.Mkdir(ctx, name)
}

// TestConformance runs the lifecycle every stream server shares: a MKD
// held at the gate is the busy session.
func TestConformance(t *testing.T) {
	testkit.Conformance(t, testkit.Target{
		New: func(t *testing.T, gate *testkit.Gate) testkit.StreamServer {
			be := NewMemoryBackend()
			be.AddUser("alice", "secret")
			return &Server{Backend: gatedBackend{be, gate}, Logger: slog.New(slog.DiscardHandler)}
		},
		Greet: func(t *testing.T, c *testkit.Transcript) { c.Expect("220 ") },
		Busy: func(t *testing.T, c *testkit.Transcript) {
			c.Do("USER alice", 331)
			c.Do("PASS secret", 230)
			c.Send("MKD made")
		},
		Finish: func(t *testing.T, c *testkit.Transcript) {
			if code, text := c.Reply(); code != 257 {
				t.Errorf("MKD made after the gate opened = %q, want 257", text)
			}
		},
	})
}
