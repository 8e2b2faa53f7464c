package daemon

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/plumbnet/plumb/internal/chaos"
	"github.com/plumbnet/plumb/internal/testkit"
)

// corked reports the TCP_CORK option of c's socket.
func corked(t *testing.T, c net.Conn) bool {
	t.Helper()
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	rc.Control(func(fd uintptr) { v, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK) })
	if gerr != nil {
		t.Fatal(gerr)
	}
	return v != 0
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln := testkit.Listen(t)
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	if server, err = ln.Accept(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	return server, client
}

// TestSendfileConnCorksFiles: a file's body is sent corked and the cork
// cleared after it; a body from anything else, and a connection under a
// chaos rule, are not corked.
func TestSendfileConnCorksFiles(t *testing.T) {
	server, _ := tcpPair(t)
	faults := chaos.New(nil, nil)
	c := sendfileConn{&trackedConn{Conn: faults.Service("http").Conn(server)}}
	f, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	uncork := c.cork(&io.LimitedReader{R: f, N: 1 << 20})
	if uncork == nil || !corked(t, server) {
		t.Fatal("a file's body is not corked")
	}
	uncork()
	if corked(t, server) {
		t.Fatal("the cork stays after the body")
	}
	if c.cork(strings.NewReader("not a file")) != nil || corked(t, server) {
		t.Error("a body that is not a file is corked")
	}
	if err := faults.Set("http", chaos.Rule{Bandwidth: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	if c.cork(f) != nil || corked(t, server) {
		t.Error("a connection under a chaos rule is corked")
	}
}

// TestHTTPFileDownloadUncorked: over the daemon's HTTP service a file
// larger than what net/http writes before sendfile comes whole, the
// connection is left uncorked for the next response on it, and the
// session counts the body's bytes.
func TestHTTPFileDownloadUncorked(t *testing.T) {
	cfg := httpTestConfig(t)
	h := httpSection.of(cfg)
	h.HTTPS.Enabled = false
	body := make([]byte, 3<<20+17)
	rand.Read(body)
	anon := filepath.Join(cfg.Data, "files", "anonymous")
	if err := os.MkdirAll(anon, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(anon, "big.bin"), body, 0o640); err != nil {
		t.Fatal(err)
	}
	d, addrs := startHTTPDaemonWith(t, cfg)
	addr := addrs["http"]
	var local net.Addr
	tr := &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, a)
		if err == nil {
			local = c.LocalAddr()
		}
		return c, err
	}}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr}
	for range 2 { // the second on the same, kept-alive connection
		resp, err := c.Get("http://" + addr + "/big.bin")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("GET big.bin: %d bytes, %v; want the file's %d", len(got), err, len(body))
		}
	}
	var tc *trackedConn
	d.connMu.Lock()
	for k := range d.conns {
		if k.r.Name == "http" && k.RemoteAddr().String() == local.String() {
			tc = k
		}
	}
	d.connMu.Unlock()
	if tc == nil {
		t.Fatalf("no http session from %v", local)
	}
	if corked(t, tc.Conn.(*chaos.Conn).NetConn()) {
		t.Error("the connection stays corked after the response")
	}
	if s, _ := sessionOf(d, "http", local); s.BytesOut < 2*int64(len(body)) {
		t.Errorf("session bytes out = %d, want at least the two bodies' %d", s.BytesOut, 2*len(body))
	}
}
