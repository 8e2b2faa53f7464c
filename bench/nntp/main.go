// Command nntp benchmarks NNTP servers side by side. For each server
// given, in turn: with -idle and a process id, it first opens that many
// idle readers (MODE READER, GROUP) on the fresh server, then as many
// again under COMPRESS DEFLATE, and reads the memory each kind adds
// (PSS of the server and its child processes, per reader); then it feeds -n articles (1-20 KiB) into one group over
// -sessions sessions (TAKETHIS when the server streams, else IHAVE; an
// answer is the server's acknowledgement that the article is stored),
// times OVER of the whole group, and ARTICLE of -reads articles by
// number over -sessions sessions. It prints a Markdown table with each
// server's ratio to the first.
//
// Usage (run.sh starts plumb serve and INN and calls it):
//
//	go run ./bench/nntp -group bench.test plumb=127.0.0.1:10119:PID inn=127.0.0.1:18119
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plumbnet/plumb/nntp"
)

type server struct {
	name, addr string
	pid        int
}

type result struct {
	feed, over, readDur time.Duration
	fed, overs, read    int64
	idleKiB, idleZKiB   float64 // per idle reader; under COMPRESS (-1: refused)
}

func main() {
	var (
		group    = flag.String("group", "bench.test", "the group the servers carry")
		count    = flag.Int("n", 100000, "articles to feed")
		reads    = flag.Int("reads", 10000, "ARTICLE commands")
		sessions = flag.Int("sessions", 10, "concurrent sessions for feeding and reading")
		idle     = flag.Int("idle", 1000, "idle readers for the memory measure (needs NAME=HOST:PORT:PID)")
		prefix   = flag.String("prefix", strconv.FormatInt(time.Now().Unix(), 36), "Message-ID prefix, unique per run")
	)
	flag.Parse()
	var servers []server
	for _, a := range flag.Args() {
		name, rest, ok := strings.Cut(a, "=")
		if !ok {
			fmt.Fprintln(os.Stderr, "bench/nntp: want NAME=HOST:PORT[:PID]")
			os.Exit(2)
		}
		s := server{name: name, addr: rest}
		if f := strings.Split(rest, ":"); len(f) == 3 {
			s.addr = f[0] + ":" + f[1]
			s.pid, _ = strconv.Atoi(f[2])
		}
		servers = append(servers, s)
	}
	var results []result
	for _, s := range servers {
		r, err := bench(s, *group, *prefix+"."+s.name, *count, *reads, *sessions, *idle)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench/nntp: %s: %v\n", s.name, err)
			os.Exit(1)
		}
		results = append(results, r)
	}
	fmt.Printf("| server | feed %d (art/s) | OVER all (lines/s) | ARTICLE %d (art/s) | idle reader (KiB PSS) | under COMPRESS (KiB PSS) |\n|---|---|---|---|---|---|\n", *count, *reads)
	rate := func(n int64, d time.Duration) float64 { return float64(n) / d.Seconds() }
	for i, r := range results {
		b := results[0]
		z := "refused"
		if r.idleZKiB >= 0 {
			z = fmt.Sprintf("%.1f", r.idleZKiB)
		}
		fmt.Printf("| %s | %.0f (%.2fx) | %.0f (%.2fx) | %.0f (%.2fx) | %.1f | %s |\n", servers[i].name,
			rate(r.fed, r.feed), rate(r.fed, r.feed)/rate(b.fed, b.feed),
			rate(r.overs, r.over), rate(r.overs, r.over)/rate(b.overs, b.over),
			rate(r.read, r.read64()), rate(r.read, r.read64())/rate(b.read, b.read64()), r.idleKiB, z)
	}
}

func (r result) read64() time.Duration { return r.readDur }

func article(id, group string, i int) string {
	size := 1024 + rand.IntN(19*1024)
	line := strings.Repeat("x", 72) + "\r\n"
	body := strings.Repeat(line, size/len(line)+1)
	return fmt.Sprintf("Path: bench!not-for-mail\r\nFrom: bench@example.org\r\nNewsgroups: %s\r\nSubject: article %d\r\nDate: %s\r\nMessage-ID: %s\r\n\r\n%s",
		group, i, time.Now().UTC().Format(time.RFC1123Z), id, body)
}

