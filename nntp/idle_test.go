package nntp

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// idleTarget is issue 9's budget for an idle reader's session.
const idleTarget = 64 << 10

// heapAndStacks is what the process holds in Go heap and goroutine
// stacks after a collection.
func heapAndStacks() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// readReply reads one reply line from c, byte by byte (no buffer that
// would count against the server), and checks its code.
func readReply(t *testing.T, c net.Conn, code string) {
	t.Helper()
	var line []byte
	b := make([]byte, 1)
	for !bytes.HasSuffix(line, []byte("\r\n")) {
		if _, err := c.Read(b); err != nil {
			t.Fatalf("reading the reply: %v (so far %q)", err, line)
		}
		line = append(line, b[0])
	}
	if !bytes.HasPrefix(line, []byte(code)) {
		t.Fatalf("reply %q, want %s", line, code)
	}
}

// readerCommands is MODE READER and GROUP misc.test, deflated and
// sync-flushed: what a client under COMPRESS sends.
var readerCommands = func() []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	w.Write([]byte("MODE READER\r\nGROUP misc.test\r\n"))
	w.Flush()
	return b.Bytes()
}()

// readDeflated reads compressed bytes up to a sync flush's marker
// (00 00 ff ff) and returns them inflated, by a reader that is
// dropped afterwards.
func readDeflated(t *testing.T, c net.Conn) string {
	t.Helper()
	var raw []byte
	b := make([]byte, 256)
	for !bytes.HasSuffix(raw, []byte{0, 0, 0xff, 0xff}) {
		n, err := c.Read(b)
		if err != nil {
			t.Fatalf("reading compressed replies: %v", err)
		}
		raw = append(raw, b[:n]...)
	}
	out, _ := io.ReadAll(flate.NewReader(bytes.NewReader(raw))) // ends at the sync point: unexpected EOF
	return string(out)
}

// idleCost opens n reader sessions that chose a group (and, with
// compress, turned on COMPRESS DEFLATE) and then wait, and returns the
// server's memory per session. The client side is bare connections,
// so what grows is the server's.
func idleCost(t *testing.T, n int, compress bool) float64 {
	ts := startServer(t, nil, func(s *Server) { s.MaxCompressSessions = n })
	warm, err := net.Dial("tcp", ts.addr) // the server's first-session costs, not counted
	if err != nil {
		t.Fatal(err)
	}
	readReply(t, warm, "20")
	defer warm.Close()
	before := heapAndStacks()
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		readReply(t, c, "20")
		if compress {
			fmt.Fprintf(c, "COMPRESS DEFLATE\r\n")
			readReply(t, c, "206")
			// The same commands, compressed: the server inflates them
			// and answers through a deflater it then gives back.
			c.Write(readerCommands)
			if got := readDeflated(t, c); !strings.Contains(got, "\r\n211 ") {
				t.Fatalf("compressed replies %q, want 20x and 211", got)
			}
		} else {
			fmt.Fprintf(c, "MODE READER\r\nGROUP misc.test\r\n")
			readReply(t, c, "20")
			readReply(t, c, "211")
		}
	}
	testkit.Eventually(t, 10*time.Second, "every deflater back in the pool", func() bool {
		return len(ts.compressWriters()) == 0
	})
	after := heapAndStacks()
	// The client side of each session (a net.Conn) is a few hundred
	// bytes; it is left in, which overstates the server's cost.
	return float64(after-before) / float64(n)
}

// TestIdleReaderMemory measures what an idle reader costs the server,
// without and with COMPRESS DEFLATE, against the 64 KiB target.
func TestIdleReaderMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("opens a few hundred sessions")
	}
	const n = 200
	plain := idleCost(t, n, false)
	compressed := idleCost(t, n, true)
	t.Logf("idle reader: %.1f KiB; under COMPRESS DEFLATE: %.1f KiB (target %d KiB)", plain/1024, compressed/1024, idleTarget>>10)
	if plain > idleTarget {
		t.Errorf("an idle reader costs %.1f KiB, over the %d KiB target", plain/1024, idleTarget>>10)
	}
	if compressed > idleTarget {
		t.Errorf("an idle reader under COMPRESS costs %.1f KiB, over the %d KiB target", compressed/1024, idleTarget>>10)
	}
}
