package ftp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// A feature on several FEAT lines keeps all of its parameters.
func TestFeaturesRepeatedLines(t *testing.T) {
	cc, sc := net.Pipe()
	defer cc.Close()
	go func() {
		defer sc.Close()
		r := bufio.NewReader(sc)
		io.WriteString(sc, "220 scripted\r\n")
		if l, _ := r.ReadString('\n'); l != "FEAT\r\n" {
			return
		}
		io.WriteString(sc, "211-Features:\r\n AUTH TLS\r\n AUTH SSL\r\n MDTM\r\n UTF8\r\n211 End\r\n")
		r.ReadString('\n')
	}()
	c, err := NewClient(cc)
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.Features()
	if err != nil {
		t.Fatalf("Features() = %v", err)
	}
	if f["AUTH"] != "TLS;SSL" {
		t.Errorf(`Features()["AUTH"] = %q, want "TLS;SSL"`, f["AUTH"])
	}
	if _, ok := f["MDTM"]; !ok {
		t.Errorf("Features() = %v, want MDTM in it", f)
	}
}

// Login sends no password in the clear to a server off loopback unless
// told to; anonymous logins go through.
func TestClientRefusesPlaintextPassword(t *testing.T) {
	cs := startClientTestServer(t, "")
	dial := func() *Client {
		nc, err := net.Dial("tcp", cs.addr)
		if err != nil {
			t.Fatal(err)
		}
		c, err := NewClient(testkit.FromAfar(nc))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	if err := dial().Login("bob", "pa ss"); !errors.Is(err, ErrPlaintext) {
		t.Errorf("Login(bob) in the clear off loopback = %v, want ErrPlaintext", err)
	}
	c := dial()
	c.InsecureAuth = true
	if err := c.Login("bob", "pa ss"); err != nil {
		t.Errorf("Login(bob) with InsecureAuth = %v, want success", err)
	}
	if err := dial().Login("anonymous", "guest@"); errors.Is(err, ErrPlaintext) {
		t.Errorf("Login(anonymous) in the clear = %v, want no ErrPlaintext", err)
	}
}

// A hostile server's endless reply line fails fast and bounded.
func TestClientEndlessReplyLine(t *testing.T) {
	cc, sc := net.Pipe()
	defer cc.Close()
	go func() {
		defer sc.Close()
		io.WriteString(sc, "220 ")
		chunk := bytes.Repeat([]byte("x"), 1<<20)
		for range 100 { // 100 MB without a line end
			if _, err := sc.Write(chunk); err != nil {
				return
			}
		}
	}()
	start := time.Now()
	_, err := NewClient(cc)
	if !errors.Is(err, errReplyTooLong) || time.Since(start) > 5*time.Second {
		t.Fatalf("NewClient with a 100 MB greeting line = %v after %v, want errReplyTooLong at once", err, time.Since(start))
	}
}
