package pop3

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// records keeps the level and message of every log record.
type records struct {
	mu  sync.Mutex
	got []slog.Record
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, rec)
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

// find returns the level of the first record whose message starts
// with prefix.
func (r *records) find(prefix string) (slog.Level, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.got {
		if strings.HasPrefix(rec.Message, prefix) {
			return rec.Level, true
		}
	}
	return 0, false
}

// brokenStore serves alice's maildrop but fails every message after
// its first bytes, as a disk error would.
type brokenStore struct{ *MemoryBackend }

func (b brokenStore) Login(ctx context.Context, c ConnInfo, user, pass string) (Maildrop, error) {
	d, err := b.MemoryBackend.Login(ctx, c, user, pass)
	if err != nil {
		return nil, err
	}
	return brokenDrop{d}, nil
}

type brokenDrop struct{ Maildrop }

func (d brokenDrop) Open(ctx context.Context, uid string) (io.ReadCloser, error) {
	return io.NopCloser(io.MultiReader(strings.NewReader("Subject: x\r\n"), failing{})), nil
}

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("input/output error") }

func TestSendLogsStoreFailureAsError(t *testing.T) {
	log := &records{}
	ts := startServer(t, nil, func(s *Server) {
		s.Backend = brokenStore{s.Backend.(*MemoryBackend)}
		s.Logger = slog.New(log)
	})
	c := dialPOP(t, ts.addr)
	login(c)
	c.Send("RETR 1")
	if !c.Closed(5 * time.Second) {
		t.Fatal("RETR of an unreadable message: session still open, want it ended")
	}
	testkit.Eventually(t, 5*time.Second, "the store failure logged", func() bool {
		_, ok := log.find("pop3: reading message from the store")
		return ok
	})
	if lvl, _ := log.find("pop3: reading message from the store"); lvl != slog.LevelError {
		t.Errorf("store failure logged at %v, want ERROR", lvl)
	}
}

func TestSendLogsClientHangupAsInfo(t *testing.T) {
	log := &records{}
	ts := startServer(t, nil, func(s *Server) { s.Logger = slog.New(log) })
	// Large enough that the server is still writing when the client goes.
	ts.b.Deliver("bob", "Subject: big\r\n\r\n"+strings.Repeat("0123456789abcdef0123456789abcde\r\n", 1<<20))
	c := dialPOP(t, ts.addr)
	do(c, "USER bob", "+OK")
	do(c, "PASS pw with spaces", "+OK")
	c.Send("RETR 1")
	c.Expect("+OK")
	c.Conn.Close()
	testkit.Eventually(t, 5*time.Second, "the hang-up logged", func() bool {
		_, ok := log.find("pop3: client stopped receiving a message")
		return ok
	})
	if lvl, _ := log.find("pop3: client stopped receiving a message"); lvl != slog.LevelInfo {
		t.Errorf("client hang-up logged at %v, want INFO", lvl)
	}
	if _, ok := log.find("pop3: reading message from the store"); ok {
		t.Error("a client's hang-up was logged as a store failure")
	}
}
