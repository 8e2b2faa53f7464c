package daemon

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSlowDownloadOutlivesIdleTimeout: a binary download sent with
// sendfile that keeps moving, only slowly, is not taken for idle by the
// daemon's janitor (which sees the data connection) however long the
// whole file takes.
func TestSlowDownloadOutlivesIdleTimeout(t *testing.T) {
	cfg := ftpTestConfig(t)
	cfg.Limits.IdleTimeout.Duration = 500 * time.Millisecond
	home := filepath.Join(cfg.Data, "files", "home", "alice")
	os.MkdirAll(home, 0o750)
	const size = 16 << 20
	os.WriteFile(filepath.Join(home, "big"), make([]byte, size), 0o640)
	addrs := startFTPDaemon(t, cfg)
	c, err := net.Dial("tcp", addrs["ftp"])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	reply := func() string { l, _ := br.ReadString('\n'); return strings.TrimSpace(l) }
	cmd := func(s string) string { fmt.Fprintf(c, "%s\r\n", s); return reply() }
	reply()
	cmd("USER alice")
	cmd("PASS pw-alice-123")
	cmd("TYPE I")
	r := cmd("EPSV")
	var port int
	fmt.Sscanf(r[strings.Index(r, "|||")+3:], "%d", &port)
	host, _, _ := net.SplitHostPort(addrs["ftp"])
	dc, err := net.Dial("tcp", net.JoinHostPort(host, fmt.Sprint(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	dc.(*net.TCPConn).SetReadBuffer(32 << 10)
	dc.SetDeadline(time.Now().Add(30 * time.Second))
	cmd("RETR big")
	got, buf := 0, make([]byte, 64<<10)
	start := time.Now()
	for {
		n, err := dc.Read(buf)
		got += n
		if err != nil {
			break
		}
		time.Sleep(10 * time.Millisecond) // at most 6.5 MB/s: slow, but moving
	}
	if final := reply(); got != size || !strings.HasPrefix(final, "226") {
		t.Fatalf("RETR big, read slowly over %v with idle_timeout 500ms: %d of %d bytes, then %q; want all and 226", time.Since(start).Round(time.Millisecond), got, size, final)
	}
}
