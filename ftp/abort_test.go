package ftp

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

func TestStatAndAborDuringUpload(t *testing.T) {
	ts := startServer(t, nil)
	c := dialT(t, ts.addr)
	c.login("alice", "secret")
	d := c.epsv()
	c.Do("STOR part.bin", 150)
	io.WriteString(d, strings.Repeat("x", 1000))
	testkit.Eventually(t, 5*time.Second, "STAT reporting 1000 bytes", func() bool {
		code, msg := c.Cmd("STAT")
		if code != 213 || !strings.Contains(msg, "/part.bin") {
			t.Fatalf("STAT during a transfer = %d %q, want 213 naming the file", code, msg)
		}
		return strings.Contains(msg, " 1000 bytes")
	})
	c.Do("NOOP", 200)
	c.Send("ABOR")
	if code, msg := c.Reply(); code != 426 {
		t.Fatalf("ABOR during STOR: first reply %d %q, want 426", code, msg)
	}
	if code, msg := c.Reply(); code != 226 {
		t.Fatalf("ABOR during STOR: second reply %d %q, want 226", code, msg)
	}
	if _, err := ts.home.ReadFile("part.bin"); err == nil {
		t.Fatal("an aborted upload left a file under its name")
	}
	c.Do("NOOP", 200)
}

func TestAborDuringDownload(t *testing.T) {
	ts := startServer(t, nil)
	ts.home.WriteFile("big", make([]byte, 64<<20))
	c := dialT(t, ts.addr)
	c.login("alice", "secret")
	d := c.epsv()
	c.Do("RETR big", 150)
	buf := make([]byte, 1000)
	io.ReadFull(d, buf) // the transfer runs; the client stops reading
	c.Send("ABOR")
	if code, msg := c.Reply(); code != 426 {
		t.Fatalf("ABOR during RETR: first reply %d %q, want 426", code, msg)
	}
	if code, msg := c.Reply(); code != 226 {
		t.Fatalf("ABOR during RETR: second reply %d %q, want 226", code, msg)
	}
	c.Do("PWD", 257)
}

func TestCommandsWaitForTransfer(t *testing.T) {
	ts := startServer(t, nil)
	c := dialT(t, ts.addr)
	c.login("alice", "secret")
	d := c.epsv()
	// STOR, then SIZE pipelined: SIZE must see the committed file.
	c.Send("STOR f")
	c.Send("SIZE f")
	if code, _ := c.Reply(); code != 150 {
		t.Fatalf("STOR = %d, want 150", code)
	}
	io.WriteString(d, "12345")
	d.Close()
	if code, _ := c.Reply(); code != 226 {
		t.Fatalf("STOR final = %d, want 226", code)
	}
	if code, msg := c.Reply(); code != 213 || msg != "213 5" {
		t.Fatalf("SIZE pipelined after STOR = %d %q, want 213 5", code, msg)
	}
}

func TestUploadCutOffLeavesNoFile(t *testing.T) {
	ts := startServer(t, nil)
	ts.home.WriteFile("keep.bin", []byte("old content"))
	for _, name := range []string{"new.bin", "keep.bin"} {
		c := dialT(t, ts.addr)
		c.login("alice", "secret")
		d := c.epsv()
		c.Do("STOR "+name, 150)
		io.WriteString(d, strings.Repeat("y", 100000))
		// The client dies: its data connection is reset.
		d.(*net.TCPConn).SetLinger(0)
		d.Close()
		if code, msg := c.Reply(); code != 426 {
			t.Fatalf("STOR %s cut off: reply %d %q, want 426", name, code, msg)
		}
	}
	if _, err := ts.home.ReadFile("new.bin"); err == nil {
		t.Fatal("an upload cut off left a file under its name")
	}
	if b, _ := ts.home.ReadFile("keep.bin"); string(b) != "old content" {
		t.Fatalf("keep.bin after a cut-off upload = %q, want the old content", b)
	}
}

func TestClientGoneMidUploadLeavesNoFile(t *testing.T) {
	ts := startServer(t, nil)
	// A killed client: the kernel closes both connections with a normal
	// FIN, in either order (Linux closes the last opened first).
	for _, dataFirst := range []bool{true, false} {
		c := dialT(t, ts.addr)
		c.login("alice", "secret")
		d := c.epsv()
		c.Do("STOR gone.bin", 150)
		io.WriteString(d, strings.Repeat("z", 50000))
		if dataFirst {
			d.Close()
			c.Conn.Close()
		} else {
			c.Conn.Close()
			d.Close()
		}
		testkit.Eventually(t, 5*time.Second, "every session ended", func() bool { return ts.srv.activeSessions() == 0 })
		if _, err := ts.home.ReadFile("gone.bin"); err == nil {
			t.Fatalf("the upload of a client that went away (data closed first: %v) was committed", dataFirst)
		}
	}
}

func TestShutdownWaitsForTransfer(t *testing.T) {
	ts := startServer(t, nil)
	c := dialT(t, ts.addr)
	c.login("alice", "secret")
	d := c.epsv()
	c.Do("STOR slow.bin", 150)
	io.WriteString(d, "first half ")
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- ts.srv.Shutdown(ctx)
	}()
	testkit.Eventually(t, 5*time.Second, "Shutdown begun", ts.srv.loop.Closing)
	// Nothing must happen for a while: Shutdown waits for the transfer.
	select {
	case err := <-done:
		t.Fatalf("Shutdown() = %v during a transfer, want it to wait", err)
	case <-time.After(100 * time.Millisecond):
	}
	io.WriteString(d, "second half")
	d.Close()
	if code, _ := c.Reply(); code != 226 {
		t.Fatalf("transfer across Shutdown = %d, want 226", code)
	}
	if code, _ := c.Reply(); code != 421 {
		t.Fatalf("after the transfer at shutdown = %d, want 421", code)
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if b, _ := ts.home.ReadFile("slow.bin"); string(b) != "first half second half" {
		t.Fatalf("slow.bin = %q, want the whole upload", b)
	}
}
