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

// startPlumb runs plumb serve with SMTP and the admin listener only, on
// free loopback ports, over data.
func startPlumb(bin, dir, data string) (*daemon, error) {
	add := exec.Command(bin, "user", "add", user, "--data", data)
	add.Stdin = strings.NewReader("bench-password\n")
	if out, err := add.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("plumb user add: %v: %s", err, out)
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
	if err := os.WriteFile(cfgFile, []byte(cfg.String()), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--config", cfgFile)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
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
func send(addr, msg string) (time.Time, error) {
	c, err := smtp.Dial(addr)
	if err != nil {
		return time.Time{}, err
	}
	defer c.Close()
	if err := c.Mail("shop@example.com"); err != nil {
		return time.Time{}, err
	}
	if err := c.Rcpt(user + "@localhost"); err != nil {
		return time.Time{}, err
	}
	w, err := c.Data()
	if err != nil {
		return time.Time{}, err
	}
	if _, err := io.WriteString(w, msg); err != nil {
		return time.Time{}, err
	}
	sent := time.Now() // Close writes the final dot and reads the reply
	if err := w.Close(); err != nil {
		return time.Time{}, err
	}
	return sent, c.Quit()
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
// DATA to the event. Each event's data must pass check(data, k).
func fanOut(url, smtpAddr string, n, deliveries int, msg func(k int) string, check func(data string, k int) error) ([]time.Duration, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: n}
	client := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithCancel(context.Background())
	var ready, done sync.WaitGroup
	defer func() { cancel(); done.Wait() }()
	arrivals := make(chan arrival, n*(deliveries+1))
	for range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			subscribed := false
			defer func() {
				if !subscribed {
					ready.Done()
				}
			}()
			fail := func(err error) {
				if ctx.Err() == nil {
					arrivals <- arrival{k: -1, err: err}
				}
			}
			req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
			resp, err := client.Do(req)
			if err != nil {
				fail(err)
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				fail(fmt.Errorf("GET %s: %s", url, resp.Status))
				return
			}
			br := bufio.NewReader(resp.Body)
			if _, err := br.ReadString('\n'); err != nil { // ": plumb events": subscribed
				fail(err)
				return
			}
			subscribed = true
			ready.Done()
			var event string
			var data []string
			k := 0
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					fail(fmt.Errorf("the stream ended: %w", err))
					return
				}
				line = strings.TrimRight(line, "\r\n")
				switch {
				case strings.HasPrefix(line, "event:"):
					event = strings.TrimSpace(line[len("event:"):])
				case strings.HasPrefix(line, "data:"):
					data = append(data, strings.TrimPrefix(line[len("data:"):], " "))
				case line == "" && event == "delivery":
					a := arrival{k: k, at: time.Now(), err: check(strings.Join(data, "\n"), k)}
					arrivals <- a
					k++
					fallthrough
				case line == "":
					event, data = "", nil
				}
			}
		}()
	}
	ready.Wait()
	select {
	case a := <-arrivals:
		return nil, fmt.Errorf("a watcher: %w", a.err)
	default:
	}
	var lat []time.Duration
	for k := range deliveries {
		sent, err := send(smtpAddr, msg(k))
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
	}
	return lat, nil
}
