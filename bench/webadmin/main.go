// Command webadmin benchmarks the admin listener of plumb serve, its
// REST API and its web console, against the targets of issue 12,
// section 6, with one large mailbox (100,000 messages by default):
//
//   - the first page of the INBOX and a search in it, from the API
//     (/api/messages) and from the console (/mail/bench/INBOX), under
//     200 ms: cold (the first request of its kind after start), warm,
//     and right after a delivery over SMTP;
//   - a delivery reaches 1,000 watchers of that mailbox within 100 ms,
//     measured twice: 1,000 watchers of the API's event stream
//     (/api/events), then 1,000 open live lists of the console.
//
// Every answer is checked for what it should show (the newest message,
// the newest match, the number of matches, the delivered message's UID
// or row), so a fast wrong answer fails the run.
//
// No other program serves this API or console, so there is no peer in
// the run: each figure is reported beside its target, as a ratio of its
// p99 (under 1.00 meets it).
//
// The mailbox is written once, before the daemon starts, the way the
// store leaves deliveries: each message in new/ under a name of the
// store's shape (time, size, CRLF size) with its arrival as mtime, and
// then the store's own listing gives the UIDs in arrival order and
// writes the UID list. That skips the three fsyncs per message of a
// delivery, which the measured requests never see.
//
// Usage:
//
//	go build -o plumb ./cmd/plumb
//	go run ./bench/webadmin -plumb ./plumb
//	go run ./bench/webadmin -plumb ./plumb -n 200 -watchers 10 -deliveries 2 -rounds 3   # a smoke run
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/plumbnet/plumb/internal/mailstore"
)

func main() {
	var (
		plumbBin   = flag.String("plumb", "plumb", "the plumb binary")
		count      = flag.Int("n", 100000, "messages in the mailbox (at least 8)")
		size       = flag.Int("size", 2048, "approximate bytes per message")
		rounds     = flag.Int("rounds", 20, "warm requests per kind (and up to 10 after a delivery)")
		watchers   = flag.Int("watchers", 1000, "watchers of each event stream")
		deliveries = flag.Int("deliveries", 20, "deliveries timed to the watchers of each stream")
	)
	flag.Parse()
	if *count < 8 || *rounds < 1 || *watchers < 1 || *deliveries < 1 {
		fmt.Fprintln(os.Stderr, "bench/webadmin: want -n >= 8 and -rounds, -watchers, -deliveries >= 1")
		os.Exit(2)
	}
	if err := run(*plumbBin, *count, *size, *rounds, *watchers, *deliveries); err != nil {
		fmt.Fprintln(os.Stderr, "bench/webadmin:", err)
		os.Exit(1)
	}
}

const user = "bench"

// Targets of issue 12, section 6.
const (
	pageTarget   = 200 * time.Millisecond
	fanoutTarget = 100 * time.Millisecond
)

// message returns message i, of about size bytes, CRLF throughout; one
// in a thousand (i%1000 == 7) has the word "zzqx" in its body.
func message(i, size int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: sender%d@example.org\r\nTo: %s@localhost\r\nSubject: message %d\r\n"+
		"Date: Mon, 02 Jan 2026 15:04:05 +0000\r\nMessage-ID: <%d@bench>\r\n\r\n", i%97, user, i, i)
	r := rand.New(rand.NewPCG(uint64(i), 2))
	if i%1000 == 7 {
		b.WriteString("zzqx\r\n")
	}
	for b.Len() < size {
		line := make([]byte, 60+r.IntN(16))
		for j := range line {
			line[j] = 'a' + byte(r.IntN(26))
		}
		b.Write(line)
		b.WriteString("\r\n")
	}
	return b.String()
}

// The word search's matches among messages 0..n-1.
func matches(n int) int     { return (n-8)/1000 + 1 }
func newestMatch(n int) int { return 7 + 1000*((n-8)/1000) }

