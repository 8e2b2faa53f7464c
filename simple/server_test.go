package simple

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

var quietLog = slog.New(slog.DiscardHandler)

// startTCP serves srv on a fresh 127.0.0.1 port until the test ends.
func startTCP(t testing.TB, srv *Server) string {
	t.Helper()
	if srv.Logger == nil {
		srv.Logger = quietLog
	}
	return testkit.Serve(t, srv, nil)
}

// startUDP serves srv on a fresh 127.0.0.1 UDP port until the test ends.
func startUDP(t testing.TB, srv *Server) string {
	t.Helper()
	if srv.Logger == nil {
		srv.Logger = quietLog
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.ServePacket(pc) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("ServePacket = %v, want ErrServerClosed", err)
		}
	})
	return pc.LocalAddr().String()
}

// dialT connects over network ("tcp" or "udp"), closed when the test ends.
func dialT(t testing.TB, network, addr string) net.Conn {
	t.Helper()
	if network == "tcp" {
		return testkit.Dial(t, addr).Conn
	}
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

// gatedEcho is an echo server whose connections' writes wait at the
// gate: an echo reply in progress is its busy session.
type gatedEcho struct {
	*Server
	gate *testkit.Gate
}

func (g gatedEcho) Serve(l net.Listener) error {
	return g.Server.Serve(testkit.Listener{Listener: l, Wrap: func(c net.Conn) net.Conn {
		ctx, cancel := context.WithCancel(context.Background())
		return &gatedConn{Conn: c, gate: g.gate, ctx: ctx, cancel: cancel}
	}})
}

type gatedConn struct {
	net.Conn
	gate   *testkit.Gate
	ctx    context.Context // canceled by Close, which ends a wait
	cancel context.CancelFunc
}

func (c *gatedConn) Write(p []byte) (int, error) {
	if err := c.gate.Wait(c.ctx); err != nil {
		return 0, net.ErrClosed
	}
	return c.Conn.Write(p)
}

func (c *gatedConn) Close() error {
	c.cancel()
	return c.Conn.Close()
}

// TestConformance runs the lifecycle conformance test on echo: an idle
// session waits in a read, a busy one is in the middle of writing the
// echo of what it read, which Shutdown lets finish.
func TestConformance(t *testing.T) {
	testkit.Conformance(t, testkit.Target{
		New: func(t *testing.T, gate *testkit.Gate) testkit.StreamServer {
			return gatedEcho{&Server{Service: Echo, Logger: quietLog}, gate}
		},
		Busy:   func(t *testing.T, c *testkit.Transcript) { c.Send("ping") },
		Finish: func(t *testing.T, c *testkit.Transcript) { c.Expect("ping") },
	})
}

// wantChargenLine is line n of RFC 864's pattern, computed apart from
// the server's code: 72 characters of the printable ring from n mod 95.
func wantChargenLine(n int) string {
	var sb strings.Builder
	for i := range 72 {
		sb.WriteByte(byte(32 + (n+i)%95))
	}
	return sb.String() + "\r\n"
}

// chargenFromLineStart reports whether b is the pattern from the start
// of some line.
func chargenFromLineStart(b []byte) bool {
	for first := range 95 {
		var want strings.Builder
		for n := first; want.Len() < len(b); n++ {
			want.WriteString(wantChargenLine(n))
		}
		if strings.HasPrefix(want.String(), string(b)) {
			return true
		}
	}
	return false
}

// fixedNow is RFC 867's example instant, 1982-02-22 17:37:43 PST.
var fixedNow = time.Date(1982, 2, 22, 17, 37, 43, 0, time.FixedZone("PST", -8*3600))

func TestEchoTCP(t *testing.T) {
	addr := startTCP(t, &Server{Service: Echo})
	c := dialT(t, "tcp", addr)
	if _, err := c.Write([]byte("hello\r\n")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 7)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "hello\r\n" {
		t.Fatalf("echo of %q = %q, %v", "hello\r\n", got, err)
	}
	// A large block makes the buffer grow; the echo must stay exact.
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(rand.Uint32())
	}
	go c.Write(big)
	back := make([]byte, len(big))
	if _, err := io.ReadFull(c, back); err != nil {
		t.Fatalf("reading 1 MiB echo: %v", err)
	}
	if !bytes.Equal(back, big) {
		t.Fatalf("1 MiB echo differs: %v", compareEcho(big, back))
	}
	// Half-close: the server echoes what is left, then closes.
	c.Write([]byte("tail"))
	c.(*net.TCPConn).CloseWrite()
	rest, err := io.ReadAll(c)
	if err != nil || string(rest) != "tail" {
		t.Fatalf("after half-close read %q, %v; want %q then EOF", rest, err, "tail")
	}
}

