package daemon

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbnet/plumb/imap"
	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/atomicfile"
	"github.com/plumbnet/plumb/internal/mailstore"
	"github.com/plumbnet/plumb/internal/testkit"
	"github.com/plumbnet/plumb/internal/webadmin"
)

// summaryRecords returns how many records alice's summary file of
// folder has, and whether they are all it holds.
func summaryRecords(t *testing.T, d *Daemon, folder string) (int, bool) {
	t.Helper()
	b, _ := os.ReadFile(summaryPath(d.DataDir(), "alice", folder))
	end, n := walkSummaries(b, nil)
	return n, end == len(b)
}

// summaryCount is summaryRecords of the INBOX, failing on a file with
// more than its records.
func summaryCount(t *testing.T, d *Daemon) int {
	t.Helper()
	n, whole := summaryRecords(t, d, mailstore.Inbox)
	if !whole {
		t.Fatal("the summary file has bytes past its records")
	}
	return n
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
		return read == 3 && summaryCount(t, d) == 3
	})
	v, _ := w.view("alice", "INBOX")
	v.mu.Lock()
	if n := v.sums.len(); n != 0 {
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
	if n := summaryCount(t, d); n != 300 {
		t.Errorf("the summary file has %d records, want 300", n)
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

// TestSummaryFileTorn: a tail cut short by a crash, or corrupt, is
// ignored (its messages are read again) and cut off before the next
// records are appended, so that they are found.
func TestSummaryFileTorn(t *testing.T) {
	d, _ := startSMTPDaemon(t, nil)
	ms, _ := d.MailStore()
	ctx := context.Background()
	writeBehind(t, ms, 0, 3)
	w := newWebMail(d, ms)
	if _, n, err := w.List(ctx, "alice", "INBOX", webadmin.Query{Text: "word"}, 0, 10); err != nil || n != 3 {
		t.Fatalf("search = %d, %v", n, err)
	}
	w.close()
	path := summaryPath(d.DataDir(), "alice", mailstore.Inbox)
	whole, _ := os.ReadFile(path)
	var offs []int
	walkSummaries(whole, func(_ sumRec, off int) { offs = append(offs, off) })
	if len(offs) != 3 {
		t.Fatalf("%d records in the file, want 3", len(offs))
	}
	for _, c := range []struct {
		name  string
		bytes []byte
		read  uint64
	}{
		{"torn", whole[:offs[2]+(len(whole)-offs[2])/2], 1}, // the crash came mid-write
		{"corrupt", corrupt(whole, offs[1]+recordHead+recordFixed+6), 2},
		{"not of this format", append([]byte("plumbsum\x09\x00\x00\x00"), whole[len(summaryMagic):]...), 3},
		{"empty", nil, 3},
	} {
		if err := os.WriteFile(path, c.bytes, 0o600); err != nil {
			t.Fatal(err)
		}
		w = newWebMail(d, ms)
		if _, n, err := w.List(ctx, "alice", "INBOX", webadmin.Query{Text: "word"}, 0, 10); err != nil || n != 3 {
			t.Fatalf("%s: search = %d, %v", c.name, n, err)
		}
		if read, _ := w.summaryStats(); read != c.read {
			t.Errorf("%s: %d messages read, want %d", c.name, read, c.read)
		}
		w.close()
		w = newWebMail(d, ms)
		if _, n, err := w.List(ctx, "alice", "INBOX", webadmin.Query{Text: "word"}, 0, 10); err != nil || n != 3 {
			t.Fatalf("%s: search after the repair = %d, %v", c.name, n, err)
		}
		if read, _ := w.summaryStats(); read != 0 {
			t.Errorf("%s: %d messages read after the repair, want 0", c.name, read)
		}
		w.close()
		if n := summaryCount(t, d); n != 3 {
			t.Errorf("%s: %d records after the repair, want 3", c.name, n)
		}
	}
}

// corrupt returns b with the byte at i changed.
func corrupt(b []byte, i int) []byte {
	out := bytes.Clone(b)
	out[i] ^= 0x20
	return out
}

// TestSummaryOldFile: a summary file of the JSON lines of before is
// removed at start, and its folder summarized again in one pass.
func TestSummaryOldFile(t *testing.T) {
	d, _ := startSMTPDaemon(t, nil)
	ms, _ := d.MailStore()
	writeBehind(t, ms, 0, 5)
	old := strings.TrimSuffix(summaryPath(d.DataDir(), "alice", mailstore.Inbox), ".sum") + ".jsonl"
	os.MkdirAll(filepath.Dir(old), 0o700)
	if err := os.WriteFile(old, []byte(`{"k":"x","s":{},"q":"","h":""}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := newWebMail(d, ms)
	defer w.close()
	testkit.Eventually(t, 5*time.Second, "the pass at start", func() bool {
		read, _ := w.summaryStats()
		return read == 5
	})
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("the old file is still there: %v", err)
	}
	testkit.Eventually(t, 5*time.Second, "the new file", func() bool { return summaryCount(t, d) == 5 })
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
	testkit.Eventually(t, 5*time.Second, "the APPEND summarized", func() bool { return summaryCount(t, d) == 1 })
	if _, err := c.Select(ctx, "INBOX", false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Move(ctx, true, imap.SeqSetOf(uid), "Archive"); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 5*time.Second, "the moved copy summarized", func() bool {
		n, _ := summaryRecords(t, d, "Archive")
		return n == 1
	})
	if got, n, err := w.List(ctx, "alice", "Archive", webadmin.Query{Subject: "appended"}, 0, 10); err != nil || n != 1 || got[0].Subject != "appended" {
		t.Fatalf("search of Archive = %+v, %d, %v", got, n, err)
	}
	if read, _ := w.summaryStats(); read != 2 {
		t.Errorf("%d messages read, want 2 (at the APPEND and the MOVE, none for the search)", read)
	}
}

// TestSummaryLoad: a summary file written in appends and rewritten
// when most of its records are stale loads whole, and a folder's
// summaries of gone messages are forgotten and their bytes given back.
func TestSummaryLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sum")
	v := &webFolder{sums: newFlatSums(0), path: path, loaded: true, end: -1}
	const n = 3000
	for i := range n {
		v.keep(fmt.Sprintf("key%d", i), &summary{Search: strings.Repeat(fmt.Sprint(i%10), 300+i%700)}) // of uneven length
		if i%1000 == 999 {
			v.flush()
		}
	}
	w := &webFolder{sums: newFlatSums(0), path: path, end: -1}
	w.load()
	if w.sums.len() != n || w.records != n {
		t.Fatalf("load: %d summaries of %d records, want %d", w.sums.len(), w.records, n)
	}
	if r, ok := w.sums.get("key1234"); !ok || r.summary().Search != strings.Repeat("4", 300+1234%700) {
		t.Errorf("key1234: %v", ok)
	}
	w.sums.keep(func(key []byte) bool { return string(key) == "key7" })
	if r, ok := w.sums.get("key7"); w.sums.len() != 1 || !ok || len(w.sums.chunks) != 1 || len(w.sums.chunks[0]) != len(r)+recordHead {
		t.Errorf("after keeping one: %d summaries in %d chunks", w.sums.len(), len(w.sums.chunks))
	}
	w.records = 2*1 + 1024 + 1 // stale: rewritten
	w.flush()
	if b, _ := os.ReadFile(path); len(b) != len(summaryMagic)+len(w.sums.whole(w.sums.ref("key7"))) {
		t.Errorf("the rewritten file has %d bytes", len(b))
	}
}

// TestSummaryFileRemoved: a summary file removed behind the daemon is
// made again by the next append, whole, with a header.
func TestSummaryFileRemoved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sum")
	v := &webFolder{sums: newFlatSums(0), path: path, end: -1}
	v.keep("a", &summary{Search: "one"})
	v.keep("b", &summary{Search: "two"})
	v.flush()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	v.keep("c", &summary{Search: "three"})
	v.flush()
	b, _ := os.ReadFile(path)
	if end, n := walkSummaries(b, nil); n != 1 || end != len(b) {
		t.Errorf("the file made again has %d records, ending at %d of %d bytes", n, end, len(b))
	}
}

// TestFlatSumsClash: two keys of one hash are both found.
func TestFlatSumsClash(t *testing.T) {
	f := newFlatSums(0)
	f.add(encodeRecord("a", &summary{Search: "first"}))
	f.index[maphash.String(f.seed, "b")] = f.index[maphash.String(f.seed, "a")] // b's hash is a's record's
	f.add(encodeRecord("b", &summary{Search: "second"}))
	if len(f.clash) != 1 {
		t.Fatalf("%d keys in clash, want b", len(f.clash))
	}
	if r, ok := f.get("a"); !ok || r.summary().Search != "first" {
		t.Errorf("a: %v", ok)
	}
	if r, ok := f.get("b"); !ok || r.summary().Search != "second" {
		t.Errorf("b: %v", ok)
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

// TestSummaryFileMapped: a loaded summary file is mapped (on Linux) and
// read from the mapping; forgetting most of it copies the rest out and
// unmaps it; and a file that is found shorter than the mapping (put in
// its place behind the daemon) is written again whole, never cut below
// what the mapping holds.
func TestSummaryFileMapped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sum")
	w := &webFolder{sums: newFlatSums(0), path: path, end: -1}
	for _, k := range []string{"a", "b", "c"} {
		w.keep(k, &summary{Search: "text of " + k})
	}
	w.flush()
	short, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	v := &webFolder{sums: newFlatSums(0), path: path, end: -1}
	v.load()
	if runtime.GOOS == "linux" && v.sums.mapped == nil {
		t.Fatal("the summary file is not mapped")
	}
	for _, k := range []string{"a", "b", "c"} {
		if r, ok := v.sums.get(k); !ok || r.summary().Search != "text of "+k {
			t.Fatalf("%s: not found in the loaded file", k)
		}
	}

	// Another file of only a's record is put in the mapped one's place.
	end, n := walkSummaries(short, nil)
	if c := countRecords(short); c != n || n != 3 {
		t.Fatalf("%d records counted, %d walked, want 3", c, n)
	}
	first := len(summaryMagic) + recordHead + int(binary.LittleEndian.Uint32(short[len(summaryMagic):]))
	if end != len(short) || first >= end {
		t.Fatalf("bad test file: %d records' end %d, first ends at %d", len(short), end, first)
	}
	if err := atomicfile.WriteFile(path, short[:first], 0o600); err != nil {
		t.Fatal(err)
	}
	v.end = -1 // as after a failed write: found again from the file
	v.keep("d", &summary{Search: "text of d"})
	v.flush()
	b, _ := os.ReadFile(path)
	keys := map[string]bool{}
	walkSummaries(b, func(r sumRec, _ int) { keys[string(r.key())] = true })
	if len(keys) != 4 {
		t.Errorf("after the flush the file holds %v, want a, b, c and d", keys)
	}

	v.sums.keep(func(key []byte) bool { return string(key) == "d" })
	if v.sums.mapped != nil {
		t.Error("the mapping is kept after most of it was forgotten")
	}
	if r, ok := v.sums.get("d"); !ok || r.summary().Search != "text of d" {
		t.Error("d lost by the copy")
	}
	if _, ok := v.sums.get("a"); ok {
		t.Error("a kept")
	}
}

// TestSummaryRefsFor: each place refsFor gives holds its message's
// record, through a listing that grows, a new listing, and a copy of
// the records that moves every place; for a listing that only grew,
// only the appended messages are looked up.
func TestSummaryRefsFor(t *testing.T) {
	v := &webFolder{sums: newFlatSums(0), end: -1, path: filepath.Join(t.TempDir(), "s.sum"), loaded: true}
	msgs := make([]mailstore.Message, 0, 8)
	for i := range 5 {
		k := fmt.Sprint("k", i)
		msgs = append(msgs, mailstore.Message{UID: uint32(i + 1), Key: k})
		if k != "k2" { // k2 has no summary yet
			v.keep(k, &summary{Search: "text " + k})
		}
	}
	check := func(what string, msgs []mailstore.Message) {
		t.Helper()
		refs := v.refsFor(msgs)
		if len(refs) != len(msgs) {
			t.Fatalf("%s: %d places for %d messages", what, len(refs), len(msgs))
		}
		for i, m := range msgs {
			switch {
			case refs[i] == noRef && v.sums.ref(m.Key) != noRef && m.Key != "k2":
				t.Errorf("%s: no place for %s", what, m.Key)
			case refs[i] != noRef && string(v.sums.at(refs[i]).key()) != m.Key:
				t.Errorf("%s: %s's place holds %s", what, m.Key, v.sums.at(refs[i]).key())
			}
		}
	}
	check("first", msgs[:4])
	h := maphash.String(v.sums.seed, "k0")
	ref0 := v.sums.index[h]
	delete(v.sums.index, h) // a lookup of k0 now finds nothing
	if v.refsFor(msgs[:5])[0] != ref0 {
		t.Fatal("k0 looked up again for a listing that only grew")
	}
	v.sums.index[h] = ref0
	if got := v.missing(msgs); len(got) != 1 || got[0].Key != "k2" {
		t.Errorf("missing: %v, want k2", got)
	}
	v.keep("k2", &summary{Search: "text k2"}) // kept after its place was looked for
	if got := v.missing(msgs); len(got) != 0 {
		t.Errorf("missing after k2 was kept: %v", got)
	}
	check("a new listing", slices.Clone(msgs))
	check("grown", msgs)
	v.sums.keep(func(key []byte) bool { return string(key) == "k0" || string(key) == "k2" })
	if v.sums.gen == 0 {
		t.Fatal("the records were not copied")
	}
	check("after the copy", msgs) // the same listing: every place is found again
}
