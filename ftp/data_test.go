package ftp

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestRetrStorAppeRest(t *testing.T) {
	ts := startServer(t, nil)
	ts.home.WriteFile("a.txt", []byte("hello world"))
	c := dialT(t, ts.addr)
	c.login("alice", "secret")

	if got := c.retr("RETR a.txt"); got != "hello world" {
		t.Fatalf("RETR a.txt = %q, want %q", got, "hello world")
	}
	c.Do("REST 6", 350)
	if got := c.retr("RETR a.txt"); got != "world" {
		t.Fatalf("REST 6 + RETR a.txt = %q, want %q", got, "world")
	}
	c.Do("REST 100", 350)
	c.Do("RETR a.txt", 554)
	c.Do("RETR none", 550)
	c.Do("RETR /", 550)
	// Without PASV or PORT first.
	c.Do("RETR a.txt", 425)

	if code, msg := c.stor("STOR b.txt", "uploaded"); code != 226 {
		t.Fatalf("STOR b.txt = %d %q, want 226", code, msg)
	}
	if b, _ := ts.home.ReadFile("b.txt"); string(b) != "uploaded" {
		t.Fatalf("b.txt after STOR = %q, want %q", b, "uploaded")
	}
	if code, msg := c.stor("APPE b.txt", " more"); code != 226 {
		t.Fatalf("APPE b.txt = %d %q, want 226", code, msg)
	}
	if b, _ := ts.home.ReadFile("b.txt"); string(b) != "uploaded more" {
		t.Fatalf("b.txt after APPE = %q, want %q", b, "uploaded more")
	}
	c.Do("REST 4", 350)
	if code, msg := c.stor("STOR b.txt", "ADED"); code != 226 {
		t.Fatalf("REST 4 + STOR b.txt = %d %q, want 226", code, msg)
	}
	if b, _ := ts.home.ReadFile("b.txt"); string(b) != "uploADED" {
		t.Fatalf("b.txt after REST 4 + STOR = %q, want %q", b, "uploADED")
	}
	c.Do("REST 100", 350)
	d := c.epsv()
	c.Do("STOR b.txt", 554)
	d.Close()

	code, msg := c.stor("STOU", "unique")
	if code != 226 || !strings.Contains(msg, "unique file name: file") {
		t.Fatalf("STOU = %d %q, want 226 naming the file", code, msg)
	}
	code, msg = c.stor("STOU", "unique2")
	if code != 226 || !strings.Contains(msg, "file.1") {
		t.Fatalf("second STOU = %d %q, want 226 naming file.1", code, msg)
	}
	if b, _ := ts.home.ReadFile("file.1"); string(b) != "unique2" {
		t.Fatalf("file.1 = %q, want %q", b, "unique2")
	}
	// PASV works like EPSV.
	p := c.pasv()
	c.Do("RETR a.txt", 150)
	got, _ := io.ReadAll(p)
	if code, _ := c.Reply(); code != 226 || string(got) != "hello world" {
		t.Fatalf("PASV + RETR = %d %q, want 226 %q", code, got, "hello world")
	}
}

func TestASCIIMode(t *testing.T) {
	ts := startServer(t, nil)
	ts.home.WriteFile("unix.txt", []byte("one\ntwo\r\nthree\n"))
	c := dialT(t, ts.addr)
	c.login("alice", "secret")
	c.Do("TYPE A", 200)
	if got, want := c.retr("RETR unix.txt"), "one\r\ntwo\r\nthree\r\n"; got != want {
		t.Fatalf("TYPE A RETR = %q, want %q", got, want)
	}
	if code, _ := c.stor("STOR dos.txt", "a\r\nb\rc\r\n\r"); code != 226 {
		t.Fatalf("TYPE A STOR = %d, want 226", code)
	}
	if b, _ := ts.home.ReadFile("dos.txt"); string(b) != "a\nb\rc\n\r" {
		t.Fatalf("TYPE A STOR stored %q, want %q", b, "a\nb\rc\n\r")
	}
	c.Do("TYPE I", 200)
	if got, want := c.retr("RETR unix.txt"), "one\ntwo\r\nthree\n"; got != want {
		t.Fatalf("TYPE I RETR = %q, want %q", got, want)
	}
}

