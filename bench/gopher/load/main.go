// Command load drives a gopher server with menu requests: -c clients
// at once, each opening a connection, sending one selector, reading
// the menu to the end and checking it, again and again for -d. Gopher
// has one request per connection, so every request is a connection.
//
//	go run ./bench/gopher/load -addr 127.0.0.1:10070 -selector /menu/ -expect file-049.txt
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	var (
		addr     = flag.String("addr", "127.0.0.1:10070", "the server")
		selector = flag.String("selector", "/", "the menu to ask for")
		expect   = flag.String("expect", "", "text every answer must hold")
		clients  = flag.Int("c", 50, "clients at once")
		duration = flag.Duration("d", 10*time.Second, "how long to run")
	)
	flag.Parse()
	var ok, bad atomic.Int64
	var firstErr atomic.Value
	stop := time.Now().Add(*duration)
	var wg sync.WaitGroup
	start := time.Now()
	for range *clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, 64<<10)
			for time.Now().Before(stop) {
				var err error
				buf, err = fetch(*addr, *selector, buf[:0])
				switch {
				case err == nil && !bytes.HasSuffix(buf, []byte(".\r\n")):
					err = fmt.Errorf("menu not ended by a \".\" line: %q", tail(buf))
				case err == nil && !bytes.Contains(buf, []byte(*expect)):
					err = fmt.Errorf("menu lacks %q", *expect)
				}
				if err != nil {
					bad.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	fmt.Printf("requests %d errors %d seconds %.2f rps %.0f\n", ok.Load(), bad.Load(), el.Seconds(), float64(ok.Load())/el.Seconds())
	if e := firstErr.Load(); e != nil {
		fmt.Fprintln(os.Stderr, "load: first error:", e)
	}
}

func fetch(addr, selector string, buf []byte) ([]byte, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return buf, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, selector+"\r\n"); err != nil {
		return buf, err
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func tail(b []byte) []byte {
	if len(b) > 40 {
		return b[len(b)-40:]
	}
	return b
}
