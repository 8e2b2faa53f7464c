// Command xmlrpc is the XML-RPC benchmark's server and load driver.
//
//	xmlrpc -serve 127.0.0.1:8000           # plumb's xmlrpc.Server on net/http, method add(a, b)
//	xmlrpc -url http://127.0.0.1:8000/RPC2 -c 50 -d 10s
//
// The driver runs -c workers, each calling add(i, 1) over keep-alive
// connections (when the server allows them) with plumb's xmlrpc.Client
// and checking every result, for -d, and prints the calls per second.
// bench/xmlrpc/run.sh runs it against plumb and Python's
// SimpleXMLRPCServer, one after the other, with the same driver.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/plumbnet/plumb/xmlrpc"
)

func main() {
	serve := flag.String("serve", "", "serve plumb's XML-RPC server on `ADDR` (prints PORT n)")
	url := flag.String("url", "", "drive the XML-RPC server at `URL`")
	conc := flag.Int("c", 50, "concurrent clients")
	dur := flag.Duration("d", 10*time.Second, "how long to drive")
	profile := flag.String("cpuprofile", "", "with -serve: write a CPU profile to `FILE` until SIGTERM")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench/xmlrpc:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
		go func() { <-sig; pprof.StopCPUProfile(); f.Close(); os.Exit(0) }()
	}
	var err error
	switch {
	case *serve != "":
		err = runServer(*serve)
	case *url != "":
		err = drive(*url, *conc, *dur)
	default:
		err = fmt.Errorf("give -serve ADDR or -url URL")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/xmlrpc:", err)
		os.Exit(1)
	}
}

func runServer(addr string) error {
	srv := &xmlrpc.Server{}
	if err := srv.Register("add", func(a, b int) int { return a + b }, "Adds two integers."); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("PORT %d\n", ln.Addr().(*net.TCPAddr).Port)
	mux := http.NewServeMux()
	mux.Handle("/RPC2", srv)
	return (&http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}).Serve(ln)
}

func drive(url string, conc int, dur time.Duration) error {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxIdleConns: conc}}
	c := &xmlrpc.Client{URL: url, HTTPClient: hc}
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var calls atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conc)
	start := time.Now()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				var sum int
				err := c.Call(ctx, "add", &sum, w*1000000+i, 1)
				if ctx.Err() != nil {
					return
				}
				if err != nil || sum != w*1000000+i+1 {
					errs <- fmt.Errorf("add(%d, 1) = %d, %v", w*1000000+i, sum, err)
					cancel()
					return
				}
				calls.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	select {
	case err := <-errs:
		return err
	default:
	}
	fmt.Printf("%.0f\n", float64(calls.Load())/elapsed.Seconds())
	return nil
}