func TestASCIICodecsAcrossChunks(t *testing.T) {
	in := []byte("x\r\ny\nz\r\r\n\n")
	for split := 0; split <= len(in); split++ {
		var out bytes.Buffer
		d := &asciiDecoder{w: &out}
		d.Write(in[:split])
		d.Write(in[split:])
		d.flush()
		if got, want := out.String(), "x\ny\nz\r\n\n"; got != want {
			t.Fatalf("decode split at %d = %q, want %q", split, got, want)
		}
	}
	enc := &asciiEncoder{r: io.MultiReader(strings.NewReader("a\r"), strings.NewReader("\nb\n"))}
	got, _ := io.ReadAll(enc)
	if string(got) != "a\r\nb\r\n" {
		t.Fatalf("encode = %q, want %q", got, "a\r\nb\r\n")
	}
}

func TestListings(t *testing.T) {
	ts := startServer(t, nil)
	ts.home.WriteFile("dir/a.txt", []byte("12345"))
	ts.home.WriteFile("dir/with space.txt", []byte("x"))
	ts.home.WriteFile("dir/日本語.txt", []byte("xy"))
	ts.home.WriteFile("dir/sub/deep", nil)
	c := dialT(t, ts.addr)
	c.login("alice", "secret")

	list := c.retr("LIST -la dir")
	lines := strings.Split(strings.TrimSuffix(list, "\r\n"), "\r\n")
	if len(lines) != 4 {
		t.Fatalf("LIST dir = %q, want 4 lines", list)
	}
	for i, want := range []string{"a.txt", "sub", "with space.txt", "日本語.txt"} {
		if !strings.HasSuffix(lines[i], " "+want) {
			t.Fatalf("LIST line %d = %q, want name %q", i, lines[i], want)
		}
	}
	if !strings.HasPrefix(lines[0], "-rw-r--r-- 1 ftp ftp            5 ") || !strings.HasPrefix(lines[1], "drwxr-xr-x ") {
		t.Fatalf("LIST lines = %q, want ls -l form", lines)
	}
	if got := c.retr("LIST dir/a.txt"); !strings.HasSuffix(got, " a.txt\r\n") || strings.Count(got, "\n") != 1 {
		t.Fatalf("LIST of a file = %q, want its one line", got)
	}
	if got, want := c.retr("NLST dir"), "dir/a.txt\r\ndir/sub\r\ndir/with space.txt\r\ndir/日本語.txt\r\n"; got != want {
		t.Fatalf("NLST dir = %q, want %q", got, want)
	}
	c.Do("CWD dir", 250)
	if got, want := c.retr("NLST"), "a.txt\r\nsub\r\nwith space.txt\r\n日本語.txt\r\n"; got != want {
		t.Fatalf("NLST = %q, want %q", got, want)
	}
	if got, want := c.retr("NLST *.txt"), "a.txt\r\nwith space.txt\r\n日本語.txt\r\n"; got != want {
		t.Fatalf("NLST *.txt = %q, want %q", got, want)
	}
	mlsd := c.retr("MLSD")
	for _, want := range []string{"type=file;size=5;modify=", "perm=adfrw;unique=", "; a.txt\r\n", "type=dir;", "perm=cdeflmp;", "; with space.txt\r\n", "; 日本語.txt\r\n"} {
		if !strings.Contains(mlsd, want) {
			t.Fatalf("MLSD = %q, want it to contain %q", mlsd, want)
		}
	}
	c.Do("MLSD a.txt", 501)
	c.Do("MLSD none", 550)
	c.Do("LIST none", 550)
}

func TestActiveMode(t *testing.T) {
	ts := startServer(t, nil)
	ts.home.WriteFile("a.txt", []byte("active data"))
	c := dialT(t, ts.addr)
	c.login("alice", "secret")
	for _, useEPRT := range []bool{false, true} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		if useEPRT {
			c.Do(fmt.Sprintf("EPRT |1|127.0.0.1|%d|", port), 200)
		} else {
			c.Do(fmt.Sprintf("PORT 127,0,0,1,%d,%d", port>>8, port&0xff), 200)
		}
		c.Do("RETR a.txt", 150)
		ln.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
		d, err := ln.Accept()
		if err != nil {
			t.Fatalf("server did not connect back: %v", err)
		}
		got, _ := io.ReadAll(d)
		d.Close()
		ln.Close()
		if code, _ := c.Reply(); code != 226 || string(got) != "active data" {
			t.Fatalf("active RETR (EPRT %v) = %d %q, want 226 %q", useEPRT, code, got, "active data")
		}
	}
	// The FTP bounce: no connection to a third party or a privileged port.
	c.Do("PORT 10,1,2,3,200,1", 504)
	c.Do("EPRT |1|192.0.2.1|5000|", 504)
	c.Do("EPRT |2|::1|5000|", 504)
	c.Do("PORT 127,0,0,1,0,25", 504)
	c.Do("PORT 127,0,0,1,300,1", 501)
	c.Do("PORT 1,2,3", 501)
	c.Do("EPRT |3|x|1|", 522)
	c.Do("EPRT |1|::1|5000|", 501)
	c.Do("EPSV 2", 522)
	c.Do("EPSV ALL", 200)
	c.Do("PORT 127,0,0,1,200,1", 503)
	c.Do("PASV", 503)
	c.epsv().Close()
}

