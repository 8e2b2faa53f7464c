package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
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

// daemon is a running plumb serve.
type daemon struct {
	admin, smtp string // addresses
	stop        func()
}

// configure adds the user and writes the config of plumb serve with
// SMTP and the admin listener only, on free loopback ports, over data;
// it returns the config file.
func configure(bin, dir, data string) (string, error) {
	add := exec.Command(bin, "user", "add", user, "--data", data)
	add.Stdin = strings.NewReader("bench-password\n")
	if out, err := add.CombinedOutput(); err != nil {
		return "", fmt.Errorf("plumb user add: %v: %s", err, out)
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "data = %q\nlisten = \"127.0.0.1\"\n[log]\nlevel = \"warn\"\n[accounts]\nfirst_user = \"\"\n"+
		"[smtp]\naddr = \"127.0.0.1:0\"\npostmaster = %q\n[admin]\naddr = \"127.0.0.1:0\"\n", data, user)
	for _, s := range []string{"echo", "discard", "daytime", "qotd", "chargen", "time", "ftp", "ftp.ftps", "http", "http.https",
		"smtp.submission", "smtp.submissions", "pop3", "pop3.pop3s", "imap", "imap.imaps", "nntp", "nntp.nntps",
		"finger", "gopher", "gopher.tls"} {
		fmt.Fprintf(&cfg, "[%s]\nenabled = false\n", s)
	}
	cfgFile := filepath.Join(dir, "plumb.toml")
	return cfgFile, os.WriteFile(cfgFile, []byte(cfg.String()), 0o600)
}

// daemonGodebug is the GODEBUG plumb serve runs with (-godebug); with
// one, each delivery of the fan-out is noted on standard error at its
// time since the daemon started, to be lined up with the daemon's trace
// (gctrace's "@…s").
var (
	daemonGodebug string
	daemonStarted time.Time
)

// startPlumb runs plumb serve with cfgFile (see configure).
func startPlumb(bin, cfgFile string) (*daemon, error) {
	cmd := exec.Command(bin, "serve", "--config", cfgFile)
	if daemonGodebug != "" {
		cmd.Env = append(os.Environ(), "GODEBUG="+daemonGodebug)
	}
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	daemonStarted = time.Now()
	d := &daemon{stop: func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }}
	// The service table: a SERVICE header, a line per listener
	// (name, protocol, address, ...), a blank line.
	sc := bufio.NewScanner(stdout)
	inTable := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) > 0 && f[0] == "SERVICE":
			inTable = true
		case inTable && len(f) == 0:
			go io.Copy(io.Discard, stdout)
			if d.admin == "" || d.smtp == "" {
				d.stop()
				return nil, fmt.Errorf("plumb serve's table has no admin or smtp line")
			}
			return d, nil
		case inTable && len(f) >= 3 && f[0] == "admin":
			d.admin = f[2]
		case inTable && len(f) >= 3 && f[0] == "smtp":
			d.smtp = f[2]
		}
	}
	d.stop()
	return nil, fmt.Errorf("plumb serve ended before printing its table")
}

// send delivers msg to user over plain SMTP (net/smtp's SendMail would
// take the self-signed STARTTLS and refuse its certificate) and returns
// when the final dot went out.
func send(addr, msg string) (sent, acked time.Time, err error) {
	c, err := smtp.Dial(addr)
	if err != nil {
		return sent, acked, err
	}
	defer c.Close()
	var w io.WriteCloser
	if err = c.Mail("shop@example.com"); err == nil {
		err = c.Rcpt(user + "@localhost")
	}
	if err == nil {
		w, err = c.Data()
	}
	if err == nil {
		_, err = io.WriteString(w, msg)
	}
	sent = time.Now() // Close writes the final dot and reads the reply
	if err == nil {
		err = w.Close()
	}
	acked = time.Now()
	if err == nil {
		err = c.Quit()
	}
	return sent, acked, err
}

