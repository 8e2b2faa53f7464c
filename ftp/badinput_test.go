package ftp

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// recordHandler keeps the records a Server logs.
type recordHandler struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordHandler) WithGroup(string) slog.Handler      { return h }

// errors returns the messages logged at Error level or above.
func (h *recordHandler) errors() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.records {
		if r.Level >= slog.LevelError {
			out = append(out, r.Message)
		}
	}
	return out
}

// A client's bad input is the client's error: on a real disk, through
// os.Root, every verb answers a bad name, a link out of the tree, a
// name too long or a NUL byte with a 5xx reply, and nothing is logged
// as the server's error.
func TestBadInputIsTheClientsError(t *testing.T) {
	top := t.TempDir()
	home, outside := filepath.Join(top, "home"), filepath.Join(top, "outside")
	for _, d := range []string{filepath.Join(home, "sub"), filepath.Join(home, "full"), outside} {
		os.MkdirAll(d, 0o755)
	}
	os.WriteFile(filepath.Join(home, "a.txt"), []byte("a"), 0o644)
	os.WriteFile(filepath.Join(home, "full", "f"), []byte("f"), 0o644)
	os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o644)
	os.Symlink(filepath.Join(outside, "secret"), filepath.Join(home, "escape"))
	os.Symlink("../outside", filepath.Join(home, "escape-dir"))
	logs := &recordHandler{}
	ts := startServer(t, func(s *Server) {
		s.Backend = rootBackend{newRootFS(t, home)}
		s.Logger = slog.New(logs)
	})
	c := dialT(t, ts.addr)
	c.login("alice", "secret")
	long := strings.Repeat("n", 300)
	for _, step := range []struct {
		lines []string // all but the last must succeed
		code  int
	}{
		{[]string{"MKD a\x00b"}, 501},
		{[]string{"CWD sub\x00"}, 501},
		{[]string{"RETR a.txt\x00"}, 501},
		{[]string{"RNFR a.txt", "RNTO escape-dir/x"}, 550},
		{[]string{"RNFR a.txt", "RNTO missing/x"}, 550},
		{[]string{"RNFR sub", "RNTO sub/inner"}, 550},
		{[]string{"RNFR a.txt", "RNTO " + long}, 553},
		{[]string{"RNFR escape-dir"}, 550},
		{[]string{"RNTO b.txt"}, 503},
		{[]string{"MKD escape-dir/new"}, 550},
		{[]string{"MKD " + long}, 553},
		{[]string{"MKD a.txt"}, 550},
		{[]string{"RMD full"}, 550},
		{[]string{"RMD a.txt"}, 550},
		{[]string{"RMD escape-dir"}, 550},
		{[]string{"DELE sub"}, 550},
		{[]string{"DELE missing"}, 550},
		{[]string{"DELE escape-dir/secret"}, 550},
		{[]string{"SITE CHMOD 644 escape"}, 550},
		{[]string{"SIZE escape"}, 550},
		{[]string{"MDTM escape"}, 550},
		{[]string{"MLST escape-dir"}, 550},
		{[]string{"CWD escape-dir"}, 550},
		{[]string{"STAT escape-dir"}, 550},
		{[]string{"RETR escape"}, 550},
		{[]string{"STOR escape-dir/x"}, 550},
		{[]string{"APPE escape-dir/x"}, 550},
		{[]string{"STOR " + long}, 553},
		{[]string{"LIST escape-dir"}, 550},
		{[]string{"NLST escape-dir"}, 550},
		{[]string{"MLSD escape-dir"}, 550},
		{[]string{"MFMT 20200101000000 escape"}, 550},
		{[]string{"MFMT 20200101000000 missing"}, 550},
		{[]string{"SITE UTIME 20200101000000 escape"}, 550},
	} {
		last := len(step.lines) - 1
		for _, l := range step.lines[:last] {
			if code, msg := c.Cmd(l); code >= 400 {
				t.Fatalf("%q = %d %q, want success", l, code, msg)
			}
		}
		if code, msg := c.Cmd(step.lines[last]); code != step.code {
			t.Errorf("%q after %q = %d %q, want %d", step.lines[last], step.lines[:last], code, msg, step.code)
		}
	}
	if errs := logs.errors(); len(errs) > 0 {
		t.Errorf("clients' bad input logged as the server's errors: %q", errs)
	}
	if _, err := os.Stat(filepath.Join(outside, "x")); err == nil {
		t.Errorf("a name through a link out of the tree was created outside it")
	}
}

// errorFS answers every Mkdir with the backend's own reply.
type errorFS struct{ FS }

func (errorFS) Mkdir(context.Context, string) error {
	return &Error{Code: 553, Msg: "Names here are lower case"}
}

type errorBackend struct{}

func (errorBackend) Login(_ context.Context, _ ConnInfo, user, _ string) (FS, error) {
	if user == "locked" {
		return nil, &Error{Code: 421, Msg: "Account locked; try tomorrow"}
	}
	return errorFS{NewMemoryFS()}, nil
}

// A backend's *Error chooses the reply.
func TestBackendErrorChoosesReply(t *testing.T) {
	ts := startServer(t, func(s *Server) { s.Backend = errorBackend{} })
	c := dialT(t, ts.addr)
	c.Do("USER locked", 331)
	if code, msg := c.Cmd("PASS x"); code != 421 || msg != "421 Account locked; try tomorrow" {
		t.Errorf("PASS for a locked account = %d %q, want the backend's 421", code, msg)
	}
	c.login("alice", "x")
	if code, msg := c.Cmd("MKD Upper"); code != 553 || msg != "553 Names here are lower case" {
		t.Errorf("MKD Upper = %d %q, want the backend's 553", code, msg)
	}
}
