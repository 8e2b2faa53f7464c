// Command webadmin benchmarks the admin REST API with a large mailbox
// and many live watchers (issue 12, section 6):
//
//   - the first page of a 100,000-message INBOX and a search in it
//     (target: under 200 ms), cold (the first request after start, which
//     summarizes what it needs), warm, and right after a delivery;
//   - server-sent events to 1,000 watchers of that mailbox: the time
//     from a delivery over SMTP to each watcher's event (target: p99
//     within 100 ms).
//
// No other local mail catcher with a REST API ships in Debian, so the
// run has plumb alone and reports each figure against its target.
//
// Usage:
//
//	go build -o plumb ./cmd/plumb
//	go run ./bench/webadmin -plumb ./plumb
//	go run ./bench/webadmin -plumb ./plumb -n 200 -watchers 10 -deliveries 3 -rounds 3   # a smoke run
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	var (
		plumbBin   = flag.String("plumb", "plumb", "the plumb binary")
		count      = flag.Int("n", 100000, "messages in the mailbox")
		watchers   = flag.Int("watchers", 1000, "SSE watchers of the mailbox")
		deliveries = flag.Int("deliveries", 20, "deliveries timed to the watchers")
		rounds     = flag.Int("rounds", 20, "timed requests per list measurement")
	)
	flag.Parse()
	if err := run(*plumbBin, *count, *watchers, *deliveries, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "bench/webadmin:", err)
		os.Exit(1)
	}
}

const user = "bench"

// message is the i-th message; one in 1000 has the word the search looks for.
func message(i int) string {
	subject := fmt.Sprintf("Order %d shipped", i)
	if i%1000 == 7 {
		subject = fmt.Sprintf("Password reset %d", i)
	}
	return fmt.Sprintf("From: Shop <shop%d@example.com>\r\nTo: %s@localhost\r\nSubject: %s\r\n"+
		"Date: Mon, 02 Jan 2026 15:04:05 +0000\r\nMessage-ID: <%d@bench>\r\n\r\n"+
		"Hello,\r\n\r\nyour order %d is on its way. Track it in your account.\r\n%s\r\n",
		i%97, user, subject, i, i, strings.Repeat("Lorem ipsum dolor sit amet. ", 40))
}

func run(plumbBin string, count, watchers, deliveries, rounds int) error {
	dir, err := os.MkdirTemp("", "plumb-bench-webadmin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	data := filepath.Join(dir, "data")
	// The Maildir is written directly, as another MTA would leave it:
	// the store gives the files UIDs when the folder is first listed.
	inbox := filepath.Join(data, "mail", user)
	for _, sub := range []string{"new", "cur", "tmp"} {
		if err := os.MkdirAll(filepath.Join(inbox, sub), 0o700); err != nil {
			return err
		}
	}
	fmt.Printf("writing %d messages...\n", count)
	for i := range count {
		m := message(i)
		name := fmt.Sprintf("%d.M%dP1.bench,S=%d:2,", 1700000000+i, i, len(m))
		if err := os.WriteFile(filepath.Join(inbox, "cur", name), []byte(m), 0o600); err != nil {
			return err
		}
	}
	admin, smtpAddr, stop, err := startPlumb(plumbBin, dir, data)
	if err != nil {
		return err
	}
	defer stop()
	base := "http://" + admin
	list := base + "/api/messages?user=" + user + "&limit=50"
	search := base + "/api/messages?user=" + user + "&limit=50&q=password+reset"

	fmt.Printf("\n%d messages in the INBOX (target: under 200 ms)\n", count)
	cold, err := timeGet(list)
	if err != nil {
		return err
	}
	fmt.Printf("  first page, cold (lists the Maildir)      %8.1f ms\n", ms(cold))
	cold, err = timeGet(search)
	if err != nil {
		return err
	}
	fmt.Printf("  search, cold (summarizes every message)   %8.1f ms\n", ms(cold))
	for _, m := range []struct{ name, url string }{{"first page, warm", list}, {"search, warm", search}} {
		var ts []time.Duration
		for range rounds {
			d, err := timeGet(m.url)
			if err != nil {
				return err
			}
			ts = append(ts, d)
		}
		report("  "+m.name, ts, 200*time.Millisecond)
	}
	var after []time.Duration
	for i := range min(rounds, 10) {
		if err := send(smtpAddr, fmt.Sprintf("Subject: fresh %d\r\n\r\nnew\r\n", i)); err != nil {
			return err
		}
		d, err := timeGet(list)
		if err != nil {
			return err
		}
		after = append(after, d)
	}
	report("  first page after a delivery", after, 200*time.Millisecond)

	fmt.Printf("\n%d SSE watchers of the mailbox, %d deliveries (target: p99 within 100 ms)\n", watchers, deliveries)
	lat, err := fanOut(base, smtpAddr, watchers, deliveries)
	if err != nil {
		return err
	}
	report("  delivery to event", lat, 100*time.Millisecond)
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// report prints p50, p99 and max of ts and whether p99 meets target.
func report(name string, ts []time.Duration, target time.Duration) {
	if len(ts) == 0 {
		fmt.Printf("%-44s no samples\n", name)
		return
	}
	slices.Sort(ts)
	p := func(q float64) time.Duration { return ts[min(len(ts)-1, int(q*float64(len(ts))))] }
	verdict := "meets"
	if p(0.99) > target {
		verdict = "MISSES"
	}
	fmt.Printf("%-44s p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms  (%d samples; p99 %s the target, ratio %.2f)\n",
		name, ms(p(0.5)), ms(p(0.99)), ms(ts[len(ts)-1]), len(ts), verdict, float64(p(0.99))/float64(target))
}

func timeGet(url string) (time.Duration, error) {
	start := time.Now()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Total int `json:"total"`
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	d := time.Since(start)
	if resp.StatusCode != 200 || err != nil {
		return 0, fmt.Errorf("GET %s: %s (%v)", url, resp.Status, err)
	}
	return d, nil
}

// send delivers msg over plain SMTP (net/smtp's SendMail would take the
// self-signed STARTTLS and refuse its certificate).
func send(addr, msg string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Mail("shop@example.com"); err != nil {
		return err
	}
	if err := c.Rcpt(user + "@localhost"); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// fanOut opens the watchers, waits until each is subscribed, then
// delivers one message at a time and collects, per watcher, the time
// from the start of the SMTP transaction to its event.
func fanOut(base, smtpAddr string, watchers, deliveries int) ([]time.Duration, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type arrival struct {
		n  int
		at time.Time
	}
	arrivals := make(chan arrival, watchers*deliveries)
	var ready sync.WaitGroup
	ready.Add(watchers)
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: watchers}}
	errs := make(chan error, watchers)
	for range watchers {
		go func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/events?kind=delivery&user="+user, nil)
			resp, err := client.Do(req)
			if err != nil {
				errs <- err
				ready.Done()
				return
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			br.ReadString('\n') // ": plumb events": subscribed
			ready.Done()
			n := 0
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					return
				}
				if strings.HasPrefix(line, "data:") {
					arrivals <- arrival{n, time.Now()}
					n++
				}
			}
		}()
	}
	ready.Wait()
	select {
	case err := <-errs:
		return nil, fmt.Errorf("a watcher: %w", err)
	default:
	}
	var lat []time.Duration
	for i := range deliveries {
		start := time.Now()
		if err := send(smtpAddr, fmt.Sprintf("Subject: watched %d\r\n\r\nhi\r\n", i)); err != nil {
			return nil, err
		}
		deadline := time.After(10 * time.Second)
		for range watchers {
			select {
			case a := <-arrivals:
				lat = append(lat, a.at.Sub(start))
			case <-deadline:
				return lat, fmt.Errorf("delivery %d: not every watcher got its event within 10s", i)
			}
		}
	}
	return lat, nil
}

