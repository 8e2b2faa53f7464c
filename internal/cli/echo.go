package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/plumbnet/plumb/simple"
)

func init() { addCommand(newEchoCmd) }

// echoFlags are plumb echo's options.
type echoFlags struct {
	simpleFlags
	count    int
	size     int
	interval time.Duration
	conns    int
	duration time.Duration
	asJSON   bool
}

func newEchoCmd() *cobra.Command {
	var f echoFlags
	cmd := &cobra.Command{
		Use:   "echo HOST[:PORT]",
		Short: "Check an echo server (RFC 862): round trips, or a load test with --conns",
		Long: `echo sends --count messages of --size bytes to an echo server, one at a
time on one connection (one datagram each with --udp), checks that each
comes back byte for byte, and reports the round-trip time of each and
their min/avg/max. PORT defaults to 10007, plumb serve's echo port; the
well-known port is 7.

Load mode (--conns N and/or --duration D) opens N TCP connections that
each send a message and wait for its echo, as fast as they can, for D;
it reports round trips per second and MB/s (10^6 bytes of payload per
second, one way), checking every echo. This is what bench/echo drives
servers with.

Exit status: 0 when every echo came back intact, 1 otherwise, 2 for bad
arguments.`,
		Example: `  plumb echo localhost                          # 5 x 64 bytes to port 10007
  plumb echo --count 100 --size 1400 --udp localhost:10007
  plumb echo --conns 50 --size 64 --duration 5s localhost
  plumb echo --conns 8 --size 65536 --duration 5s --json 127.0.0.1:10007`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := simpleTarget(args[0], simple.Echo)
			if err != nil {
				return err
			}
			load := cmd.Flags().Changed("conns") || cmd.Flags().Changed("duration")
			switch {
			case f.size < 1:
				return withExit(2, errors.New("--size must be at least 1 byte"))
			case f.udp && f.size > simple.MaxDatagram:
				return withExit(2, fmt.Errorf("--size %d does not fit a UDP datagram (at most %d)", f.size, simple.MaxDatagram))
			case f.size > 64<<20:
				return withExit(2, errors.New("--size is limited to 64 MiB"))
			case load && f.udp:
				return withExit(2, errors.New("load mode (--conns, --duration) is TCP only; drop --udp"))
			case load && (f.conns < 1 || f.duration <= 0):
				return withExit(2, errors.New("load mode needs --conns of 1 or more and a positive --duration"))
			case !load && f.count < 1:
				return withExit(2, errors.New("--count must be at least 1"))
			case f.timeout <= 0:
				return withExit(2, errors.New("--timeout must be positive"))
			}
			if load {
				return runEchoLoad(cmd.Context(), cmd.OutOrStdout(), &f, addr)
			}
			return runEchoCheck(cmd.Context(), cmd.OutOrStdout(), &f, addr)
		},
	}
	f.add(cmd)
	fl := cmd.Flags()
	fl.IntVarP(&f.count, "count", "c", 5, "messages to send")
	fl.IntVarP(&f.size, "size", "s", 64, "bytes in each message")
	fl.DurationVarP(&f.interval, "interval", "i", 0, "wait between messages")
	fl.IntVar(&f.conns, "conns", 1, "load mode: connections, each one round trip at a time")
	fl.DurationVar(&f.duration, "duration", 5*time.Second, "load mode: how long to run")
	fl.BoolVar(&f.asJSON, "json", false, "print the summary as JSON")
	return cmd
}

// fillEcho fills msg with printable bytes that differ from message to
// message, so a late UDP echo of another message is not taken for this one.
func fillEcho(msg []byte, seq int) {
	for i := range msg {
		msg[i] = byte('!' + (i+seq*7)%94)
	}
}

// echoCheckResult is plumb echo's summary.
type echoCheckResult struct {
	Addr    string  `json:"addr"`
	Network string  `json:"network"`
	Size    int     `json:"size"`
	Sent    int     `json:"sent"`
	Intact  int     `json:"intact"`
	Failed  int     `json:"failed"`
	MinMS   float64 `json:"rtt_min_ms"`
	AvgMS   float64 `json:"rtt_avg_ms"`
	MaxMS   float64 `json:"rtt_max_ms"`
}

