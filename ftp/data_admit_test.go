package ftp

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// admitted counts what an AdmitDataConn hook saw.
type admitted struct {
	mu       sync.Mutex
	controls []net.Conn
	open     atomic.Int32
	calls    atomic.Int32
	bytes    atomic.Int64
	readFrom atomic.Int32
}

// countedConn is a data connection under the hook's accounting.
type countedConn struct {
	net.Conn
	a    *admitted
	once sync.Once
}

func (c *countedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.a.bytes.Add(int64(n))
	return n, err
}

func (c *countedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.a.bytes.Add(int64(n))
	return n, err
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.a.open.Add(-1) })
	return c.Conn.Close()
}

// fileConn also sends files itself, as the daemon's wrapper does.
type fileConn struct{ *countedConn }

func (c fileConn) ReadFrom(r io.Reader) (int64, error) {
	c.a.readFrom.Add(1)
	n, err := c.Conn.(io.ReaderFrom).ReadFrom(r)
	c.a.bytes.Add(n)
	return n, err
}

func (a *admitted) hook(withReadFrom bool) func(control, data net.Conn) (net.Conn, error) {
	return func(control, data net.Conn) (net.Conn, error) {
		a.calls.Add(1)
		a.open.Add(1)
		a.mu.Lock()
		a.controls = append(a.controls, control)
		a.mu.Unlock()
		cc := &countedConn{Conn: data, a: a}
		if withReadFrom {
			return fileConn{cc}, nil
		}
		return cc, nil
	}
}

// Every data connection, passive and active, for listings, downloads
// and uploads, goes through AdmitDataConn, is used as it returns it, and
// is closed when its transfer ends.
func TestAdmitDataConn(t *testing.T) {
	var a admitted
	ts := startServer(t, func(s *Server) { s.AdmitDataConn = a.hook(false) })
	ts.home.WriteFile("a.txt", []byte("hello, data"))
	c := dialT(t, ts.addr)
	c.login("alice", "secret")
	if got := c.retr("RETR a.txt"); got != "hello, data" {
		t.Fatalf("RETR a.txt = %q, want %q", got, "hello, data")
	}
	c.retr("LIST")
	if code, msg := c.stor("STOR b.txt", "uploaded"); code != 226 {
		t.Fatalf("STOR b.txt = %d %q, want 226", code, msg)
	}
	// Active mode.
	if _, code, msg := c.activeRetr("RETR a.txt"); code != 226 {
		t.Fatalf("active RETR = %d %q, want 226", code, msg)
	}
	if n := a.calls.Load(); n != 4 {
		t.Errorf("AdmitDataConn called %d times for 4 transfers, want 4", n)
	}
	if n := a.open.Load(); n != 0 {
		t.Errorf("after the transfers %d admitted data connections are still open, want 0", n)
	}
	if want := int64(2*len("hello, data") + len("uploaded")); a.bytes.Load() < want {
		t.Errorf("bytes through the admitted connections = %d, want at least %d", a.bytes.Load(), want)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ctl := range a.controls {
		if ctl.RemoteAddr().String() != c.Conn.LocalAddr().String() {
			t.Errorf("AdmitDataConn's control connection is from %v, want the client's %v", ctl.RemoteAddr(), c.Conn.LocalAddr())
		}
	}
}

// A wrapper that reads from files itself keeps the zero-copy path.
func TestAdmitDataConnKeepsSendfile(t *testing.T) {
	dir := t.TempDir()
	data := strings.Repeat("0123456789", 100000)
	os.WriteFile(filepath.Join(dir, "big.bin"), []byte(data), 0o644)
	var a admitted
	ts := startServer(t, func(s *Server) {
		s.Backend = rootBackend{newRootFS(t, dir)}
		s.AdmitDataConn = a.hook(true)
	})
	c := dialT(t, ts.addr)
	c.login("alice", "secret")
	if got := c.retr("RETR big.bin"); got != data {
		t.Fatalf("RETR big.bin returned %d bytes, want the %d of the file", len(got), len(data))
	}
	if a.readFrom.Load() == 0 {
		t.Errorf("RETR of a file through a ReaderFrom wrapper never called ReadFrom (no sendfile)")
	}
}

// A data connection the hook refuses is closed and answered 425; the
// session goes on.
func TestAdmitDataConnRefused(t *testing.T) {
	ts := startServer(t, func(s *Server) {
		s.AdmitDataConn = func(control, data net.Conn) (net.Conn, error) {
			return nil, errors.New("over the per-IP limit")
		}
	})
	ts.home.WriteFile("a.txt", []byte("x"))
	c := dialT(t, ts.addr)
	c.login("alice", "secret")
	d := c.epsv()
	// The 150 comes only once the data connection is admitted.
	if code, msg := c.Cmd("RETR a.txt"); code != 425 || !strings.Contains(msg, "limit") {
		t.Fatalf("RETR over a refused data connection = %d %q, want 425 about limits", code, msg)
	}
	d.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := io.ReadAll(d); len(b) > 0 || err != nil {
		t.Errorf("refused data connection read %q, %v; want EOF at once", b, err)
	}
	c.Do("NOOP", 200)
}

func portOf(a net.Addr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}
