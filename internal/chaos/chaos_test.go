package chaos

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// fakeClock advances by what is waited, and remembers the total.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	waited time.Duration
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) wait(d time.Duration, done <-chan struct{}) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.t = c.t.Add(d)
		c.waited += d
	}
	return true
}

func (c *fakeClock) total() time.Duration { c.mu.Lock(); defer c.mu.Unlock(); return c.waited }

type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) count(service, kind string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[service+"/"+kind]++
}

func (c *counter) get(k string) int { c.mu.Lock(); defer c.mu.Unlock(); return c.n[k] }

func newTestFaults(t *testing.T) (*Faults, *fakeClock, *counter) {
	t.Helper()
	cnt := &counter{n: map[string]int{}}
	f := New(slog.New(slog.DiscardHandler), cnt.count)
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	f.clock = clk
	return f, clk, cnt
}

func prob(p float64) *float64 { return &p }

func TestStepProbabilityZeroAndOne(t *testing.T) {
	f, _, cnt := newTestFaults(t)
	s := f.Service("smtp")
	if err := f.Set("smtp", Rule{Steps: []StepFault{
		{Step: "rcpt", Code: "451", Probability: prob(0)},
		{Step: "data", Code: "554"},
	}}); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if sf := s.Step("rcpt"); sf != nil {
			t.Fatalf("Step(rcpt) with probability 0 = %+v, want nil", sf)
		}
		if sf := s.Step("data"); sf == nil || sf.Code != "554" {
			t.Fatalf("Step(data) with probability 1 = %+v, want code 554", sf)
		}
	}
	if got := cnt.get("smtp/step"); got != 100 {
		t.Errorf("step faults counted = %d, want 100", got)
	}
}

func TestStepProbabilityUsesRand(t *testing.T) {
	f, _, _ := newTestFaults(t)
	vals := []float64{0.1, 0.9, 0.29, 0.31}
	f.Rand = func() float64 { v := vals[0]; vals = vals[1:]; return v }
	f.Set("pop3", Rule{Steps: []StepFault{{Step: "fetch", Code: "SYS/TEMP", Probability: prob(0.3)}}})
	s := f.Service("pop3")
	var got []bool
	for range 4 {
		got = append(got, s.Step("fetch") != nil)
	}
	want := []bool{true, false, true, false}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Step(fetch) fired %v, want %v", got, want)
		}
	}
}

func TestStepMatching(t *testing.T) {
	f, _, _ := newTestFaults(t)
	f.Set("ftp", Rule{Steps: []StepFault{{Step: "stor", Code: "452"}, {Step: "*", Code: "421"}}})
	s := f.Service("ftp")
	if sf := s.Step("stor"); sf == nil || sf.Code != "452" {
		t.Errorf("Step(stor) = %+v, want 452", sf)
	}
	if sf := s.Step("retr"); sf == nil || sf.Code != "421" {
		t.Errorf("Step(retr) = %+v, want the wildcard's 421", sf)
	}
	if sf := f.Service("ftps").Step("stor"); sf != nil {
		t.Errorf("another service's Step(stor) = %+v, want nil", sf)
	}
}

func TestClearReversesAtOnce(t *testing.T) {
	f, _, _ := newTestFaults(t)
	s := f.Service("imap")
	f.Set("imap", Rule{Steps: []StepFault{{Step: "login", Code: "NO"}}})
	if s.Step("login") == nil {
		t.Fatal("Step(login) = nil after Set, want the fault")
	}
	if len(f.Rules()) != 1 {
		t.Errorf("Rules() = %v, want one", f.Rules())
	}
	f.Clear("imap")
	if sf := s.Step("login"); sf != nil {
		t.Fatalf("Step(login) after Clear = %+v, want nil", sf)
	}
	if len(f.Rules()) != 0 {
		t.Errorf("Rules() after Clear = %v, want none", f.Rules())
	}
	f.Set("imap", Rule{})
	if s.Rule() != nil {
		t.Errorf("an empty rule is kept as %+v, want none", s.Rule())
	}
}

func TestValidate(t *testing.T) {
	bad := []Rule{
		{Latency: Duration{-time.Second}},
		{Latency: Duration{time.Hour}},
		{Bandwidth: -1},
		{DropProbability: 1.5},
		{TLSFailure: -0.1},
		{Steps: []StepFault{{Step: "", Code: "451"}}},
		{Steps: []StepFault{{Step: "RCPT", Code: "451"}}},
		{Steps: []StepFault{{Step: "rcpt", Code: "451", Message: "two\r\nlines"}}},
		{Steps: []StepFault{{Step: "rcpt", Code: "451", Probability: prob(2)}}},
	}
	f, _, _ := newTestFaults(t)
	for _, r := range bad {
		if err := f.Set("smtp", r); err == nil {
			t.Errorf("Set(%+v) = nil, want an error", r)
		}
	}
	if f.Service("smtp").Rule() != nil {
		t.Error("a refused rule was kept")
	}
}

