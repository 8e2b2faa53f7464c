// Command xmlrpc is the XML-RPC benchmark's server and load driver.
//
//	xmlrpc -serve 127.0.0.1:8000           # plumb's xmlrpc.Server on net/http, method add(a, b)
//	xmlrpc -floor 127.0.0.1:8000           # a bare net/http handler: a constant 200-byte answer
//	xmlrpc -url http://127.0.0.1:8000/RPC2 -c 50 -d 10s
//	xmlrpc -engine bench/xmlrpc/add.xml -d 10s
//
// -floor is what net/http costs with nothing of XML-RPC: it reads the
// request's body and answers the same 200 bytes every time (an
// XML-RPC response of 42, padded with white space, so that wrk's check
// of bench/xmlrpc/add.lua holds).
//
// -engine is plumb's server without the network: it dispatches the
// request in the file (add(41, 1)) through Server.ServeHTTP with a
// minimal ResponseWriter, one call after another in this goroutine,
// checks every answer for 42, and prints the calls per second of CPU
// time the process used (so that other load on the machine, which
// takes wall time, does not count).
//
// The driver runs -c workers, each calling add(i, 1) over keep-alive
// connections (when the server allows them) with plumb's xmlrpc.Client
// and checking every result, for -d, and prints the calls per second.
// bench/xmlrpc/run.sh runs it against plumb and Python's
// SimpleXMLRPCServer, one after the other, with the same driver.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
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
	floor := flag.String("floor", "", "serve a bare net/http handler answering a constant 200-byte body on `ADDR` (prints PORT n)")
	engine := flag.String("engine", "", "dispatch the XML-RPC request in `FILE` in process, for -d, and print the calls per second")
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
	case *floor != "":
		err = runFloor(*floor)
	case *engine != "":
		err = runEngine(*engine, *dur)
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

func newServer() (*xmlrpc.Server, error) {
	srv := &xmlrpc.Server{}
	err := srv.Register("add", func(a, b int) int { return a + b }, "Adds two integers.")
	return srv, err
}

func runServer(addr string) error {
	srv, err := newServer()
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/RPC2", srv)
	return listen(addr, mux)
}

// listen serves h on addr as runServer does, after printing the port.
func listen(addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("PORT %d\n", ln.Addr().(*net.TCPAddr).Port)
	return (&http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}).Serve(ln)
}

// floorBody is -floor's answer: 200 bytes, an XML-RPC response of 42
// and white space.
var floorBody = func() []byte {
	b := []byte("<?xml version=\"1.0\"?>\n<methodResponse><params><param><value><int>42</int></value></param></params></methodResponse>\n")
	return append(b, bytes.Repeat([]byte(" "), 200-len(b))...)
}()

var xmlType = []string{"text/xml; charset=utf-8"}

func runFloor(addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/RPC2", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header()["Content-Type"] = xmlType
		w.Write(floorBody)
	})
	return listen(addr, mux)
}

// nullWriter is the least a ResponseWriter can be, for -engine.
type nullWriter struct {
	h    http.Header
	body []byte
}

func (w *nullWriter) Header() http.Header         { return w.h }
func (w *nullWriter) WriteHeader(int)             {}
func (w *nullWriter) Write(p []byte) (int, error) { w.body = append(w.body, p...); return len(p), nil }

func runEngine(file string, dur time.Duration) error {
	req, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	srv, err := newServer()
	if err != nil {
		return err
	}
	r, err := http.NewRequest("POST", "/RPC2", nil)
	if err != nil {
		return err
	}
	r.ContentLength = int64(len(req))
	body := bytes.NewReader(req)
	r.Body = io.NopCloser(body)
	w := &nullWriter{h: http.Header{}}
	want := []byte("<int>42</int>")
	calls := 0
	start, cpu0 := time.Now(), cpuTime()
	for time.Since(start) < dur {
		for range 1000 {
			body.Reset(req)
			w.body = w.body[:0]
			srv.ServeHTTP(w, r)
			if !bytes.Contains(w.body, want) {
				return fmt.Errorf("engine: the answer is not 42: %s", w.body)
			}
		}
		calls += 1000
	}
	fmt.Printf("%.0f\n", float64(calls)/(cpuTime()-cpu0).Seconds())
	return nil
}

// cpuTime is the CPU time this process has used (user and system, all
// threads: the garbage collector's too).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
