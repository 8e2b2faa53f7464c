package simple

import (
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// countingListener counts the bytes the server reads and writes on its
// connections.
type countingListener struct {
	net.Listener
	read, written atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, l: l}, nil
}

type countingConn struct {
	net.Conn
	l *countingListener
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.l.read.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.l.written.Add(int64(n))
	return n, err
}

func startCounting(t *testing.T, srv *Server) (*countingListener, string) {
	t.Helper()
	srv.Logger = quietLog
	cl := &countingListener{Listener: testkit.Listen(t)}
	return cl, testkit.Serve(t, srv, cl)
}

// settle waits until v has not changed for half a second (the server is
// blocked) and returns it.
func settle(t *testing.T, what string, v *atomic.Int64) int64 {
	t.Helper()
	last, same := int64(-1), 0
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		cur := v.Load()
		if cur != last || cur == 0 {
			last, same = cur, 0
			continue
		}
		if same++; same == 5 {
			return cur
		}
	}
	t.Fatalf("%s never stopped growing (%d bytes): no backpressure", what, last)
	return 0
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// TestBackpressureChargen: peers that never read must block the server's
// writes, not make it buffer.
func TestBackpressureChargen(t *testing.T) {
	cl, addr := startCounting(t, &Server{Service: Chargen})
	before := heapInUse()
	const peers = 10
	for range peers {
		dialT(t, "tcp", addr) // never read
	}
	blocked := settle(t, "chargen output", &cl.written)
	mid := heapInUse()
	time.Sleep(time.Second)
	if now := cl.written.Load(); now != blocked {
		t.Errorf("chargen wrote %d more bytes to peers that do not read", now-blocked)
	}
	after := heapInUse()
	t.Logf("chargen: %d peers blocked after %d bytes; heap+stack %d -> %d -> %d", peers, blocked, before, mid, after)
	if grown := int64(after) - int64(before); grown > 1<<20 {
		t.Errorf("heap+stack grew %d bytes for %d blocked chargen peers, want under 1 MiB", grown, peers)
	}
}

func TestBackpressureEcho(t *testing.T) {
	cl, addr := startCounting(t, &Server{Service: Echo})
	before := heapInUse()
	c := dialT(t, "tcp", addr)
	// Send without ever reading: once the buffers fill, the server must
	// stop reading because its writes block.
	var wg sync.WaitGroup
	wg.Go(func() {
		chunk := make([]byte, 64<<10)
		c.SetWriteDeadline(time.Now().Add(4 * time.Second))
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	})
	blocked := settle(t, "echo input", &cl.read)
	time.Sleep(500 * time.Millisecond)
	if now := cl.read.Load(); now != blocked {
		t.Errorf("echo read %d more bytes from a peer that does not read its echo", now-blocked)
	}
	after := heapInUse()
	t.Logf("echo: blocked after reading %d bytes, writing %d; heap+stack %d -> %d", blocked, cl.written.Load(), before, after)
	if grown := int64(after) - int64(before); grown > 1<<20 {
		t.Errorf("heap+stack grew %d bytes for a blocked echo peer, want under 1 MiB", grown)
	}
	c.Close()
	wg.Wait()
}

// TestManyIdleConnections holds 2,000 idle echo connections, checks that
// every one still echoes, and reports the memory each costs.
func TestManyIdleConnections(t *testing.T) {
	const n = 2000
	srv := &Server{Service: Echo, Logger: quietLog}
	addr := testkit.Serve(t, srv, nil)
	before := heapInUse()
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range n {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial %d of %d: %v", i+1, n, err)
		}
		conns = append(conns, c)
	}
	testkit.Eventually(t, 10*time.Second, fmt.Sprintf("%d sessions open", n), func() bool { return srv.loop.Sessions() == n })
	time.Sleep(100 * time.Millisecond) // for the last sessions' goroutines to block in their first read
	idle := heapInUse()
	perConn := (int64(idle) - int64(before)) / n
	t.Logf("%d idle echo connections: %d bytes of heap+stack each (both ends, in one process)", n, perConn)
	if perConn > 20<<10 {
		t.Errorf("idle echo connection costs %d bytes of heap+stack, want at most 20 KiB", perConn)
	}
	buf := make([]byte, 8)
	for i, c := range conns {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte("still up")); err != nil {
			t.Fatalf("conn %d write: %v", i, err)
		}
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "still up" {
			t.Fatalf("conn %d echo = %q, %v; want %q", i, buf, err, "still up")
		}
	}
}