func TestRuleJSON(t *testing.T) {
	in := `{"latency":"250ms","bandwidth":1000,"steps":[{"step":"rcpt","code":"451","probability":0}]}`
	var r Rule
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	if r.Latency.Duration != 250*time.Millisecond || r.Bandwidth != 1000 || r.Steps[0].chance() != 0 {
		t.Fatalf("decoded %+v", r)
	}
	out, _ := json.Marshal(r)
	var again Rule
	json.Unmarshal(out, &again)
	if again.Latency != r.Latency || again.Steps[0].chance() != 0 {
		t.Errorf("round trip %s gave %+v", out, again)
	}
}

// pipeConn is one end of a loopback TCP pair, and the other end.
func pipeConn(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln := testkit.Listen(t)
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(ch)
			return
		}
		ch <- c
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-ch
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

func TestLatencyPerReplyAndPerByte(t *testing.T) {
	f, clk, cnt := newTestFaults(t)
	f.Set("pop3", Rule{Latency: Duration{100 * time.Millisecond}, LatencyPerByte: Duration{time.Millisecond}})
	srv, cli := pipeConn(t)
	c := f.Service("pop3").Conn(srv)
	go io.Copy(io.Discard, cli)
	c.Write([]byte("+OK\r\n")) // 100ms + 5ms
	c.Write(make([]byte, 20))  // 100ms + 20ms
	want := 225 * time.Millisecond
	if got := clk.total(); got != want {
		t.Errorf("waited %s for two replies, want %s", got, want)
	}
	if got := cnt.get("pop3/latency"); got != 1 {
		t.Errorf("latency counted %d times on one connection, want 1", got)
	}
}

func TestLatencyRealLowerBound(t *testing.T) {
	f := New(slog.New(slog.DiscardHandler), nil)
	f.Set("ftp", Rule{Latency: Duration{50 * time.Millisecond}})
	srv, cli := pipeConn(t)
	c := f.Service("ftp").Conn(srv)
	start := time.Now()
	go c.Write([]byte("220 hi\r\n"))
	buf := make([]byte, 8)
	if _, err := io.ReadFull(cli, buf); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("reply came after %s, want at least 50ms", d)
	}
}

func TestBandwidth(t *testing.T) {
	f, clk, _ := newTestFaults(t)
	f.Set("ftp", Rule{Bandwidth: 1000})
	srv, cli := pipeConn(t)
	c := f.Service("ftp").Conn(srv)
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(cli); done <- b }()
	data := bytes.Repeat([]byte("x"), 5000)
	if n, err := c.Write(data); n != len(data) || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	// 5000 bytes at 1000 B/s in 50-byte chunks: the last chunk goes at
	// 4.95s.
	if got, want := clk.total(), 4950*time.Millisecond; got != want {
		t.Errorf("waited %s for 5000 bytes at 1000 B/s, want %s", got, want)
	}
	c.Close()
	if got := <-done; !bytes.Equal(got, data) {
		t.Errorf("peer got %d bytes, want %d", len(got), len(data))
	}

	// Reading is capped too.
	srv2, cli2 := pipeConn(t)
	c2 := f.Service("ftp").Conn(srv2)
	go func() { cli2.Write(data); cli2.Close() }()
	before := clk.total()
	got, _ := io.ReadAll(c2)
	if len(got) != len(data) {
		t.Fatalf("read %d bytes, want %d", len(got), len(data))
	}
	if w := clk.total() - before; w < 4900*time.Millisecond {
		t.Errorf("reading 5000 bytes at 1000 B/s waited %s, want at least 4.9s", w)
	}
}

func TestDropAfterBytes(t *testing.T) {
	f, _, cnt := newTestFaults(t)
	f.Set("pop3", Rule{DropAfterBytes: 10})
	srv, cli := pipeConn(t)
	c := f.Service("pop3").Conn(srv)
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(cli); done <- b }()
	if n, err := c.Write([]byte("+OK 1\r\n")); n != 7 || err != nil {
		t.Fatalf("first Write = %d, %v; want 7, nil", n, err)
	}
	n, err := c.Write([]byte("0123456789"))
	if n != 3 || !errors.Is(err, ErrDropped) {
		t.Fatalf("Write across the mark = %d, %v; want 3, ErrDropped", n, err)
	}
	if got := string(<-done); got != "+OK 1\r\n012" {
		t.Errorf("peer got %q, want %q", got, "+OK 1\r\n012")
	}
	if cnt.get("pop3/drop") != 1 {
		t.Errorf("drops counted %d, want 1", cnt.get("pop3/drop"))
	}
}

