// Command console benchmarks the web console of plumb serve against the
// targets of issue 12: with one large mailbox (100,000 messages by
// default), the first page of the message list and a search answer in
// under 200 ms, and a delivery reaches 1,000 open live lists of that
// mailbox within 100 ms.
//
// Usage:
//
//	go build -o plumb ./cmd/plumb
//	go run ./bench/console -plumb ./plumb
//
// No other program serves this console, so there is no peer in the run:
// each figure is reported beside its target, as a ratio (under 1.00
// meets it). The messages are written once, through plumb's own store,
// before the daemon starts; the first (cold) request of each kind is
// reported apart from the best and median of the timed rounds.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
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

	"github.com/plumbnet/plumb/internal/mailstore"
)

func main() {
	var (
		plumbBin = flag.String("plumb", "plumb", "the plumb binary")
		count    = flag.Int("n", 100000, "messages in the mailbox")
		size     = flag.Int("size", 2048, "approximate bytes per message")
		rounds   = flag.Int("rounds", 20, "timed requests per kind")
		watchers = flag.Int("watchers", 1000, "open live lists for the fan-out")
	)
	flag.Parse()
	if err := run(*plumbBin, *count, *size, *rounds, *watchers); err != nil {
		fmt.Fprintln(os.Stderr, "bench/console:", err)
		os.Exit(1)
	}
}

const user = "bench"

// Targets of issue 12, section 6.
const (
	pageTarget   = 200 * time.Millisecond
	fanoutTarget = 100 * time.Millisecond
)

func run(plumbBin string, count, size, rounds, watchers int) error {
	dir, err := os.MkdirTemp("", "plumb-bench-console-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	data := filepath.Join(dir, "data")
	st, err := mailstore.Open(filepath.Join(data, "mail"))
	if err != nil {
		return err
	}
	fmt.Printf("writing %d messages of ~%d bytes...\n", count, size)
	for i := range count {
		if _, err := st.Deliver(context.Background(), user, "", strings.NewReader(message(i, size))); err != nil {
			return err
		}
	}
	admin, smtpAddr, stop, err := startPlumb(plumbBin, dir, data)
	if err != nil {
		return err
	}
	defer stop()
	base := "http://" + admin + "/mail/" + user + "/INBOX"
	client := &http.Client{Timeout: time.Minute}

	fmt.Println()
	fmt.Printf("%-34s %9s %9s %9s %9s %7s\n", "request", "cold", "best", "median", "target", "ratio")
	// Each answer must show what it is for: the newest message first,
	// the one searched for, the one opened.
	for _, k := range []struct{ name, url, want string }{
		{"first page of the list", base, fmt.Sprintf(">message %d<", count-1)},
		{"search: a subject", base + "?q=" + "subject:%22message+" + fmt.Sprint(count/2) + "%22", fmt.Sprintf(">message %d<", count/2)},
		{"search: a word", base + "?q=zzqx", ">message 7<"},
		{"a message", base + "/" + fmt.Sprint(count/3+1), fmt.Sprintf("<h1>message %d</h1>", count/3)},
	} {
		var times []time.Duration
		for range rounds + 1 {
			d, err := timeGet(client, k.url, k.want)
			if err != nil {
				return fmt.Errorf("%s: %w", k.name, err)
			}
			times = append(times, d)
		}
		cold, rest := times[0], slices.Clone(times[1:])
		slices.Sort(rest)
		med := rest[len(rest)/2]
		fmt.Printf("%-34s %9s %9s %9s %9s %7.2f\n", k.name, ms(cold), ms(rest[0]), ms(med), ms(pageTarget),
			float64(med)/float64(pageTarget))
	}

	lat, err := fanout(admin, smtpAddr, watchers)
	if err != nil {
		return fmt.Errorf("fan-out: %w", err)
	}
	slices.Sort(lat)
	fmt.Printf("\nfan-out of one delivery to %d live lists (from the end of DATA to each list's row):\n", watchers)
	fmt.Printf("  p50 %s  p99 %s  max %s  target %s  ratio(max) %.2f\n", ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]),
		ms(lat[len(lat)-1]), ms(fanoutTarget), float64(lat[len(lat)-1])/float64(fanoutTarget))
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

// timeGet times one GET to its last byte and checks that the page has
// want in it.
func timeGet(c *http.Client, url, want string) (time.Duration, error) {
	start := time.Now()
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if !strings.Contains(string(body), want) {
		return 0, fmt.Errorf("GET %s: no %q in the page", url, want)
	}
	return d, nil
}