// startPlumb runs plumb serve with SMTP and the admin listener only and
// returns their addresses.
func startPlumb(bin, dir, data string) (admin, smtpAddr string, stop func(), err error) {
	add := exec.Command(bin, "user", "add", user, "--data", data)
	add.Stdin = strings.NewReader("bench-password\n")
	if out, err := add.CombinedOutput(); err != nil {
		return "", "", nil, fmt.Errorf("plumb user add: %v: %s", err, out)
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "data = %q\nlisten = \"127.0.0.1\"\n[log]\nlevel = \"warn\"\n[accounts]\nfirst_user = \"\"\n[smtp]\naddr = \"127.0.0.1:0\"\npostmaster = \"%s\"\n[admin]\naddr = \"127.0.0.1:0\"\n", data, user)
	for _, s := range []string{"echo", "discard", "daytime", "qotd", "chargen", "time", "ftp", "ftp.ftps", "http", "http.https",
		"smtp.submission", "smtp.submissions", "pop3", "pop3.pop3s", "imap", "imap.imaps", "nntp", "nntp.nntps", "finger", "gopher", "gopher.tls"} {
		fmt.Fprintf(&cfg, "[%s]\nenabled = false\n", s)
	}
	cfgFile := filepath.Join(dir, "plumb.toml")
	if err := os.WriteFile(cfgFile, []byte(cfg.String()), 0o600); err != nil {
		return "", "", nil, err
	}
	cmd := exec.Command(bin, "serve", "--config", cfgFile)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", "", nil, err
	}
	stop = func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
	addrs := map[string]string{}
	sc := bufio.NewScanner(out)
	inTable := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 && f[0] == "SERVICE" {
			inTable = true
			continue
		}
		if inTable && len(f) == 0 {
			break
		}
		if inTable && len(f) >= 3 {
			addrs[f[0]] = f[2]
		}
	}
	go io.Copy(io.Discard, out)
	if addrs["admin"] == "" || addrs["smtp"] == "" {
		stop()
		return "", "", nil, fmt.Errorf("plumb serve printed no admin or smtp address: %v", addrs)
	}
	if _, err := net.DialTimeout("tcp", addrs["admin"], 5*time.Second); err != nil {
		stop()
		return "", "", nil, err
	}
	return addrs["admin"], addrs["smtp"], stop, nil
}
