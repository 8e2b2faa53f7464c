// Command logins opens N FTP control connections at once, logs each in
// with USER and PASS, and reports how long it took for all of them. It
// then holds the sessions idle until its standard input closes, so that
// bench/ftp/run.sh can read the server's memory with N idle sessions.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:21", "server address")
	user := flag.String("user", "anonymous", "user name")
	pass := flag.String("pass", "bench@", "password")
	n := flag.Int("n", 300, "sessions")
	timeout := flag.Duration("timeout", 60*time.Second, "give up after this long")
	flag.Parse()

	conns := make([]net.Conn, *n)
	errs := make([]error, *n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range conns {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			conns[i], errs[i] = login(*addr, *user, *pass, *timeout)
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)
	failed := 0
	for _, err := range errs {
		if err != nil {
			if failed == 0 {
				fmt.Fprintln(os.Stderr, "logins:", err)
			}
			failed++
		}
	}
	fmt.Printf("logged_in=%d failed=%d seconds=%.3f\n", *n-failed, failed, elapsed.Seconds())
	fmt.Println("READY")
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		if c != nil {
			fmt.Fprint(c, "QUIT\r\n")
			c.Close()
		}
	}
	if failed > 0 {
		os.Exit(1)
	}
}

// login connects and logs in; the connection stays open on success.
func login(addr, user, pass string, timeout time.Duration) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(timeout))
	r := bufio.NewReader(c)
	reply := func() (string, error) {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return "", err
			}
			if len(line) >= 4 && line[3] == '-' {
				continue
			}
			return strings.TrimSpace(line), nil
		}
	}
	fail := func(step string, err error) (net.Conn, error) {
		c.Close()
		return nil, fmt.Errorf("%s: %w", step, err)
	}
	if l, err := reply(); err != nil || !strings.HasPrefix(l, "220") {
		return fail("greeting", fmt.Errorf("%q %v", l, err))
	}
	fmt.Fprintf(c, "USER %s\r\n", user)
	l, err := reply()
	if err != nil {
		return fail("USER", err)
	}
	if strings.HasPrefix(l, "3") { // a password is wanted; anonymous may skip it
		fmt.Fprintf(c, "PASS %s\r\n", pass)
		if l, err = reply(); err != nil {
			return fail("PASS", err)
		}
	}
	if !strings.HasPrefix(l, "230") {
		return fail("login", fmt.Errorf("got %q, want 230", l))
	}
	c.SetDeadline(time.Time{})
	return c, nil
}
