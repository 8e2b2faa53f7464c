package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/daemon"
)

// syncBuffer is a bytes.Buffer safe for a command writing while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// echoOnlyConfig is the effective default config with every listener
// off but echo, on a free port, and data in a temporary directory.
func echoOnlyConfig(t *testing.T) string {
	t.Helper()
	b, err := daemon.DefaultConfig().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(b), "enabled = true", "enabled = false")
	for old, repl := range map[string]string{
		"[echo]\nenabled = false": "[echo]\nenabled = true",
		"addr = ':10007'":         "addr = '127.0.0.1:0'",
		"data = 'plumb-data'":     "data = '" + filepath.ToSlash(t.TempDir()) + "'",
	} {
		if !strings.Contains(s, old) {
			t.Fatalf("printed default config lacks %q:\n%s", old, s)
		}
		s = strings.Replace(s, old, repl, 1)
	}
	p := filepath.Join(t.TempDir(), "echo.toml")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestServeStopsWithItsContext: plumb serve runs until the command's
// context ends (the first SIGINT or SIGTERM, in Execute) and then
// drains and returns nil.
func TestServeStopsWithItsContext(t *testing.T) {
	root := NewRoot()
	var out syncBuffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"serve", "--config", echoOnlyConfig(t)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "SERVICE"); time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("plumb serve returned %v before it served:\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("plumb serve printed no table in 10s:\n%s", out.String())
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("plumb serve after its context ended = %v, want nil (drained)", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("plumb serve still runs 10s after its context ended:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "stopped cleanly") {
		t.Errorf("plumb serve's log lacks \"stopped cleanly\":\n%s", out.String())
	}
}

// TestServeFlagDefaultsAreTheEmbeddedConfigs: --data, --listen and
// --log-format show the embedded config's values, which is what they
// mean when not given.
func TestServeFlagDefaultsAreTheEmbeddedConfigs(t *testing.T) {
	def := daemon.DefaultConfig()
	cmd := newServeCmd()
	for flag, want := range map[string]string{"data": def.Data, "listen": def.Listen, "log-format": def.Log.Format} {
		if got := cmd.Flags().Lookup(flag).DefValue; got != want {
			t.Errorf("plumb serve --%s default = %q, want the embedded config's %q", flag, got, want)
		}
	}
}
