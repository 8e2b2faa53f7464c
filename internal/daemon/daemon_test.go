package daemon

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pires/go-proxyproto"
	"go.uber.org/goleak"
)

// testServices lets a test give its daemon services of its own, through
// the same registration the protocols use.
var testServices sync.Map // *Daemon -> []Service

// testSection is the config section of the "test" protocol: none.
type testSection struct{}

func init() {
	register(section[testSection]("test"), protocol{rank: 1 << 20, build: func(d *Daemon) ([]Service, error) {
		s, _ := testServices.Load(d)
		svcs, _ := s.([]Service)
		return svcs, nil
	}})
}

// lineServer answers each line with "> line": a minimal StreamServer
// with a real Shutdown that waits for open sessions.
type lineServer struct {
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
	remote chan net.Addr
}

func newLineServer() *lineServer {
	return &lineServer{conns: map[net.Conn]bool{}, remote: make(chan net.Addr, 16)}
}

func (s *lineServer) Serve(ln net.Listener) error {
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		select {
		case s.remote <- c.RemoteAddr():
		default:
		}
		s.mu.Lock()
		s.conns[c] = true
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() { s.mu.Lock(); delete(s.conns, c); s.mu.Unlock(); c.Close() }()
			sc := bufio.NewScanner(c)
			for sc.Scan() {
				fmt.Fprintf(c, "> %s\n", sc.Text())
			}
		}()
	}
}

func (s *lineServer) Shutdown(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *lineServer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
	return nil
}

// testConfig is the default config with every built-in service off, the
// admin listener on a free port and data in a temp directory.
func testConfig(t *testing.T) *Config {
	t.Helper()
	c := DefaultConfig()
	c.Data = t.TempDir()
	c.Admin.Addr = "127.0.0.1:0"
	c.Accounts.FirstUser = ""
	for _, l := range c.listeners() {
		l.Enabled = false
	}
	return c
}

func startTest(t *testing.T, c *Config, svcs ...Service) *Daemon {
	t.Helper()
	d := New(c, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	startTestDaemon(t, d, svcs...)
	return d
}

func startTestDaemon(t *testing.T, d *Daemon, svcs ...Service) {
	t.Helper()
	testServices.Store(d, svcs)
	t.Cleanup(func() { testServices.Delete(d) })
	if err := d.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
}

func addrOf(t *testing.T, d *Daemon, name string) string {
	t.Helper()
	for _, b := range d.Bound() {
		if b.Name == name {
			return b.Addr
		}
	}
	t.Fatalf("no service %q in %v", name, d.Bound())
	return ""
}

func dialLine(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	return c, bufio.NewReader(c)
}

func roundTrip(t *testing.T, c net.Conn, r *bufio.Reader, line string) {
	t.Helper()
	fmt.Fprintf(c, "%s\n", line)
	got, err := r.ReadString('\n')
	if want := "> " + line + "\n"; got != want || err != nil {
		t.Fatalf("reply to %q = %q, %v; want %q", line, got, err, want)
	}
}

func TestGracefulShutdownDrainsOpenSession(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	c := testConfig(t)
	srv := newLineServer()
	d := startTest(t, c, Service{Name: "line", Net: "tcp", Addr: "127.0.0.1:0", Stream: srv})
	addr := addrOf(t, d, "line")
	conn, r := dialLine(t, addr)
	roundTrip(t, conn, r, "before")

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- d.Shutdown(ctx)
	}()
	// New connections are refused once shutdown starts...
	deadline := time.Now().Add(2 * time.Second)
	for {
		nc, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		nc.Close()
		if time.Now().After(deadline) {
			t.Fatal("daemon still accepts connections after Shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// ...while the open session goes on until its client leaves.
	roundTrip(t, conn, r, "during shutdown")
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v while a session was still open", err)
	case <-time.After(100 * time.Millisecond):
	}
	conn.Close()
	if err := <-done; err != nil {
		t.Fatalf("Shutdown after the session ended = %v, want nil", err)
	}
}

func TestShutdownGraceCutsOffSessions(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	d := startTest(t, testConfig(t), Service{Name: "line", Net: "tcp", Addr: "127.0.0.1:0", Stream: newLineServer()})
	conn, r := dialLine(t, addrOf(t, d, "line"))
	roundTrip(t, conn, r, "hello")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := d.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown with a session open past the grace = %v, want DeadlineExceeded", err)
	}
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("session still open after a forced shutdown")
	}
}