func bench(s server, group, prefix string, count, reads, sessions, idle int) (result, error) {
	ctx := context.Background()
	var r result
	if s.pid > 0 && idle > 0 {
		var err error
		if r.idleKiB, r.idleZKiB, err = idleReaders(ctx, s, group, idle); err != nil {
			return r, fmt.Errorf("idle readers: %w", err)
		}
	}
	var next, fed atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	start := time.Now()
	for range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := nntp.Dial(ctx, s.addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			stream := c.ModeStream(ctx) == nil
			for {
				i := int(next.Add(1))
				if i > count {
					return
				}
				id := fmt.Sprintf("<%s.%d@bench>", prefix, i)
				a := strings.NewReader(article(id, group, i))
				if stream {
					err = c.TakeThis(ctx, id, a)
				} else {
					err = c.IHave(ctx, id, a)
				}
				if err != nil {
					errs <- fmt.Errorf("feeding %s: %w", id, err)
					return
				}
				fed.Add(1)
			}
		}()
	}
	wg.Wait()
	r.feed, r.fed = time.Since(start), fed.Load()
	select {
	case err := <-errs:
		return r, err
	default:
	}
	c, err := nntp.Dial(ctx, s.addr)
	if err != nil {
		return r, err
	}
	defer c.Close()
	c.ModeReader(ctx)
	g, err := c.Group(ctx, group)
	if err != nil {
		return r, err
	}
	start = time.Now()
	err = c.Over(ctx, fmt.Sprintf("%d-%d", g.Low, g.High), func(nntp.Overview) error { r.overs++; return nil })
	r.over = time.Since(start)
	if err != nil {
		return r, fmt.Errorf("OVER: %w", err)
	}
	var done atomic.Int64
	start = time.Now()
	for range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := nntp.Dial(ctx, s.addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.ModeReader(ctx)
			if _, err := c.Group(ctx, group); err != nil {
				errs <- err
				return
			}
			for done.Add(1) <= int64(reads) {
				n := g.Low + rand.Int64N(g.High-g.Low+1)
				if _, _, err := c.Article(ctx, strconv.FormatInt(n, 10), io.Discard); err != nil && !errors.Is(err, nntp.ErrNoSuchNumber) {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	r.readDur, r.read = time.Since(start), int64(reads)
	select {
	case err := <-errs:
		return r, err
	default:
	}
	return r, nil
}

// idleReaders opens n reader sessions (MODE READER, GROUP) on the
// fresh server, before anything else runs, and then n more that turn
// on COMPRESS DEFLATE first, and returns the memory each kind added to
// the server's processes, per reader (-1 for COMPRESS when the server
// refuses it). Every reader has had its GROUP answered, so the server
// holds every session when the memory is read.
func idleReaders(ctx context.Context, s server, group string, n int) (plain, compressed float64, err error) {
	var conns []*nntp.Client
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	// Each reader's exchanges are bounded: a server that stops
	// answering ends the run with an error, not a hang.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	open := func(compress bool) (float64, error) {
		before := pssKiB(s.pid)
		for i := range n {
			c, err := nntp.Dial(ctx, s.addr)
			if err != nil {
				return 0, fmt.Errorf("reader %d: %w", i+1, err)
			}
			conns = append(conns, c)
			c.ModeReader(ctx)
			if compress {
				if err := c.Compress(ctx); err != nil {
					return -1, nil
				}
			}
			if _, err := c.Group(ctx, group); err != nil {
				return 0, fmt.Errorf("reader %d: GROUP: %w", i+1, err)
			}
		}
		return float64(pssKiB(s.pid)-before) / float64(n), nil
	}
	if plain, err = open(false); err != nil {
		return 0, 0, err
	}
	compressed, err = open(true)
	return plain, compressed, err
}

// pssKiB is the proportional set size of pid and its children (INN
// forks an nnrpd per reader), from /proc/PID/smaps_rollup: shared
// pages count once over the processes that share them.
func pssKiB(pid int) int64 {
	total := pssOf(pid)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil || child == pid {
			continue
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child)); err == nil {
			// pid (comm) state ppid ...: comm may hold spaces, so cut at the last ')'.
			f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
			if len(f) > 1 && f[1] == strconv.Itoa(pid) {
				total += pssOf(child)
			}
		}
	}
	return total
}

func pssOf(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Pss:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