// writeMailbox writes messages 0..count-1 into user's INBOX under data
// and checks that the store lists them as UIDs 1..count.
func writeMailbox(data string, count, size int) error {
	st, err := mailstore.Open(filepath.Join(data, "mail"))
	if err != nil {
		return err
	}
	ctx := context.Background()
	mb, err := st.Mailbox(ctx, user, "INBOX") // makes the Maildir
	if err != nil {
		return err
	}
	defer mb.Close()
	newDir := filepath.Join(data, "mail", user, "new")
	first := time.Now().Add(-time.Duration(count) * time.Second)
	for i := range count {
		m := message(i, size)
		at := first.Add(time.Duration(i) * time.Second)
		// All CRLF, so the CRLF size (W=) is the size.
		name := fmt.Sprintf("%d.M%dP%dQ%d.bench,S=%d,W=%d", at.Unix(), i%1000000, os.Getpid(), i+1, len(m), len(m))
		p := filepath.Join(newDir, name)
		if err := os.WriteFile(p, []byte(m), 0o600); err != nil {
			return err
		}
		if err := os.Chtimes(p, at, at); err != nil {
			return err
		}
	}
	msgs, err := mb.Messages(ctx)
	if err != nil {
		return err
	}
	if len(msgs) != count || msgs[0].UID != 1 || msgs[count-1].UID != uint32(count) {
		return fmt.Errorf("the store lists %d messages, not UIDs 1..%d", len(msgs), count)
	}
	return nil
}

// A kind is one request measured: its path and the check of its answer
// when the mailbox holds messages 0..n-1.
type kind struct {
	name, path string
	check      func(body []byte, n int) error
}

func kinds(count int) []kind {
	apiList := func(total func(int) int, newest func(int) int) func([]byte, int) error {
		return func(body []byte, n int) error {
			var l struct {
				Messages []struct{ Subject string }
				Total    int
			}
			if err := json.Unmarshal(body, &l); err != nil {
				return err
			}
			want := fmt.Sprintf("message %d", newest(n))
			if l.Total != total(n) || len(l.Messages) == 0 || l.Messages[0].Subject != want {
				return fmt.Errorf("want %d messages, %q first; got %d, %.200s", total(n), want, l.Total, body)
			}
			return nil
		}
	}
	html := func(want func(int) string) func([]byte, int) error {
		return func(body []byte, n int) error {
			if !strings.Contains(string(body), want(n)) {
				return fmt.Errorf("no %q in the page", want(n))
			}
			return nil
		}
	}
	self := func(n int) int { return n }
	last := func(n int) int { return n - 1 }
	row := func(i func(int) int) func(int) string {
		return func(n int) string { return fmt.Sprintf(">message %d<", i(n)) }
	}
	opened := count / 3
	return []kind{
		{"API first page", "/api/messages?user=" + user + "&limit=50", apiList(self, last)},
		{"console first page", "/mail/" + user + "/INBOX", html(row(last))},
		{"API search (a word)", "/api/messages?user=" + user + "&limit=50&q=zzqx", apiList(matches, newestMatch)},
		{"console search (a word)", "/mail/" + user + "/INBOX?q=zzqx", html(row(newestMatch))},
		{"console message page", fmt.Sprintf("/mail/%s/INBOX/%d", user, opened+1),
			html(func(int) string { return fmt.Sprintf("<h1>message %d</h1>", opened) })},
	}
}