// fanout opens n live lists (the console's event stream), delivers one
// message over SMTP, and returns how long each list waited for its row.
func fanout(admin, smtpAddr string, n int) ([]time.Duration, error) {
	url := "http://" + admin + "/mail/" + user + "/INBOX/events"
	tr := &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: n}
	client := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ready, done sync.WaitGroup
	got := make([]time.Time, n)
	errs := make(chan error, n)
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
			resp, err := client.Do(req)
			if err != nil {
				ready.Done()
				errs <- err
				return
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			if _, err := br.ReadString('\n'); err != nil { // ": plumb events": subscribed
				ready.Done()
				errs <- err
				return
			}
			ready.Done()
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					errs <- err
					return
				}
				if strings.HasPrefix(line, "event: delivery") {
					got[i] = time.Now()
					return
				}
			}
		}()
	}
	ready.Wait()
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	c, err := smtp.Dial(smtpAddr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	msg := message(-1, 512)
	if err := c.Mail("fanout@example.org"); err != nil {
		return nil, err
	}
	if err := c.Rcpt(user + "@localhost"); err != nil {
		return nil, err
	}
	w, err := c.Data()
	if err != nil {
		return nil, err
	}
	io.WriteString(w, msg)
	sent := time.Now() // the final dot goes out in Close
	if err := w.Close(); err != nil {
		return nil, err
	}
	c.Quit()
	finished := make(chan struct{})
	go func() { done.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("not every list got the row within 30s")
	}
	var out []time.Duration
	for _, t := range got {
		if t.IsZero() {
			select {
			case err := <-errs:
				return nil, fmt.Errorf("a list's stream ended without the row: %w", err)
			default:
				return nil, fmt.Errorf("a list's stream ended without the row")
			}
		}
		out = append(out, max(0, t.Sub(sent)))
	}
	return out, nil
}

// message returns a plausible message of about size bytes; one in a
// thousand has the word "zzqx" in its body, for the word search.
func message(i, size int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: sender%d@example.org\r\nTo: %s@localhost\r\nSubject: message %d\r\nMessage-ID: <%d@bench>\r\n\r\n", i, user, i, i)
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

// startPlumb runs plumb serve with SMTP and the admin listener on free
// loopback ports and returns their addresses.
func startPlumb(bin, dir, data string) (admin, smtpAddr string, stop func(), err error) {
	add := exec.Command(bin, "user", "add", user, "--data", data)
	add.Stdin = strings.NewReader("bench-password\n")
	if out, err := add.CombinedOutput(); err != nil {
		return "", "", nil, fmt.Errorf("plumb user add: %v: %s", err, out)
	}
	cfg := fmt.Sprintf("data = %q\nlisten = \"127.0.0.1\"\n[log]\nlevel = \"warn\"\n[admin]\naddr = \"127.0.0.1:0\"\n[smtp]\naddr = \"127.0.0.1:0\"\n", data)
	for _, s := range []string{"echo", "discard", "daytime", "qotd", "chargen", "time", "ftp", "ftp.ftps",
		"smtp.submission", "smtp.submissions", "pop3", "pop3.pop3s", "imap", "imap.imaps", "nntp", "nntp.nntps",
		"http", "http.https", "finger", "gopher", "gopher.tls"} {
		cfg += fmt.Sprintf("[%s]\nenabled = false\n", s)
	}
	cfgFile := filepath.Join(dir, "plumb.toml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		return "", "", nil, err
	}
	cmd := exec.Command(bin, "serve", "--config", cfgFile)
	cmd.Stderr = os.Stderr
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return "", "", nil, err
	}
	stop = func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }
	sc := bufio.NewScanner(stdout)
	inTable := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) > 0 && f[0] == "SERVICE":
			inTable = true
		case inTable && len(f) == 0:
			go io.Copy(io.Discard, stdout)
			if admin == "" || smtpAddr == "" {
				stop()
				return "", "", nil, fmt.Errorf("plumb serve's table has no admin or smtp line")
			}
			return admin, smtpAddr, stop, nil
		case inTable && len(f) >= 3 && f[0] == "admin":
			admin = f[2]
		case inTable && len(f) >= 3 && f[0] == "smtp":
			smtpAddr = f[2]
		}
	}
	stop()
	return "", "", nil, fmt.Errorf("plumb serve ended before printing its table")
}