func TestEchoUDP(t *testing.T) {
	addr := startUDP(t, &Server{Service: Echo})
	c := dialT(t, "udp", addr)
	for _, size := range []int{0, 1, 512, 1472, 9000, MaxDatagram} {
		msg := make([]byte, size)
		for i := range msg {
			msg[i] = byte(i*7 + size)
		}
		if _, err := c.Write(msg); err != nil {
			t.Fatalf("send %d bytes: %v", size, err)
		}
		buf := make([]byte, MaxDatagram+100)
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("echo of %d-byte datagram: %v", size, err)
		}
		if !bytes.Equal(buf[:n], msg) {
			t.Fatalf("echo of %d-byte datagram is %d bytes, differs: %v", size, n, compareEcho(msg, buf[:n]))
		}
	}
}

func TestDiscard(t *testing.T) {
	addr := startTCP(t, &Server{Service: Discard})
	c := dialT(t, "tcp", addr)
	if _, err := c.Write(bytes.Repeat([]byte("x"), 300000)); err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()
	if got, err := io.ReadAll(c); err != nil || len(got) != 0 {
		t.Fatalf("discard answered %q, %v; want nothing then EOF", got, err)
	}

	uaddr := startUDP(t, &Server{Service: Discard})
	u := dialT(t, "udp", uaddr)
	u.Write([]byte("into the void"))
	u.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, err := u.Read(make([]byte, 100)); err == nil {
		t.Fatalf("discard/udp answered %d bytes, want no answer", n)
	}
}

func TestChargenTCP(t *testing.T) {
	addr := startTCP(t, &Server{Service: Chargen})
	c := dialT(t, "tcp", addr)
	// Two full cycles and then some: the pattern must wrap exactly.
	lines := 2*95 + 10
	got := make([]byte, lines*74)
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	for n := range lines {
		line := string(got[n*74 : (n+1)*74])
		if want := wantChargenLine(n); line != want {
			t.Fatalf("chargen line %d = %q, want %q", n, line, want)
		}
	}
	if first := string(got[:74]); !strings.HasPrefix(first, ` !"#$%&`) || !strings.HasSuffix(first, "efg\r\n") {
		t.Errorf("chargen line 0 = %q, want the ring from space", first)
	}
}

func TestChargenUDP(t *testing.T) {
	addr := startUDP(t, &Server{Service: Chargen})
	c := dialT(t, "udp", addr)
	buf := make([]byte, MaxDatagram+1)
	lens := map[int]bool{}
	for i, size := range []int{0, 1, 100, 1000, 65507, 0, 0, 0, 0, 0, 0, 0} {
		if _, err := c.Write(make([]byte, size)); err != nil {
			t.Fatal(err)
		}
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("chargen/udp reply to %d-byte datagram: %v", size, err)
		}
		if n < 1 || n > 512 {
			t.Fatalf("chargen/udp reply %d to a %d-byte datagram is %d bytes, want 1..512", i, size, n)
		}
		if !chargenFromLineStart(buf[:n]) {
			t.Fatalf("chargen/udp reply %q is not the pattern from a line start", buf[:n])
		}
		lens[n] = true
	}
	if len(lens) < 2 {
		t.Errorf("chargen/udp replies all had one length %v; RFC 864 asks for a random length", lens)
	}
}

func TestDaytime(t *testing.T) {
	srv := &Server{Service: Daytime, Now: func() time.Time { return fixedNow }, Location: fixedNow.Location()}
	const want = "Monday, February 22, 1982 17:37:43 -0800\r\n"
	for _, network := range []string{"tcp", "udp"} {
		var addr string
		if network == "tcp" {
			addr = startTCP(t, srv)
		} else {
			addr = startUDP(t, &Server{Service: Daytime, Now: srv.Now, Location: srv.Location})
		}
		c := dialT(t, network, addr)
		var got []byte
		if network == "tcp" {
			got, _ = io.ReadAll(c)
		} else {
			c.Write(nil)
			buf := make([]byte, 1000)
			n, err := c.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			got = buf[:n]
		}
		if string(got) != want {
			t.Errorf("daytime over %s = %q, want %q", network, got, want)
		}
	}
}

func TestTime(t *testing.T) {
	// RFC 868: 2,208,988,800 is 1970-01-01 00:00 UTC.
	now := func() time.Time { return time.Unix(0, 0) }
	want := []byte{0x83, 0xaa, 0x7e, 0x80}
	c := dialT(t, "tcp", startTCP(t, &Server{Service: Time, Now: now}))
	if got, err := io.ReadAll(c); err != nil || !bytes.Equal(got, want) {
		t.Errorf("time over tcp = % x, %v; want % x", got, err, want)
	}
	u := dialT(t, "udp", startUDP(t, &Server{Service: Time, Now: now}))
	u.Write(nil)
	buf := make([]byte, 100)
	n, err := u.Read(buf)
	if err != nil || !bytes.Equal(buf[:n], want) {
		t.Errorf("time over udp = % x, %v; want % x", buf[:n], err, want)
	}
}