func run(plumbBin string, count, size, rounds, watchers, deliveries int) error {
	dir, err := os.MkdirTemp("", "plumb-bench-webadmin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	data := filepath.Join(dir, "data")
	fmt.Printf("writing %d messages of ~%d bytes...\n", count, size)
	start := time.Now()
	if err := writeMailbox(data, count, size); err != nil {
		return err
	}
	fmt.Printf("written in %.1fs\n", time.Since(start).Seconds())
	p, err := startPlumb(plumbBin, dir, data)
	if err != nil {
		return err
	}
	defer p.stop()
	client := &http.Client{Timeout: time.Minute}
	base := "http://" + p.admin
	n := count // messages in the mailbox
	ks := kinds(count)
	get := func(k kind) (time.Duration, error) {
		d, err := timeGet(client, base+k.path, func(b []byte) error { return k.check(b, n) })
		if err != nil {
			return 0, fmt.Errorf("%s: %w", k.name, err)
		}
		return d, nil
	}

	// Cold: the first request of each kind, in the order listed (the
	// first lists the Maildir, the first search summarizes every
	// message); warm: rounds of each, interleaved, so that a change in
	// the machine's load hits every kind alike; after: a delivery over
	// SMTP, then the request at once.
	cold := make([]time.Duration, len(ks))
	warm := make([][]time.Duration, len(ks))
	after := make([][]time.Duration, len(ks))
	for i, k := range ks {
		if cold[i], err = get(k); err != nil {
			return err
		}
	}
	for range rounds {
		for i, k := range ks {
			d, err := get(k)
			if err != nil {
				return err
			}
			warm[i] = append(warm[i], d)
		}
	}
	for range min(rounds, 10) {
		for i, k := range ks {
			if _, err := send(p.smtp, message(n, size)); err != nil {
				return err
			}
			n++
			d, err := get(k)
			if err != nil {
				return fmt.Errorf("after a delivery: %w", err)
			}
			after[i] = append(after[i], d)
		}
	}
	fmt.Printf("\n%d messages in the INBOX; target %s; ratio = the worse p99 / target\n", count, ms(pageTarget))
	fmt.Printf("%-26s %9s %9s %9s %9s %9s %7s\n", "request", "cold", "warm p50", "warm p99", "after p50", "after p99", "ratio")
	for i, k := range ks {
		w50, w99 := percentiles(warm[i])
		a50, a99 := percentiles(after[i])
		fmt.Printf("%-26s %9s %9s %9s %9s %9s %7.2f\n", k.name, ms(cold[i]), ms(w50), ms(w99), ms(a50), ms(a99),
			float64(max(w99, a99))/float64(pageTarget))
	}

	fmt.Printf("\nfan-out: %d deliveries, each to %d watchers of one stream (from the end of DATA to the event); target %s\n",
		deliveries, watchers, ms(fanoutTarget))
	fmt.Printf("%-26s %9s %9s %9s %7s\n", "stream", "p50", "p99", "max", "ratio")
	streams := []struct {
		name, path string
		check      func(data string, n int) error // n: messages after the delivery
	}{
		{"API /api/events", "/api/events?kind=delivery&user=" + user, func(data string, n int) error {
			var ev struct {
				Kind    string
				Message struct {
					User, Folder string
					UID          uint32
				}
			}
			if err := json.Unmarshal([]byte(data), &ev); err != nil {
				return err
			}
			if ev.Kind != "delivery" || ev.Message.User != user || ev.Message.Folder != "INBOX" || ev.Message.UID != uint32(n) {
				return fmt.Errorf("want the delivery of UID %d to %s's INBOX, got %s", n, user, data)
			}
			return nil
		}},
		{"console live list", "/mail/" + user + "/INBOX/events", func(data string, n int) error {
			if want := fmt.Sprintf(">message %d<", n-1); !strings.Contains(data, want) {
				return fmt.Errorf("no %q in the row %.200s", want, data)
			}
			return nil
		}},
	}
	for _, s := range streams {
		n0 := n
		lat, err := fanOut(base+s.path, p.smtp, watchers, deliveries,
			func(k int) string { return message(n0+k, size) },
			func(data string, k int) error { return s.check(data, n0+k+1) })
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		n += deliveries
		p50, p99 := percentiles(lat)
		fmt.Printf("%-26s %9s %9s %9s %7.2f\n", s.name, ms(p50), ms(p99), ms(slices.Max(lat)), float64(p99)/float64(fanoutTarget))
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

// percentiles returns the p50 and p99 of ts.
func percentiles(ts []time.Duration) (p50, p99 time.Duration) {
	s := slices.Clone(ts)
	slices.Sort(s)
	p := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return p(0.5), p(0.99)
}

// timeGet times one GET to its last byte and checks the answer.
func timeGet(c *http.Client, url string, check func([]byte) error) (time.Duration, error) {
	start := time.Now()
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = errors.New(resp.Status)
	}
	if err == nil {
		err = check(body)
	}
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", url, err)
	}
	return d, nil
}