func runEchoCheck(ctx context.Context, out io.Writer, f *echoFlags, addr string) error {
	network := f.network()
	cl := f.client()
	ec, err := cl.DialEcho(ctx, addr)
	if err != nil {
		return simpleCallError(simple.Echo, network, addr, f.timeout, err)
	}
	defer ec.Close()
	stop := context.AfterFunc(ctx, func() { ec.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	res := echoCheckResult{Addr: addr, Network: network, Size: f.size, MinMS: math.Inf(1)}
	msg, reply := make([]byte, f.size), make([]byte, f.size)
	var total time.Duration
	var firstErr error
	if !f.asJSON {
		fmt.Fprintf(out, "ECHO %s (%s): %d messages of %d bytes\n", addr, network, f.count, f.size)
	}
	for seq := 1; seq <= f.count && ctx.Err() == nil; seq++ {
		if seq > 1 && f.interval > 0 {
			select {
			case <-time.After(f.interval):
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				break
			}
		}
		fillEcho(msg, seq)
		ec.SetDeadline(time.Now().Add(f.timeout))
		start := time.Now()
		err := ec.RoundTrip(msg, reply)
		rtt := time.Since(start)
		res.Sent++
		if err != nil {
			res.Failed++
			firstErr = cmpOr(firstErr, err)
			if !f.asJSON {
				fmt.Fprintf(out, "seq=%d: %v\n", seq, echoFailure(err, f.timeout))
			}
			if !f.udp {
				break // a TCP stream out of step cannot be trusted further
			}
			continue
		}
		res.Intact++
		total += rtt
		ms := float64(rtt) / float64(time.Millisecond)
		res.MinMS, res.MaxMS = min(res.MinMS, ms), max(res.MaxMS, ms)
		if !f.asJSON {
			fmt.Fprintf(out, "%d bytes from %s: seq=%d time=%.3f ms\n", f.size, addr, seq, ms)
		}
	}
	if res.Intact > 0 {
		res.AvgMS = float64(total) / float64(res.Intact) / float64(time.Millisecond)
	} else {
		res.MinMS = 0
	}
	if f.asJSON {
		if err := json.NewEncoder(out).Encode(res); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(out, "--- %s echo statistics ---\n%d sent, %d echoed intact, %d failed\n", addr, res.Sent, res.Intact, res.Failed)
		if res.Intact > 0 {
			fmt.Fprintf(out, "rtt min/avg/max = %.3f/%.3f/%.3f ms\n", res.MinMS, res.AvgMS, res.MaxMS)
		}
	}
	switch {
	case ctx.Err() != nil:
		return withExit(130, errors.New("echo: interrupted"))
	case res.Failed > 0 || res.Intact < f.count:
		return withExit(1, fmt.Errorf("echo: %d of %d messages did not come back intact: %v", f.count-res.Intact, f.count, echoFailure(firstErr, f.timeout)))
	}
	return nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// echoFailure says in a few words why one round trip failed.
func echoFailure(err error, timeout time.Duration) error {
	var me *simple.MismatchError
	var ne interface{ Timeout() bool }
	switch {
	case err == nil:
		return errors.New("stopped early")
	case errors.As(err, &me):
		return fmt.Errorf("echo differs: %w", err)
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("no echo within %s (raise --timeout to wait longer)", timeout)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the server closed the connection before echoing everything")
	}
	return err
}

// echoLoadResult is plumb echo's load-mode summary.
type echoLoadResult struct {
	Addr            string  `json:"addr"`
	Conns           int     `json:"conns"`
	Size            int     `json:"size"`
	Seconds         float64 `json:"seconds"`
	RoundTrips      int64   `json:"round_trips"`
	RoundTripsPerS  float64 `json:"round_trips_per_sec"`
	MBPerS          float64 `json:"mb_per_sec"`
	AvgRTTMicros    float64 `json:"rtt_avg_us"`
	Errors          int     `json:"errors"`
	FirstError      string  `json:"first_error,omitempty"`
	ConnectFailures int     `json:"connect_failures"`
}

// runEchoLoad drives the server with f.conns connections, each with its
// own goroutine and buffers, making round trips until f.duration ends.
func runEchoLoad(ctx context.Context, out io.Writer, f *echoFlags, addr string) error {
	res := echoLoadResult{Addr: addr, Conns: f.conns, Size: f.size}
	cl := f.client()
	clients := make([]*simple.EchoClient, 0, f.conns)
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	for range f.conns {
		ec, err := cl.DialEcho(ctx, addr)
		if err != nil {
			if len(clients) == 0 {
				return simpleCallError(simple.Echo, "tcp", addr, f.timeout, err)
			}
			if res.ConnectFailures++; res.FirstError == "" {
				res.FirstError = err.Error()
			}
			continue
		}
		clients = append(clients, ec)
	}

	var (
		stop     atomic.Bool
		total    atomic.Int64
		errMu    sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	begin := make(chan struct{})
	end := time.Now().Add(f.duration + f.timeout)
	for i, ec := range clients {
		ec.SetDeadline(end)
		wg.Go(func() {
			msg, reply := make([]byte, f.size), make([]byte, f.size)
			fillEcho(msg, i)
			var n int64
			<-begin
			for !stop.Load() {
				if err := ec.RoundTrip(msg, reply); err != nil {
					if !stop.Load() {
						errMu.Lock()
						res.Errors++
						firstErr = cmpOr(firstErr, err)
						errMu.Unlock()
					}
					break
				}
				n++
			}
			total.Add(n)
		})
	}
	start := time.Now()
	close(begin)
	timer := time.NewTimer(f.duration)
	select {
	case <-timer.C:
	case <-ctx.Done():
		timer.Stop()
	}
	stop.Store(true)
	cut := time.Since(start)
	wg.Wait()

	res.Seconds = cut.Seconds()
	res.RoundTrips = total.Load()
	res.RoundTripsPerS = float64(res.RoundTrips) / res.Seconds
	res.MBPerS = res.RoundTripsPerS * float64(f.size) / 1e6
	if res.RoundTrips > 0 {
		res.AvgRTTMicros = res.Seconds * 1e6 * float64(len(clients)) / float64(res.RoundTrips)
	}
	if firstErr != nil && res.FirstError == "" {
		res.FirstError = echoFailure(firstErr, f.timeout).Error()
	}
	if f.asJSON {
		if err := json.NewEncoder(out).Encode(res); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(out, "echo load: %d conns x %d bytes for %.2fs to %s\n", len(clients), f.size, res.Seconds, addr)
		fmt.Fprintf(out, "round trips  %d (%.0f/s, avg rtt %.1f us)\n", res.RoundTrips, res.RoundTripsPerS, res.AvgRTTMicros)
		fmt.Fprintf(out, "throughput   %.2f MB/s each way\n", res.MBPerS)
		fmt.Fprintf(out, "errors       %d\n", res.Errors+res.ConnectFailures)
	}
	switch {
	case ctx.Err() != nil:
		return withExit(130, errors.New("echo: interrupted"))
	case res.Errors+res.ConnectFailures > 0:
		return withExit(1, fmt.Errorf("echo load: %d connections failed; first: %s", res.Errors+res.ConnectFailures, res.FirstError))
	}
	return nil
}