// arrival is a watcher's k-th delivery event, or why its stream failed.
type arrival struct {
	k   int
	at  time.Time
	err error
}

// fanOut opens n watchers of the event stream at url, waits until each
// is subscribed, then delivers msg(k) for k = 0..deliveries-1, one at a
// time, and returns, per watcher and delivery, the time from the end of
// DATA to the event. Each event's data must hold want(k).
func fanOut(url, smtpAddr string, n, deliveries int, msg, want func(k int) string) ([]time.Duration, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: n}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithCancel(context.Background())
	var done sync.WaitGroup
	defer func() { cancel(); done.Wait() }()
	subscribed := make(chan error, n)
	arrivals := make(chan arrival, n*deliveries+n)
	for range n {
		done.Add(1)
		go func() {
			defer done.Done()
			err := watch(ctx, &http.Client{Transport: tr}, url, subscribed, arrivals, want)
			if ctx.Err() == nil {
				arrivals <- arrival{k: -1, err: err}
			}
		}()
	}
	for range n {
		if err := <-subscribed; err != nil {
			return nil, fmt.Errorf("a watcher: %w", err)
		}
	}
	var lat []time.Duration
	var slowest []string // each delivery's last watcher, to tell a one-off from a steady cost
	defer func() { fmt.Printf("  each delivery's slowest watcher: %s\n", strings.Join(slowest, " ")) }()
	for k := range deliveries {
		sent, acked, err := send(smtpAddr, msg(k))
		if err != nil {
			return nil, err
		}
		deadline := time.After(10 * time.Second)
		for range n {
			select {
			case a := <-arrivals:
				if a.err == nil && a.k != k {
					a.err = fmt.Errorf("event %d while delivery %d was awaited", a.k, k)
				}
				if a.err != nil {
					return nil, fmt.Errorf("a watcher, delivery %d: %w", k, a.err)
				}
				lat = append(lat, max(0, a.at.Sub(sent)))
			case <-deadline:
				return nil, fmt.Errorf("delivery %d: not every watcher had its event within 10s", k)
			}
		}
		slowest = append(slowest, ms(slices.Max(lat[len(lat)-n:])))
		if daemonGodebug != "" {
			fmt.Fprintf(os.Stderr, "bench: %s delivery %d sent @%.3fs, acknowledged after %s, fastest watcher %s, slowest %s\n",
				url, k, sent.Sub(daemonStarted).Seconds(), ms(acked.Sub(sent)), ms(slices.Min(lat[len(lat)-n:])), slowest[len(slowest)-1])
		}
	}
	return lat, nil
}

// watch reads the event stream at url: once subscribed (its first line,
// ": plumb events") it says so on subscribed, and then it sends each
// delivery event, checked, to arrivals, until the stream ends.
func watch(ctx context.Context, c *http.Client, url string, subscribed chan<- error, arrivals chan<- arrival, want func(int) string) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := c.Do(req)
	var br *bufio.Reader
	if err == nil {
		defer resp.Body.Close()
		br = bufio.NewReader(resp.Body)
		if _, err = br.ReadString('\n'); err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET %s: %s", url, resp.Status)
		}
	}
	if subscribed <- err; err != nil {
		return err
	}
	var event string
	var data []string
	for k := 0; ; {
		line, err := br.ReadString('\n')
		if err != nil {
			return fmt.Errorf("the stream ended: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(line[len("event:"):])
		case strings.HasPrefix(line, "data:"):
			data = append(data, strings.TrimPrefix(line[len("data:"):], " "))
		case line == "":
			if event == "delivery" {
				a := arrival{k: k, at: time.Now()}
				if d := strings.Join(data, "\n"); !strings.Contains(d, want(k)) {
					a.err = fmt.Errorf("no %s in the event %.300s", want(k), d)
				}
				arrivals <- a
				k++
			}
			event, data = "", nil
		}
	}
}
