// Command load drives a finger server: -conns clients, each asking one
// query per connection (as finger does), cycling through -users, for
// -duration. It prints one line: queries per second, queries, failures.
//
//	go run ./bench/finger/load -addr 127.0.0.1:10079 -users root,daemon
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plumbnet/plumb/finger"
)

func main() {
	var (
		addr     = flag.String("addr", "127.0.0.1:10079", "the finger server")
		users    = flag.String("users", "root", "comma-separated users to ask about, in turn")
		conns    = flag.Int("conns", 50, "clients at once")
		duration = flag.Duration("duration", 10*time.Second, "how long to ask")
		want     = flag.String("want", "Login:", "text every answer must hold")
	)
	flag.Parse()
	names := strings.Split(*users, ",")
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	d := finger.Dialer{Timeout: 10 * time.Second}
	start := time.Now()
	var wg sync.WaitGroup
	for i := range *conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := i; ctx.Err() == nil; n++ {
				body, err := d.Finger(context.Background(), *addr, finger.Query{User: names[n%len(names)]})
				if err == nil && !strings.Contains(string(body), *want) {
					err = fmt.Errorf("answer %.80q lacks %q", body, *want)
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	fmt.Printf("%.0f queries/s  %d queries  %d failed  %.1fs\n", float64(ok.Load())/el.Seconds(), ok.Load(), failed.Load(), el.Seconds())
	if err, _ := firstErr.Load().(error); err != nil {
		fmt.Fprintln(os.Stderr, "load: first failure:", err)
	}
}
