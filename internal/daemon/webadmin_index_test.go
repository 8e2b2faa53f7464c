package daemon

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbnet/plumb/imap"
	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/mailstore"
	"github.com/plumbnet/plumb/internal/testkit"
	"github.com/plumbnet/plumb/internal/webadmin"
)

// summaryLines returns the lines of alice's INBOX summary file.
func summaryLines(t *testing.T, d *Daemon) []string {
	t.Helper()
	b, _ := os.ReadFile(summaryPath(d.DataDir(), "alice", mailstore.Inbox))
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// writeBehind writes n messages (numbered from first) into alice's
// INBOX behind the store, as another program would: files in new/.
func writeBehind(t *testing.T, ms *mailstore.Store, first, n int) {
	t.Helper()
	mb, err := ms.Mailbox(context.Background(), "alice", mailstore.Inbox) // makes the Maildir
	if err != nil {
		t.Fatal(err)
	}
	mb.Close()
	for i := first; i < first+n; i++ {
		msg := fmt.Sprintf("From: s%d@far.test\r\nSubject: message %d\r\n\r\nword%d\r\n", i, i, i%10)
		name := fmt.Sprintf("%d.M%dP1Q%d.behind", 1700000000+i, i, i)
		if err := os.WriteFile(filepath.Join(ms.Dir(), "alice", "new", name), []byte(msg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSummaryAtDelivery: mail delivered over SMTP is summarized as it
// arrives, into the summary file, so a search afterwards reads no
// message file.
func TestSummaryAtDelivery(t *testing.T) {
	d, addrs := startSMTPDaemon(t, nil)
	ms, _ := d.MailStore()
	w := newWebMail(d, ms)
	defer w.close()
	c := dialSMTP(t, addrs["smtp"])
	for i := range 3 {
		msg := fmt.Sprintf("From: shop@far.test\r\nTo: alice@mx.test\r\nSubject: n%d\r\n\r\nyour code is 12%d\r\n", i, i)
		if err := c.SendMail("shop@far.test", []string{"alice@mx.test"}, strings.NewReader(msg), nil); err != nil {
			t.Fatal(err)
		}
	}
	testkit.Eventually(t, 5*time.Second, "three summaries in the file", func() bool {
		read, _ := w.summaryStats()
		return read == 3 && len(summaryLines(t, d)) == 3
	})
	v, _ := w.view("alice", "INBOX")
	v.mu.Lock()
	if n := len(v.byKey); n != 0 {
		t.Errorf("%d summaries in memory for a folder never listed, want them only in the file", n)
	}
	v.mu.Unlock()
	got, n, err := w.List(context.Background(), "alice", "INBOX", webadmin.Query{Text: "code is 121"}, 0, 10)
	if err != nil || n != 1 || got[0].Subject != "n1" {
		t.Fatalf("search = %+v, %d, %v; want n1", got, n, err)
	}
	if read, _ := w.summaryStats(); read != 3 {
		t.Errorf("%d messages read in all, want 3: the search read message files", read)
	}
}

// TestSummaryBackgroundPass: a folder filled behind plumb is summarized
// in one pass started by its first listing; a search waits for it and
// reads nothing more. At start, a folder with a summary file gets a pass
// for what arrived while the daemon was down.
func TestSummaryBackgroundPass(t *testing.T) {
	d, _ := startSMTPDaemon(t, nil)
	ms, _ := d.MailStore()
	ctx := context.Background()
	writeBehind(t, ms, 0, 300)
	w := newWebMail(d, ms)
	page, n, err := w.List(ctx, "alice", "INBOX", webadmin.Query{}, 0, 5)
	if err != nil || n != 300 || len(page) != 5 || page[0].Subject != "message 299" {
		t.Fatalf("first page = %+v, %d, %v", page, n, err)
	}
	got, n, err := w.List(ctx, "alice", "INBOX", webadmin.Query{Text: "word7"}, 0, 100)
	if err != nil || n != 30 || got[0].Subject != "message 297" {
		t.Fatalf("search = %d matches, %v; want 30, message 297 first", n, err)
	}
	if read, _ := w.summaryStats(); read != 300 {
		t.Errorf("%d messages read, want each of 300 once (one pass, not two)", read)
	}
	if l := summaryLines(t, d); len(l) != 300 {
		t.Errorf("the summary file has %d lines, want 300", len(l))
	}
	w.close()

	writeBehind(t, ms, 300, 20) // while "down"
	w = newWebMail(d, ms)
	defer w.close()
	testkit.Eventually(t, 5*time.Second, "the pass at start", func() bool {
		read, _ := w.summaryStats()
		return read == 20
	})
	if _, n, err := w.List(ctx, "alice", "INBOX", webadmin.Query{Text: "word3"}, 0, 100); err != nil || n != 32 {
		t.Errorf("search after a restart = %d, %v; want 32", n, err)
	}
	if read, _ := w.summaryStats(); read != 20 {
		t.Errorf("%d messages read after the restart, want the 20 new ones", read)
	}
}

// TestSummaryFileTornLine: a last line cut short by a crash is ignored
// (its message is read again) and ended, so the next line is whole.
func TestSummaryFileTornLine(t *testing.T) {
	d, _ := startSMTPDaemon(t, nil)
	ms, _ := d.MailStore()
	ctx := context.Background()
	writeBehind(t, ms, 0, 2)
	w := newWebMail(d, ms)
	if _, n, err := w.List(ctx, "alice", "INBOX", webadmin.Query{Text: "word"}, 0, 10); err != nil || n != 2 {
		t.Fatalf("search = %d, %v", n, err)
	}
	w.close()
	path := summaryPath(d.DataDir(), "alice", mailstore.Inbox)
	lines := summaryLines(t, d)
	torn := lines[0] + "\n" + lines[1][:len(lines[1])/2] // no newline: the crash came mid-write
	if err := os.WriteFile(path, []byte(torn), 0o600); err != nil {
		t.Fatal(err)
	}
	w = newWebMail(d, ms)
	if _, n, err := w.List(ctx, "alice", "INBOX", webadmin.Query{Text: "word"}, 0, 10); err != nil || n != 2 {
		t.Fatalf("search over a torn file = %d, %v", n, err)
	}
	if read, _ := w.summaryStats(); read != 1 {
		t.Errorf("%d messages read, want the torn line's one", read)
	}
	w.close()
	w = newWebMail(d, ms)
	defer w.close()
	if _, n, err := w.List(ctx, "alice", "INBOX", webadmin.Query{Text: "word"}, 0, 10); err != nil || n != 2 {
		t.Fatalf("search after the repair = %d, %v", n, err)
	}
	if read, _ := w.summaryStats(); read != 0 {
		t.Errorf("%d messages read after the repair, want 0", read)
	}
}

// TestSummaryLimits: the arrival queue is bounded (what does not fit is
// summarized lazily), and a summary holds a bounded part of a message.
func TestSummaryLimits(t *testing.T) {
	x := newIndexer()
	for i := range arrivalQueue + 10 {
		x.enqueue(arrival{user: "alice", uid: uint32(i + 1)})
	}
	if got := x.dropped.Load(); got != 10 || len(x.arrivals) != arrivalQueue {
		t.Errorf("dropped %d with %d queued, want 10 and %d", got, len(x.arrivals), arrivalQueue)
	}

	dir := t.TempDir()
	var msg bytes.Buffer
	for i := range 400 {
		fmt.Fprintf(&msg, "X-Field-%d: %s\r\n", i, strings.Repeat("v", 50))
	}
	msg.WriteString("Subject: big\r\n\r\n")
	msg.WriteString(strings.Repeat("filler line\r\n", 10000)) // past summaryReadBytes
	msg.WriteString("needle\r\n")
	p := filepath.Join(dir, "m")
	if err := os.WriteFile(p, msg.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	s := readSummary(mailstore.Message{Key: "m", Path: p, Size: int64(msg.Len())})
	if s.Sum.Subject != "big" || len(s.Headers) > summaryHeadBytes+200 || len(s.Search) > summaryTextBytes+100 ||
		strings.Contains(s.Search, "needle") {
		t.Errorf("summary of a big message: subject %q, %d bytes of headers, %d of text", s.Sum.Subject, len(s.Headers), len(s.Search))
	}
}

// FuzzSummaryScan: whenever the small scanner takes a message, its
// summary is the one the MIME parser's view gives.
func FuzzSummaryScan(f *testing.F) {
	for _, s := range []string{
		"From: a@b\r\nSubject: hi\r\n\r\nbody",
		"Subject: x\n  folded\nTo: a@b, c@d\n\nbody\n",
		"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\xc3\xa9t\xc3\xa9",
		"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\nt\r\n--x--\r\n",
		"Subject: =?utf-8?q?caf=C3=A9?=\r\n\r\n",
		"Bad Name: v\r\n\r\n",
		"Subject: x\r\n\r\n" + strings.Repeat("\xff", 600),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > summaryReadBytes {
			b = b[:summaryReadBytes]
		}
		heads, text, ok := scanPlain(b)
		if !ok {
			return
		}
		var fast, slow summary
		fast.Sum.To, slow.Sum.To = []string{}, []string{}
		fast.fill(heads, text)
		if v, err := webadmin.ParseView(bytes.NewReader(b)); err == nil {
			slow.fill(v.Headers, v.Text)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Errorf("scanner %+v\nparser %+v", fast, slow)
		}
	})
}

// TestSummaryAtIMAPArrival: an IMAP APPEND and the copy an IMAP MOVE
// makes are summarized as they arrive, before any listing.
func TestSummaryAtIMAPArrival(t *testing.T) {
	cfg := testConfig(t)
	cfg.Admin.Enabled = false // the test's adapter is the only one
	i := imapSection.of(cfg)
	i.Enabled, i.Addr = true, "127.0.0.1:0"
	db, err := accounts.OpenWith(filepath.Join(cfg.Data, accounts.FileName), accounts.Options{Cost: 4})
	if err != nil {
		t.Fatal(err)
	}
	db.Add("alice", "alice-pw-123")
	d := startTest(t, cfg)
	t.Cleanup(func() { d.Close() })
	ms, _ := d.MailStore()
	if err := ms.CreateFolder("alice", "Archive"); err != nil {
		t.Fatal(err)
	}
	w := newWebMail(d, ms)
	defer w.close()
	ctx := context.Background()
	c, err := imap.Dial(ctx, addrOf(t, d, "imap"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(ctx, "alice", "alice-pw-123"); err != nil {
		t.Fatal(err)
	}
	_, uid, err := c.Append(ctx, "INBOX", nil, time.Now(), []byte("Subject: appended\r\n\r\nhello\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 5*time.Second, "the APPEND summarized", func() bool { return len(summaryLines(t, d)) == 1 })
	if _, err := c.Select(ctx, "INBOX", false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Move(ctx, true, imap.SeqSetOf(uid), "Archive"); err != nil {
		t.Fatal(err)
	}
	archive := summaryPath(d.DataDir(), "alice", "Archive")
	testkit.Eventually(t, 5*time.Second, "the moved copy summarized", func() bool {
		b, _ := os.ReadFile(archive)
		return bytes.Count(b, []byte("\n")) == 1
	})
	if got, n, err := w.List(ctx, "alice", "Archive", webadmin.Query{Subject: "appended"}, 0, 10); err != nil || n != 1 || got[0].Subject != "appended" {
		t.Fatalf("search of Archive = %+v, %d, %v", got, n, err)
	}
	if read, _ := w.summaryStats(); read != 2 {
		t.Errorf("%d messages read, want 2 (at the APPEND and the MOVE, none for the search)", read)
	}
}

// TestSummaryLoadParts: a large summary file, read in parts on several
// CPUs, gives every line once, whatever line the parts' bounds cut.
func TestSummaryLoadParts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.jsonl")
	v := &webFolder{byKey: map[string]*summary{}, path: path, loaded: true}
	const n = 3000
	for i := range n {
		s := &summary{Search: strings.Repeat(fmt.Sprint(i%10), 300+i%700)} // lines of uneven length
		v.keep(fmt.Sprintf("key%d", i), s)
	}
	v.flush()
	if fi, err := os.Stat(path); err != nil || fi.Size() < 1<<20 {
		t.Fatalf("the file is %v, %v: want over 1 MiB, to be read in parts", fi, err)
	}
	for parts := range 7 {
		got := map[string]*summary{}
		lines := 0
		f, _ := os.Open(path)
		fi, _ := f.Stat()
		for i := range parts + 1 {
			m, l := loadPart(f, fi.Size()*int64(i)/int64(parts+1), fi.Size()*int64(i+1)/int64(parts+1))
			lines += l
			for k, s := range m {
				if _, dup := got[k]; dup {
					t.Errorf("%d parts: %s read twice", parts+1, k)
				}
				got[k] = s
			}
		}
		f.Close()
		if lines != n || len(got) != n || got["key1234"].Search != strings.Repeat("4", 300+1234%700) {
			t.Errorf("%d parts: %d lines, %d summaries, want %d", parts+1, lines, len(got), n)
		}
	}
	w := &webFolder{byKey: map[string]*summary{}, path: path}
	w.load()
	if len(w.byKey) != n || w.lines != n {
		t.Errorf("load: %d summaries of %d lines, want %d", len(w.byKey), w.lines, n)
	}
}

// TestSummarySearchWaitsForPass: a search that comes while the folder's
// pass runs waits for it instead of reading the messages itself.
func TestSummarySearchWaitsForPass(t *testing.T) {
	d, _ := startSMTPDaemon(t, nil)
	ms, _ := d.MailStore()
	writeBehind(t, ms, 0, 100)
	w := newWebMail(d, ms)
	defer w.close()
	for range cap(w.idx.reads) { // every read waits until the test lets it
		w.idx.reads <- struct{}{}
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			for range cap(w.idx.reads) {
				<-w.idx.reads
			}
		})
	}
	defer release() // before w.close, which waits for the pass
	type answer struct {
		n   int
		err error
	}
	done := make(chan answer, 1)
	go func() {
		_, n, err := w.List(context.Background(), "alice", "INBOX", webadmin.Query{Text: "word7"}, 0, 100)
		done <- answer{n, err}
	}()
	// The search holds the folder from its listing (which starts the
	// pass) until it waits: a pass seen running means it is waiting.
	testkit.Eventually(t, 5*time.Second, "the pass running", func() bool {
		v, err := w.view("alice", "INBOX")
		if err != nil {
			return false
		}
		if !v.mu.TryLock() { // held by a search reading messages itself: it would never be seen
			return false
		}
		defer v.mu.Unlock()
		return v.pass != nil
	})
	release()
	if a := <-done; a.err != nil || a.n != 10 {
		t.Fatalf("search = %d, %v; want 10", a.n, a.err)
	}
	if read, _ := w.summaryStats(); read != 100 {
		t.Errorf("%d messages read, want each of 100 once", read)
	}
}