func TestPortInUseNamesServiceAndLeavesNothingListening(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freeAddr := free.Addr().String()
	free.Close()

	c := testConfig(t)
	c.Admin.Enabled = false
	d := New(c, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	testServices.Store(d, []Service{
		{Name: "first", Net: "tcp", Addr: freeAddr, Stream: newLineServer()},
		{Name: "second", Net: "tcp", Addr: busy.Addr().String(), Stream: newLineServer()},
	})
	defer testServices.Delete(d)
	err = d.Start(context.Background())
	if err == nil {
		d.Close()
		t.Fatal("Start with a port in use succeeded")
	}
	if msg := err.Error(); !strings.Contains(msg, "second") || !strings.Contains(msg, busy.Addr().String()) {
		t.Errorf("Start error = %q, want it to name service \"second\" and %s", msg, busy.Addr())
	}
	if nc, err := net.DialTimeout("tcp", freeAddr, time.Second); err == nil {
		nc.Close()
		t.Errorf("service \"first\" still listens on %s after the failed start", freeAddr)
	}
}

func TestLimitsRefuseAndCount(t *testing.T) {
	c := testConfig(t)
	c.Limits.MaxConnsPerIP = 2
	d := startTest(t, c, Service{Name: "line", Net: "tcp", Addr: "127.0.0.1:0", Busy: []byte("BUSY\n"), Stream: newLineServer()})
	defer d.Close()
	addr := addrOf(t, d, "line")
	for i := range 2 {
		conn, r := dialLine(t, addr)
		roundTrip(t, conn, r, fmt.Sprint("conn ", i))
	}
	_, r := dialLine(t, addr)
	if got, _ := r.ReadString('\n'); got != "BUSY\n" {
		t.Fatalf("third connection over max_conns_per_ip=2 got %q, want the busy reply", got)
	}
	if _, err := r.ReadString('\n'); err != io.EOF {
		t.Fatalf("third connection after the busy reply: %v, want EOF", err)
	}
	body := get(t, "http://"+addrOf(t, d, "admin")+"/metrics")
	for _, want := range []string{
		`plumb_connections_refused_total{reason="max_conns_per_ip",service="line"} 1`,
		`plumb_connections_open{service="line"} 2`,
		`plumb_connections_total{service="line"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestServiceCapAndAcceptRate(t *testing.T) {
	c := testConfig(t)
	c.Limits.AcceptRate = 1 // burst of 2
	d := startTest(t, c, Service{Name: "line", Net: "tcp", Addr: "127.0.0.1:0", Stream: newLineServer()},
		Service{Name: "capped", Net: "tcp", Addr: "127.0.0.1:0", MaxConns: 1, Stream: newLineServer()})
	defer d.Close()
	addr := addrOf(t, d, "line")
	for i := range 2 {
		conn, r := dialLine(t, addr)
		roundTrip(t, conn, r, fmt.Sprint("burst ", i))
	}
	_, r := dialLine(t, addr)
	if _, err := r.ReadString('\n'); err != io.EOF {
		t.Fatalf("connection over the accept rate: read %v, want EOF (closed)", err)
	}
	body := get(t, "http://"+addrOf(t, d, "admin")+"/metrics")
	if want := `plumb_connections_refused_total{reason="accept_rate_per_ip",service="line"} 1`; !strings.Contains(body, want) {
		t.Errorf("/metrics lacks %q", want)
	}
}

func TestIdleTimeoutClosesSilentConnection(t *testing.T) {
	c := testConfig(t)
	c.Limits.IdleTimeout.Duration = 300 * time.Millisecond
	d := startTest(t, c, Service{Name: "line", Net: "tcp", Addr: "127.0.0.1:0", Stream: newLineServer()})
	defer d.Close()
	conn, r := dialLine(t, addrOf(t, d, "line"))
	roundTrip(t, conn, r, "hi")
	start := time.Now()
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("read on an idle connection returned data")
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("idle connection closed after %v, want about 300ms", el)
	}
}

func TestProxyProtocolGivesClientAddress(t *testing.T) {
	srv := newLineServer()
	d := startTest(t, testConfig(t), Service{Name: "line", Net: "tcp", Addr: "127.0.0.1:0", ProxyProtocol: true, Stream: srv})
	defer d.Close()
	conn, r := dialLine(t, addrOf(t, d, "line"))
	fmt.Fprintf(conn, "PROXY TCP4 203.0.113.7 127.0.0.1 40000 10007\r\n")
	roundTrip(t, conn, r, "behind a balancer")
	if got := (<-srv.remote).String(); got != "203.0.113.7:40000" {
		t.Fatalf("RemoteAddr behind PROXY = %s, want 203.0.113.7:40000", got)
	}
}

func TestProxyProtocolV2(t *testing.T) {
	srv := newLineServer()
	d := startTest(t, testConfig(t), Service{Name: "line", Net: "tcp", Addr: "127.0.0.1:0", ProxyProtocol: true, Stream: srv})
	defer d.Close()
	conn, r := dialLine(t, addrOf(t, d, "line"))
	h := proxyproto.HeaderProxyFromAddrs(2,
		&net.TCPAddr{IP: net.ParseIP("2001:db8::7"), Port: 40001},
		&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 10007})
	if _, err := h.WriteTo(conn); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, conn, r, "binary header")
	if got := (<-srv.remote).String(); got != "[2001:db8::7]:40001" {
		t.Fatalf("RemoteAddr behind PROXY v2 = %s, want [2001:db8::7]:40001", got)
	}
}

func TestProxyProtocolRefusesUntrustedPeer(t *testing.T) {
	c := testConfig(t)
	c.Limits.TrustedProxies = []string{"10.0.0.0/8"}
	d := New(c, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	startTestDaemon(t, d, Service{Name: "line", Net: "tcp", Addr: "127.0.0.1:0", ProxyProtocol: true, Stream: newLineServer()})
	defer d.Close()
	conn, r := dialLine(t, addrOf(t, d, "line"))
	fmt.Fprintf(conn, "PROXY TCP4 203.0.113.7 127.0.0.1 40000 10007\r\nforged\n")
	if got, err := r.ReadString('\n'); err == nil {
		t.Fatalf("a PROXY header from an untrusted peer was answered: %q", got)
	}
	body := get(t, "http://"+addrOf(t, d, "admin")+"/metrics")
	if want := `plumb_connections_refused_total{reason="untrusted_proxy",service="line"} 1`; !strings.Contains(body, want) {
		t.Errorf("/metrics lacks %q", want)
	}
}

func TestUDPRateLimit(t *testing.T) {
	c := testConfig(t)
	c.Limits.UDPRate = 5 // burst of 10
	d := startTest(t, c, Service{Name: "u", Net: "udp", Addr: "127.0.0.1:0", Packet: &udpEcho{}})
	defer d.Close()
	pc, err := net.Dial("udp", addrOf(t, d, "u"))
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	for range 50 {
		pc.Write([]byte("x"))
	}
	got := 0
	buf := make([]byte, 16)
	for {
		pc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if _, err := pc.Read(buf); err != nil {
			break
		}
		got++
	}
	if got < 5 || got > 12 {
		t.Fatalf("answered %d of 50 datagrams at udp_rate_per_ip=5 (burst 10), want about 10", got)
	}
}

type udpEcho struct{ pc net.PacketConn }

func (u *udpEcho) ServePacket(pc net.PacketConn) error {
	u.pc = pc
	buf := make([]byte, 65536)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			return err
		}
		pc.WriteTo(buf[:n], addr)
	}
}

func (u *udpEcho) Close() error { return nil }

func TestUDPSharesTCPPortWhenZero(t *testing.T) {
	d := startTest(t, testConfig(t),
		Service{Name: "e", Net: "tcp", Addr: "127.0.0.1:0", Stream: newLineServer()},
		Service{Name: "e/udp", Net: "udp", Addr: "127.0.0.1:0", Packet: &udpEcho{}})
	defer d.Close()
	_, tp, _ := net.SplitHostPort(addrOf(t, d, "e"))
	_, up, _ := net.SplitHostPort(addrOf(t, d, "e/udp"))
	if tp != up {
		t.Fatalf("tcp port %s, udp port %s: want the same port", tp, up)
	}
}

func TestAdminStatusAndHealth(t *testing.T) {
	d := startTest(t, testConfig(t), Service{Name: "line", Net: "tcp", Addr: "127.0.0.1:0", Stream: newLineServer()})
	defer d.Close()
	admin := "http://" + addrOf(t, d, "admin")
	if got := get(t, admin+"/healthz"); got != "ok\n" {
		t.Errorf("/healthz = %q, want ok", got)
	}
	conn, r := dialLine(t, addrOf(t, d, "line"))
	roundTrip(t, conn, r, "x")
	page := get(t, admin+"/status.json") // the page at / is the web console's now
	if !strings.Contains(page, `"name":"line"`) || !strings.Contains(page, `"connections":1`) {
		t.Errorf("status.json lacks the service row with 1 open connection:\n%s", page)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, text, want string }{
		{"unknown.toml", "data = \"x\"\n\n[echo]\nenabeld = true\n", "unknown.toml:4: unknown key \"echo.enabeld\""},
		{"type.toml", "[limits]\nmax_conns = \"lots\"\n", "type.toml:2"},
		{"syntax.toml", "[echo\naddr = 1\n", "syntax.toml:1"},
		{"duration.toml", "[limits]\nidle_timeout = \"soon\"\n", "idle_timeout"},
	} {
		p := filepath.Join(dir, tc.name)
		os.WriteFile(p, []byte(tc.text), 0o600)
		_, err := LoadConfig(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadConfig(%s) = %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

func TestPrintConfigRoundTrips(t *testing.T) {
	b, err := DefaultConfig().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "p.toml")
	os.WriteFile(p, b, 0o600)
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatalf("LoadConfig(printed config): %v\n%s", err, b)
	}
	if echo := simpleOf(c, "echo"); echo.Addr != ":10007" || !echo.Enabled || c.Limits.IdleTimeout.Duration != 10*time.Minute {
		t.Errorf("printed config read back as echo=%+v idle=%v", echo, c.Limits.IdleTimeout)
	}
	if !strings.Contains(string(b), "# ") {
		t.Error("printed config has no comments")
	}
}

func TestFirstStartCreatesAccountOnce(t *testing.T) {
	c := testConfig(t)
	c.Accounts.FirstUser = "plumb"
	c.Admin.Enabled = false
	for i, want := range []bool{true, false} {
		var out strings.Builder
		d := New(c, slog.New(slog.NewTextHandler(io.Discard, nil)), &out)
		if err := d.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		d.Close()
		if got := strings.Contains(out.String(), `created account "plumb" with password`); got != want {
			t.Errorf("start %d printed %q; want a created-account line: %v", i+1, out.String(), want)
		}
		if i == 0 {
			pass := strings.Split(out.String(), `"`)[3]
			if _, err := d.Accounts().Authenticate(context.Background(), "plumb", pass, nil); err != nil {
				t.Errorf("Authenticate(plumb, printed password) = %v", err)
			}
		}
	}
}

func TestLimitKeyGroupsIPv6By64(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9"},
		{"192.0.2.1", "192.0.2.1"},
	} {
		if ka, kb := limitKey(netip.MustParseAddr(tc.a)), limitKey(netip.MustParseAddr(tc.b)); ka != kb {
			t.Errorf("limitKey(%s) = %s, limitKey(%s) = %s; want one key", tc.a, ka, tc.b, kb)
		}
	}
	if limitKey(netip.MustParseAddr("2001:db8:1:2::1")) == limitKey(netip.MustParseAddr("2001:db8:1:3::1")) {
		t.Error("two /64s share a limit key")
	}
	if limitKey(netip.MustParseAddr("192.0.2.1")) == limitKey(netip.MustParseAddr("192.0.2.2")) {
		t.Error("two IPv4 addresses share a limit key")
	}
}