func TestDropProbability(t *testing.T) {
	f, _, _ := newTestFaults(t)
	f.Set("smtp", Rule{DropProbability: 1})
	srv, cli := pipeConn(t)
	c := f.Service("smtp").Conn(srv)
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(cli); done <- b }()
	if _, err := c.Write([]byte("250 OK\r\n")); !errors.Is(err, ErrDropped) {
		t.Fatalf("Write = %v, want ErrDropped", err)
	}
	if got := string(<-done); got != "250 " {
		t.Errorf("peer got %q, want half the reply", got)
	}
	// Probability 0: nothing is cut.
	f.Set("smtp", Rule{DropProbability: 0, Latency: Duration{time.Millisecond}})
	srv2, cli2 := pipeConn(t)
	c2 := f.Service("smtp").Conn(srv2)
	go io.Copy(io.Discard, cli2)
	for range 50 {
		if _, err := c2.Write([]byte("250 OK\r\n")); err != nil {
			t.Fatalf("Write with drop probability 0 = %v", err)
		}
	}
}

func TestNoRuleGoesStraightThrough(t *testing.T) {
	f, clk, _ := newTestFaults(t)
	srv, cli := pipeConn(t)
	c := f.Service("echo").Conn(srv)
	go io.Copy(io.Discard, cli)
	c.Write(make([]byte, 1<<20))
	if clk.total() != 0 {
		t.Errorf("waited %s with no rule", clk.total())
	}
	if Of(c) != f.Service("echo") {
		t.Error("Of(conn) is not its service")
	}
	if Of(srv) != nil {
		t.Error("Of(plain conn) is not nil")
	}
}

func TestWaitEndsOnClose(t *testing.T) {
	f := New(slog.New(slog.DiscardHandler), nil)
	f.Set("smtp", Rule{Latency: Duration{MaxLatency}})
	srv, _ := pipeConn(t)
	c := f.Service("smtp").Conn(srv)
	errc := make(chan error, 1)
	go func() { _, err := c.Write([]byte("x")); errc <- err }()
	testkit.Eventually(t, 5*time.Second, "the write waits", func() bool { return c.noted.Load() != 0 })
	c.Close()
	if err := <-errc; !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write cut by Close = %v, want net.ErrClosed", err)
	}
}

func TestGuardTLS(t *testing.T) {
	f, _, cnt := newTestFaults(t)
	srvCfg, cliCfg := testkit.TLS(t)
	guarded := GuardTLS(srvCfg)
	handshake := func() error {
		srv, cli := pipeConn(t)
		c := f.Service("imaps").Conn(srv)
		errc := make(chan error, 1)
		go func() { errc <- tls.Server(c, guarded).Handshake() }()
		tc := tls.Client(cli, cliCfg)
		tc.Handshake()
		tc.Close()
		return <-errc
	}
	if err := handshake(); err != nil {
		t.Fatalf("handshake without a rule: %v", err)
	}
	f.Set("imaps", Rule{TLSFailure: 1})
	if err := handshake(); err == nil {
		t.Fatal("handshake with tls_failure 1 succeeded")
	}
	if cnt.get("imaps/tls") != 1 {
		t.Errorf("tls faults counted %d, want 1", cnt.get("imaps/tls"))
	}
	f.Clear("imaps")
	if err := handshake(); err != nil {
		t.Fatalf("handshake after Clear: %v", err)
	}
}

// benchWrite measures 32 KiB writes over loopback through c.
func benchWrite(b *testing.B, wrap func(net.Conn) net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
		}
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	c := wrap(raw)
	defer c.Close()
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for range b.N {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// The wrapper is on every connection the daemon admits: with no rule,
// or a rule of step faults only, it must cost next to nothing.
func BenchmarkWriteRaw(b *testing.B) { benchWrite(b, func(c net.Conn) net.Conn { return c }) }

func BenchmarkWriteNoRule(b *testing.B) {
	f := New(slog.New(slog.DiscardHandler), nil)
	benchWrite(b, func(c net.Conn) net.Conn { return f.Service("x").Conn(c) })
}

func BenchmarkWriteHugeCap(b *testing.B) {
	f := New(slog.New(slog.DiscardHandler), nil)
	f.Set("x", Rule{Bandwidth: 1 << 40}) // pacing runs, never waits
	benchWrite(b, func(c net.Conn) net.Conn { return f.Service("x").Conn(c) })
}
