package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/mailstore"
	"github.com/plumbnet/plumb/pop3"
)

// pop3Fixture serves the real adapter over a temporary mail store with
// one user, alice, and n messages.
func pop3Fixture(t testing.TB, n int) (addr string, store *mailstore.Store) {
	t.Helper()
	dir := t.TempDir()
	db, err := accounts.OpenWith(filepath.Join(dir, accounts.FileName), accounts.Options{Cost: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Add("alice", "alice-password"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetAPOPSecret("alice", "apop-secret"); err != nil {
		t.Fatal(err)
	}
	store, err = mailstore.Open(filepath.Join(dir, "mail"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		body := fmt.Sprintf("Subject: %d\r\n\r\n%s\r\n.dot\r\n", i, strings.Repeat("y", 4000))
		if _, err := store.Deliver(context.Background(), "alice", "", strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}
	srv := &pop3.Server{Backend: &pop3Backend{accounts: db, store: store, log: slog.New(slog.DiscardHandler)}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return ln.Addr().String(), store
}

func TestPOP3Adapter(t *testing.T) {
	addr, store := pop3Fixture(t, 3)
	c, err := pop3.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("alice", "wrong"); err == nil {
		t.Fatal("Login with a wrong password succeeded")
	}
	if err := c.APOP("alice", "apop-secret"); err != nil {
		t.Fatalf("APOP = %v", err)
	}
	// The inbox is locked for a second session.
	c2, err := pop3.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	var pe *pop3.Error
	if err := c2.Login("alice", "alice-password"); !errors.As(err, &pe) || pe.Code != "IN-USE" {
		t.Errorf("second Login = %v, want [IN-USE]", err)
	}
	c2.Close()
	uids, err := c.UIDL()
	if err != nil || len(uids) != 3 || !strings.HasSuffix(uids[0].UID, ".1") {
		t.Fatalf("UIDL() = %v, %v; want <validity>.1 first", uids, err)
	}
	if err := c.Dele(2); err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
	mb, _ := store.Mailbox(context.Background(), "alice", "")
	msgs, _ := mb.Messages(context.Background())
	if len(msgs) != 2 || msgs[0].UID != 1 || msgs[1].UID != 3 {
		t.Errorf("after DELE 2 and QUIT the inbox = %v, want UIDs 1 and 3", msgs)
	}
}

// BenchmarkPOP3Retrieve fetches a 1,000-message inbox per iteration,
// pipelined, through the real store adapter.
func BenchmarkPOP3Retrieve(b *testing.B) {
	const n = 1000
	addr, _ := pop3Fixture(b, n)
	b.ResetTimer()
	for range b.N {
		c, err := pop3.Dial(context.Background(), addr)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Login("alice", "alice-password"); err != nil {
			b.Fatal(err)
		}
		var bytes int64
		got, err := c.Fetch(nil, false, func(_ pop3.MessageInfo, body []byte) error {
			bytes += int64(len(body))
			return nil
		})
		if err != nil || got != n {
			b.Fatalf("Fetch = %d, %v", got, err)
		}
		c.Quit()
		b.SetBytes(bytes)
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "msgs/s")
}
