package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbnet/plumb/imap"
	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/mailstore"
	"github.com/plumbnet/plumb/internal/testkit"
)

// benchMessage is message i of the benchmark mailbox: 2 KiB to 200 KiB,
// every fifth multipart, every hundredth with a needle in its body
// (the shape of bench/imap's).
func benchMessage(i int) string {
	r := rand.New(rand.NewPCG(uint64(i), 7))
	size := 2048 + r.IntN(200*1024-2048)
	if r.IntN(4) > 0 {
		size = 2048 + r.IntN(16*1024)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: sender%d@example.org\r\nTo: alice@localhost\r\nSubject: message %d\r\nMessage-ID: <%d@bench>\r\nDate: Mon, 06 May 2024 07:08:09 +0000\r\n", i, i, i)
	multipart := i%5 == 0
	if multipart {
		b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=bench\r\n\r\n--bench\r\nContent-Type: text/plain\r\n\r\n")
	} else {
		b.WriteString("\r\n")
	}
	if i%100 == 0 {
		b.WriteString("needle in the haystack\r\n")
	}
	for b.Len() < size {
		line := make([]byte, 60+r.IntN(16))
		for j := range line {
			line[j] = 'a' + byte(r.IntN(26))
		}
		b.Write(line)
		b.WriteString("\r\n")
	}
	if multipart {
		b.WriteString("--bench\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQF\r\n--bench--\r\n")
	}
	return b.String()
}

// benchIMAP serves the daemon's adapter over a store of n benchmark messages.
func benchIMAP(tb testing.TB, n int) (string, *mailstore.Store) {
	dir := tb.TempDir()
	db, err := accounts.OpenWith(filepath.Join(dir, accounts.FileName), accounts.Options{Cost: 4})
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.Add("alice", "alice-password"); err != nil {
		tb.Fatal(err)
	}
	store, err := mailstore.Open(filepath.Join(dir, "mail"))
	if err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		if _, err := store.Deliver(context.Background(), "alice", "", strings.NewReader(benchMessage(i))); err != nil {
			tb.Fatal(err)
		}
	}
	srv := &imap.Server{Backend: &imapBackend{accounts: db, store: store, log: slog.New(slog.DiscardHandler)}}
	return testkit.Serve(tb, srv, nil), store
}

// benchScript is bench/imap's script: SELECT, FETCH 1:* of the
// summaries, two searches, 100 bodies, STORE on 1,000 and LOGOUT.
func benchScript(addr string, n int) error {
	ctx := context.Background()
	c, err := imap.Dial(ctx, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.Timeout = time.Minute
	if err := c.Login(ctx, "alice", "alice-password"); err != nil {
		return err
	}
	sel, err := c.Select(ctx, "INBOX", false)
	if err != nil {
		return err
	}
	if int(sel.Exists) != n {
		return fmt.Errorf("SELECT: %d messages, want %d", sel.Exists, n)
	}
	var uids []uint32
	all := imap.SeqSet{Ranges: []imap.SeqRange{{Start: 1, Stop: 0}}}
	if err := c.Fetch(ctx, false, all, "(UID FLAGS RFC822.SIZE ENVELOPE)", func(f *imap.FetchData) error {
		uids = append(uids, f.UID)
		return nil
	}); err != nil {
		return err
	}
	if _, err := c.Search(ctx, true, `HEADER Subject "message 7"`); err != nil {
		return err
	}
	if _, err := c.Search(ctx, true, `BODY "needle"`); err != nil {
		return err
	}
	some := uids[:min(100, len(uids))]
	if err := c.Fetch(ctx, true, imap.SeqSetOf(some...), "(UID BODY.PEEK[])", func(*imap.FetchData) error { return nil }); err != nil {
		return err
	}
	stored := uids[:min(1000, len(uids))]
	for _, op := range []string{"+FLAGS.SILENT", "-FLAGS.SILENT"} {
		if err := c.Store(ctx, true, imap.SeqSetOf(stored...), op, []string{imap.FlagFlagged}); err != nil {
			return err
		}
	}
	return c.Logout(ctx)
}

// BenchmarkIMAPScript runs the script on 4 clients at once over 2,000
// messages, for profiles (go test -run - -bench IMAPScript -cpuprofile).
func BenchmarkIMAPScript(b *testing.B) {
	const n, clients = 2000, 4
	addr, _ := benchIMAP(b, n)
	b.ResetTimer()
	for b.Loop() {
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for range clients {
			wg.Go(func() { errs <- benchScript(addr, n) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkIMAPColdSelect is SELECT's work on a mailbox of 5,000
// messages without an index yet, in a process that has not seen it
// (bench/imap's cold first SELECT).
func BenchmarkIMAPColdSelect(b *testing.B) {
	const n = 5000
	dir := b.TempDir()
	store, err := mailstore.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if _, err := store.Deliver(context.Background(), "alice", "", strings.NewReader(benchMessage(i)[:2048])); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		os.Remove(filepath.Join(dir, "alice", "plumb-index"))
		store, err := mailstore.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		be := &imapBackend{store: store, log: slog.New(slog.DiscardHandler)}
		s := &imapSession{b: be, user: "alice"}
		b.StartTimer()
		mb, err := s.Select(ctx, "INBOX")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := mb.Status(ctx); err != nil {
			b.Fatal(err)
		}
		if msgs, err := mb.Messages(ctx); err != nil || len(msgs) != n {
			b.Fatalf("Messages = %d, %v", len(msgs), err)
		}
		mb.Close()
	}
}