func TestPassiveRangeAndAdvertisedAddress(t *testing.T) {
	ts := startServer(t, func(s *Server) {
		s.PassivePortMin, s.PassivePortMax = 40100, 40109
	})
	c := dialT(t, ts.addr)
	c.login("alice", "secret")
	seen := map[string]bool{}
	for i := 0; i < 8; i++ {
		msg := c.Do("EPSV", 229)
		port := msg[strings.Index(msg, "|||")+3 : strings.LastIndex(msg, "|")]
		if port < "40100" || port > "40109" || len(port) != 5 {
			t.Fatalf("EPSV port %s outside 40100-40109", port)
		}
		seen[port] = true
	}
	if len(seen) < 2 {
		t.Fatalf("8 EPSVs used ports %v, want random ones", seen)
	}
	ts2 := startServer(t, func(s *Server) { s.PassiveAddress = mustAddr("203.0.113.7") })
	c2 := dialT(t, ts2.addr)
	c2.login("alice", "secret")
	if msg := c2.Do("PASV", 227); !strings.Contains(msg, "(203,0,113,7,") {
		t.Fatalf("PASV with an advertised address = %q, want 203,0,113,7", msg)
	}
}

func TestPassiveConnectionFromOtherIPRefused(t *testing.T) {
	ts := startServer(t, nil)
	ts.home.WriteFile("secret.txt", []byte("for alice only"))
	c := dialT(t, ts.addr)
	c.login("alice", "secret")
	msg := c.Do("EPSV", 229)
	port := msg[strings.Index(msg, "|||")+3 : strings.LastIndex(msg, "|")]
	// An intruder on 127.0.0.2 connects first.
	dl := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 5 * time.Second}
	thief, err := dl.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Skipf("cannot connect from 127.0.0.2: %v", err)
	}
	defer thief.Close()
	c.Send("RETR secret.txt")
	thief.SetReadDeadline(time.Now().Add(5 * time.Second))
	stolen, _ := io.ReadAll(thief)
	if len(stolen) > 0 {
		t.Fatalf("a data connection from 127.0.0.2 received %q", stolen)
	}
	d, err := net.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	if code, msg := c.Reply(); code != 150 {
		t.Fatalf("RETR once alice's data connection came = %q, want 150", msg)
	}
	got, _ := io.ReadAll(d)
	if code, _ := c.Reply(); code != 226 || string(got) != "for alice only" {
		t.Fatalf("RETR by the client after the intruder = %d %q, want 226", code, got)
	}
}

func TestLargeTransferIntegrity(t *testing.T) {
	ts := startServer(t, nil)
	data := make([]byte, 3<<20+17)
	rand.Read(data)
	c := dialT(t, ts.addr)
	c.login("alice", "secret")
	if code, _ := c.stor("STOR big", string(data)); code != 226 {
		t.Fatalf("STOR big = %d, want 226", code)
	}
	if got := c.retr("RETR big"); got != string(data) {
		t.Fatalf("RETR big returned %d bytes that differ from the %d stored", len(got), len(data))
	}
}

func TestQuotaExceeded(t *testing.T) {
	ts := startServer(t, nil)
	ts.home.Quota = 10
	c := dialT(t, ts.addr)
	c.login("alice", "secret")
	if code, msg := c.stor("STOR big", strings.Repeat("x", 1000)); code != 552 {
		t.Fatalf("STOR over quota = %d %q, want 552", code, msg)
	}
	if _, err := ts.home.ReadFile("big"); err == nil {
		t.Fatal("an over-quota upload left a file")
	}
	c.Do("NOOP", 200)
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
