package interop

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/ftp"
)

// rawFTP is a control connection driven line by line.
type rawFTP struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawFTP {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawFTP{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// cmd sends line (none if empty) and returns the next reply line.
func (c *rawFTP) cmd(line string) string {
	c.t.Helper()
	if line != "" {
		fmt.Fprintf(c.conn, "%s\r\n", line)
	}
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	reply, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("%q: %v", line, err)
	}
	return strings.TrimRight(reply, "\r\n")
}

// epsv asks for a passive port and connects to it.
func (c *rawFTP) epsv() net.Conn {
	c.t.Helper()
	reply := c.cmd("EPSV")
	i, j := strings.Index(reply, "(|||"), strings.LastIndex(reply, "|)")
	if !strings.HasPrefix(reply, "229") || i < 0 || j < i {
		c.t.Fatalf("EPSV = %q, want 229", reply)
	}
	host, _, _ := net.SplitHostPort(c.conn.RemoteAddr().String())
	d, err := net.DialTimeout("tcp", net.JoinHostPort(host, reply[i+4:j]), 5*time.Second)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { d.Close() })
	return d
}

// dialServe logs alice in to plumb serve's FTP service with our client.
func dialServe(t *testing.T, s *Serve) *ftp.Client {
	t.Helper()
	d := ftp.Dialer{Timeout: 10 * time.Second}
	c, err := d.Dial(context.Background(), s.Addr(t, "ftp"))
	if err != nil {
		t.Fatalf("Dial(plumb serve): %v", err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(ftpUser, ftpPass); err != nil {
		t.Fatalf("Login(%s): %v", ftpUser, err)
	}
	return c
}

// Data connections count against the daemon's per-IP limit: with one
// connection allowed, the control connection takes it and a transfer's
// data connection is refused with 425; with two, transfer after
// transfer works, each data connection's slot freed when it ends.
func TestFTPDataConnectionsUnderLimits(t *testing.T) {
	s, home := startFTPServe(t, "\n[limits]\nmax_conns_per_ip = 1\n")
	os.WriteFile(filepath.Join(home, "a.txt"), []byte("a"), 0o640)
	c := dialServe(t, s)
	var fe *ftp.Error
	if _, err := c.Retr("a.txt", io.Discard); !errors.As(err, &fe) || fe.Code != 425 {
		t.Fatalf("Retr(a.txt) with max_conns_per_ip = 1 = %v, want a 425 refusal of the data connection", err)
	}
	if err := c.NoOp(); err != nil {
		t.Fatalf("NoOp() after the refused data connection: %v", err)
	}

	s2, home2 := startFTPServe(t, "\n[limits]\nmax_conns_per_ip = 2\n")
	os.WriteFile(filepath.Join(home2, "a.txt"), []byte("a"), 0o640)
	c2 := dialServe(t, s2)
	for i := range 5 {
		var b bytes.Buffer
		if _, err := c2.Retr("a.txt", &b); err != nil || b.String() != "a" {
			t.Fatalf("Retr(a.txt) #%d with max_conns_per_ip = 2 = %q, %v; want %q", i+1, b.String(), err, "a")
		}
	}
}

// slowReader gives one byte per pause, count times, then EOF; with
// count < 0 it blocks for the whole pause and then ends.
type slowReader struct {
	pause time.Duration
	count int
}

func (r *slowReader) Read(p []byte) (int, error) {
	time.Sleep(r.pause)
	if r.count <= 0 {
		return 0, io.EOF
	}
	r.count--
	p[0] = 'x'
	return 1, nil
}

// The idle janitor closes a data connection that moves nothing for
// idle_timeout, and leaves alone a transfer that keeps moving, whose
// silent control connection the server keeps marked active.
func TestFTPDataConnectionIdleJanitor(t *testing.T) {
	s, home := startFTPServe(t, "\n[limits]\nidle_timeout = \"1s\"\n")
	c := dialServe(t, s)
	// Moving a byte every 300 ms for 3 s: longer than idle_timeout.
	if _, err := c.Stor("slow.bin", &slowReader{pause: 300 * time.Millisecond, count: 10}); err != nil {
		t.Fatalf("Stor(slow.bin) moving a byte every 300ms for 3s with idle_timeout 1s = %v, want success", err)
	}
	if b, _ := os.ReadFile(filepath.Join(home, "slow.bin")); len(b) != 10 {
		t.Errorf("slow.bin has %d bytes, want 10", len(b))
	}
	// A data connection that moves nothing: the janitor closes it.
	raw := dialRaw(t, s.Addr(t, "ftp"))
	raw.cmd("")
	raw.cmd("USER " + ftpUser)
	raw.cmd("PASS " + ftpPass)
	d := raw.epsv()
	if got := raw.cmd("STOR stalled.bin"); !strings.HasPrefix(got, "150") {
		t.Fatalf("STOR stalled.bin = %q, want 150", got)
	}
	start := time.Now()
	d.SetReadDeadline(time.Now().Add(8 * time.Second))
	_, err := d.Read(make([]byte, 1))
	if waited := time.Since(start); err == nil || waited > 6*time.Second {
		t.Fatalf("a data connection silent with idle_timeout 1s: read = %v after %v, want it closed within a few seconds", err, waited)
	}
	if got := raw.cmd(""); !strings.HasPrefix(got, "426") {
		t.Errorf("STOR over the closed data connection = %q, want 426", got)
	}
	if got := raw.cmd("NOOP"); !strings.HasPrefix(got, "200") {
		t.Errorf("NOOP after = %q, want 200: the control connection stays", got)
	}
	if _, err := os.Stat(filepath.Join(home, "stalled.bin")); err == nil {
		t.Errorf("the stalled upload was committed")
	}
}

// Behind a PROXY-protocol balancer the passive listener binds plumb's
// own address, and PASV advertises ftp.passive_address, not the
// header's destination.
func TestFTPPassiveBehindProxyProtocol(t *testing.T) {
	s, home := startFTPServe(t, "proxy_protocol = true\nrequire_tls = \"never\"\npassive_address = \"198.51.100.4\"\n")
	os.WriteFile(filepath.Join(home, "a.txt"), []byte("via the balancer"), 0o640)
	c := dialRaw(t, s.Addr(t, "ftp"))
	// The client is 127.0.0.1 (so data connections from here are its
	// own); it reached the balancer at 203.0.113.9:21.
	_, port, _ := net.SplitHostPort(c.conn.LocalAddr().String())
	fmt.Fprintf(c.conn, "PROXY TCP4 127.0.0.1 203.0.113.9 %s 21\r\n", port)
	cmd := c.cmd
	cmd("") // greeting
	cmd("USER " + ftpUser)
	if got := cmd("PASS " + ftpPass); !strings.HasPrefix(got, "230") {
		t.Fatalf("PASS behind PROXY = %q, want 230", got)
	}
	cmd("TYPE I")
	pasv := cmd("PASV")
	var h [6]int
	if i := strings.Index(pasv, "("); i < 0 || !strings.HasPrefix(pasv, "227") {
		t.Fatalf("PASV behind PROXY = %q, want 227", pasv)
	} else if _, err := fmt.Sscanf(pasv[i+1:], "%d,%d,%d,%d,%d,%d", &h[0], &h[1], &h[2], &h[3], &h[4], &h[5]); err != nil {
		t.Fatalf("PASV reply %q: %v", pasv, err)
	}
	if ip := fmt.Sprintf("%d.%d.%d.%d", h[0], h[1], h[2], h[3]); ip != "198.51.100.4" {
		t.Fatalf("PASV behind PROXY advertises %s, want passive_address 198.51.100.4", ip)
	}
	data, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", h[4]<<8|h[5]), 5*time.Second)
	if err != nil {
		t.Fatalf("the passive port is not open on plumb's own address: %v", err)
	}
	if got := cmd("RETR a.txt"); !strings.HasPrefix(got, "150") {
		t.Fatalf("RETR a.txt = %q, want 150", got)
	}
	data.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, _ := io.ReadAll(data)
	data.Close()
	if got := cmd(""); !strings.HasPrefix(got, "226") || string(b) != "via the balancer" {
		t.Fatalf("RETR behind PROXY = %q, data %q; want 226 and %q", got, b, "via the balancer")
	}
}

// A client's bad input through the daemon and the file store (os.Root):
// 5xx replies, and nothing logged as the server's error.
func TestFTPServerBadInputIsTheClientsError(t *testing.T) {
	s, home := startFTPServe(t, "")
	os.WriteFile(filepath.Join(home, "victim.txt"), []byte("v"), 0o640)
	outside := t.TempDir()
	os.Symlink(outside, filepath.Join(home, "escape-dir"))
	c := dialRaw(t, s.Addr(t, "ftp")) // raw: our client refuses a NUL itself
	c.cmd("")
	c.cmd("USER " + ftpUser)
	c.cmd("PASS " + ftpPass)
	for _, step := range []struct {
		lines []string
		code  string
	}{
		{[]string{"MKD a\x00b"}, "501"},
		{[]string{"DELE victim\x00.txt"}, "501"},
		{[]string{"RNFR victim.txt", "RNTO escape-dir/x"}, "550"},
		{[]string{"RNFR victim.txt", "RNTO " + strings.Repeat("n", 300)}, "553"},
		{[]string{"MKD escape-dir/new"}, "550"},
		{[]string{"MKD " + strings.Repeat("n", 300)}, "553"},
		{[]string{"SITE CHMOD 600 escape-dir"}, "550"},
		{[]string{"STOR escape-dir/x"}, "550"},
	} {
		last := len(step.lines) - 1
		for _, l := range step.lines[:last] {
			if got := c.cmd(l); got[0] > '3' {
				t.Fatalf("%q = %q, want success", l, got)
			}
		}
		if got := c.cmd(step.lines[last]); !strings.HasPrefix(got, step.code) {
			t.Errorf("%q = %q, want %s", step.lines[last], got, step.code)
		}
	}
	if ents, _ := os.ReadDir(outside); len(ents) > 0 {
		t.Errorf("names through a link out of the tree were made outside it: %v", ents)
	}
	c.cmd("QUIT")
	if strings.Contains(s.Stderr(), "level=ERROR") {
		t.Errorf("clients' bad input logged as the server's error:\n%s", s.Stderr())
	}
}