func TestQOTD(t *testing.T) {
	quotes := []string{"one", "two\r\n  -- someone", strings.Repeat("x", 600)}
	seen := map[string]bool{}
	addr := startTCP(t, &Server{Service: QOTD, Quotes: quotes})
	for range 40 {
		got, err := io.ReadAll(dialT(t, "tcp", addr))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) >= 512 {
			t.Fatalf("qotd reply is %d bytes, want under 512", len(got))
		}
		seen[string(got)] = true
	}
	if len(seen) != 2 || !seen["one\r\n"] || !seen["two\r\n  -- someone\r\n"] {
		t.Errorf("qotd replies %q, want both short quotes and not the over-long one", keys(seen))
	}

	// No quotes: the built-in list, each under 512 bytes, over UDP too.
	u := dialT(t, "udp", startUDP(t, &Server{Service: QOTD}))
	buf := make([]byte, 2000)
	for range 20 {
		u.Write([]byte("any request"))
		n, err := u.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 || n >= 512 || !bytes.HasSuffix(buf[:n], []byte("\r\n")) {
			t.Fatalf("qotd/udp reply %q: want 1..511 bytes ending CRLF", buf[:n])
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestLoopPortsIgnored(t *testing.T) {
	for _, p := range []int{0, 7, 9, 13, 17, 19, 37, 10007, 10019, 10037} {
		if !dropSource(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p}) {
			t.Errorf("dropSource(port %d) = false, want true", p)
		}
	}
	for _, p := range []int{1, 53, 1024, 10008, 40000, 65535} {
		if dropSource(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p}) {
			t.Errorf("dropSource(port %d) = true, want false", p)
		}
	}
	// A datagram really sent from a loop port gets no answer, if one is free here.
	addr := startUDP(t, &Server{Service: Echo})
	for _, p := range []string{"127.0.0.1:10019", "127.0.0.1:10007", "127.0.0.1:19"} {
		pc, err := net.ListenPacket("udp", p)
		if err != nil {
			continue
		}
		defer pc.Close()
		dst, _ := net.ResolveUDPAddr("udp", addr)
		pc.WriteTo([]byte("ping"), dst)
		pc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if n, _, err := pc.ReadFrom(make([]byte, 10)); err == nil {
			t.Errorf("echo/udp answered %d bytes to a datagram from %s, want silence", n, p)
		}
		return
	}
}

func TestIdleTimeout(t *testing.T) {
	addr := startTCP(t, &Server{Service: Echo, IdleTimeout: 150 * time.Millisecond})
	c := dialT(t, "tcp", addr)
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read on idle connection = %v, want EOF when the server closes it", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Errorf("idle connection closed after %v, want about 150ms", d)
	}
}

// TestShutdownChargen: chargen's output has no end to wait for, so
// Shutdown ends it at once, whether the peer reads or not.
func TestShutdownChargen(t *testing.T) {
	srv := &Server{Service: Chargen, Logger: quietLog}
	addr := testkit.Serve(t, srv, nil)
	reading, stalled := testkit.Dial(t, addr), testkit.Dial(t, addr)
	io.ReadFull(reading.Conn, make([]byte, 1000))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with chargen readers = %v, want nil", err)
	}
	for _, c := range []*testkit.Transcript{reading, stalled} {
		if !c.Closed(2 * time.Second) {
			t.Errorf("chargen session still open after Shutdown")
		}
	}
}

func TestShutdownPacket(t *testing.T) {
	srv := &Server{Service: Echo, Logger: quietLog}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	done := make(chan error, 1)
	go func() { done <- srv.ServePacket(pc) }()
	u := dialT(t, "udp", pc.LocalAddr().String())
	u.Write([]byte("ping"))
	if _, err := u.Read(make([]byte, 4)); err != nil {
		t.Fatalf("echo/udp before Shutdown: %v", err)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown = %v, want nil", err)
	}
	if err := <-done; !errors.Is(err, ErrServerClosed) {
		t.Errorf("ServePacket after Shutdown = %v, want ErrServerClosed", err)
	}
	if err := srv.ServePacket(pc); !errors.Is(err, ErrServerClosed) {
		t.Errorf("ServePacket on a shut down server = %v, want ErrServerClosed", err)
	}
}

func TestUnknownService(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l.Close()
	if err := (&Server{}).Serve(l); err == nil {
		t.Errorf("Serve with no Service = nil, want an error")
	}
}
