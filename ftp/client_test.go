package ftp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// clientTestServer is the package's own Server (startServer's) with a
// user "bob" too, for client-vs-own-server tests.
type clientTestServer struct {
	addr string
	home *MemoryFS
	tls  *tls.Config // what a client needs to trust the server, when TLS is on
}

// startClientTestServer starts a Server; tlsMode is "", "explicit" or "implicit".
func startClientTestServer(t *testing.T, tlsMode string) *clientTestServer {
	t.Helper()
	cs := &clientTestServer{}
	var serve func(*Server, net.Listener) error
	if tlsMode == "implicit" {
		serve = (*Server).ServeTLS
	}
	ts := startServerWith(t, func(s *Server) {
		cs.home = s.Backend.(*MemoryBackend).AddUser("bob", "pa ss")
		s.LoginTLS = TLSOptional
		if tlsMode != "" {
			s.TLSConfig, cs.tls = testkit.TLS(t)
		}
	}, serve)
	cs.addr = ts.addr
	return cs
}

func (cs *clientTestServer) login(t *testing.T, d Dialer, tlsMode string) *Client {
	t.Helper()
	if d.Timeout == 0 {
		d.Timeout = 10 * time.Second
	}
	d.TLSConfig = cs.tls
	var c *Client
	var err error
	if tlsMode == "implicit" {
		c, err = d.DialTLS(context.Background(), cs.addr)
	} else {
		c, err = d.Dial(context.Background(), cs.addr)
	}
	if err != nil {
		t.Fatalf("Dial(%s): %v", cs.addr, err)
	}
	t.Cleanup(func() { c.Close() })
	if tlsMode == "explicit" {
		if err := c.AuthTLS(nil); err != nil {
			t.Fatalf("AuthTLS(nil): %v", err)
		}
	}
	if err := c.Login("bob", "pa ss"); err != nil {
		t.Fatalf("Login(bob): %v", err)
	}
	return c
}

func TestClientOwnServer(t *testing.T) {
	for _, tt := range []struct {
		name    string
		tlsMode string
		d       Dialer
	}{
		{"plain", "", Dialer{}},
		{"pasv", "", Dialer{DisableEPSV: true}},
		{"active", "", Dialer{Active: true}},
		{"explicit-tls", "explicit", Dialer{}},
		{"explicit-tls-active", "explicit", Dialer{Active: true}},
		{"implicit-tls", "implicit", Dialer{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cs := startClientTestServer(t, tt.tlsMode)
			c := cs.login(t, tt.d, tt.tlsMode)
			if got := c.IsTLS(); got != (tt.tlsMode != "") {
				t.Errorf("IsTLS() = %v, want %v", got, tt.tlsMode != "")
			}
			exerciseOwnServer(t, c, cs.home)
		})
	}
}

// exerciseOwnServer runs the client's operations and checks the server's tree.
func exerciseOwnServer(t *testing.T, c *Client, home *MemoryFS) {
	const dir, name = "dir ü", "file with  spaces.bin"
	if _, err := c.MakeDir(dir); err != nil {
		t.Fatalf("MakeDir(%q): %v", dir, err)
	}
	if err := c.Cwd(dir); err != nil {
		t.Fatalf("Cwd(%q): %v", dir, err)
	}
	if p, err := c.Pwd(); err != nil || p != "/"+dir {
		t.Errorf("Pwd() = %q, %v, want %q", p, err, "/"+dir)
	}
	data := make([]byte, 1<<20+99)
	rand.Read(data)
	if n, err := c.Stor(name, bytes.NewReader(data)); err != nil || n != int64(len(data)) {
		t.Fatalf("Stor(%q) = %d, %v, want %d", name, n, err, len(data))
	}
	if got, err := home.ReadFile(dir + "/" + name); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("server's copy of %q: %d bytes, %v; want the %d sent", name, len(got), err, len(data))
	}
	var buf bytes.Buffer
	if n, err := c.Retr(name, &buf); err != nil || n != int64(len(data)) || !bytes.Equal(buf.Bytes(), data) {
		t.Fatalf("Retr(%q) = %d, %v; want the %d bytes stored", name, n, err, len(data))
	}
	buf.Reset()
	if _, err := c.RetrFrom(name, &buf, 1000); err != nil || !bytes.Equal(buf.Bytes(), data[1000:]) {
		t.Fatalf("RetrFrom(%q, 1000): %d bytes, %v; want the last %d", name, buf.Len(), err, len(data)-1000)
	}
	if _, err := c.Stor("part", bytes.NewReader(data[:500])); err != nil {
		t.Fatalf("Stor(part): %v", err)
	}
	if _, err := c.StorFrom("part", bytes.NewReader(data[500:900]), 500); err != nil {
		t.Fatalf("StorFrom(part, 500): %v", err)
	}
	if _, err := c.Append("part", bytes.NewReader(data[900:1000])); err != nil {
		t.Fatalf("Append(part): %v", err)
	}
	if got, _ := home.ReadFile(dir + "/part"); !bytes.Equal(got, data[:1000]) {
		t.Errorf("after Stor, StorFrom, Append: part has %d bytes, want the first 1000 sent", len(got))
	}
	if n, err := c.Size(name); err != nil || n != int64(len(data)) {
		t.Errorf("Size(%q) = %d, %v, want %d", name, n, err, len(data))
	}
	if mt, err := c.ModTime(name); err != nil || time.Since(mt).Abs() > time.Minute {
		t.Errorf("ModTime(%q) = %v, %v, want about now", name, mt, err)
	}
	for _, list := range []struct {
		op string
		f  func(string) ([]*Entry, error)
	}{{"List", c.List}, {"MLSD", c.MLSD}} {
		es, err := list.f("")
		if err != nil {
			t.Fatalf("%s(): %v", list.op, err)
		}
		found := false
		for _, e := range es {
			if e.Name == name {
				found = e.Type == EntryFile && e.Size == int64(len(data))
			}
		}
		if !found || len(es) != 2 {
			t.Errorf("%s() = %d entries, %q found as a %d-byte file: %v", list.op, len(es), name, len(data), found)
		}
	}
	if names, err := c.NameList(""); err != nil || !slices.Contains(names, name) {
		t.Errorf("NameList() = %q, %v, want %q in it", names, err, name)
	}
	if e, err := c.Stat(name); err != nil || e.Size != int64(len(data)) || e.Type != EntryFile {
		t.Errorf("Stat(%q) = %+v, %v, want a %d-byte file", name, e, err, len(data))
	}
	text := "one\ntwo\n"
	if err := c.SetASCII(true); err != nil {
		t.Fatalf("SetASCII(true): %v", err)
	}
	if _, err := c.Stor("t.txt", strings.NewReader(text)); err != nil {
		t.Fatalf("ASCII Stor(t.txt): %v", err)
	}
	buf.Reset()
	if _, err := c.Retr("t.txt", &buf); err != nil || buf.String() != text {
		t.Errorf("ASCII Retr(t.txt) = %q, %v, want %q", buf.String(), err, text)
	}
	c.SetASCII(false)
	if err := c.Rename(name, "renamed"); err != nil {
		t.Fatalf("Rename: %v", err)
	}
	var fe *Error
	if _, err := c.Size(name); !errors.As(err, &fe) || fe.Code != 550 {
		t.Errorf("Size(%q) after Rename = %v, want a 550 *Error", name, err)
	}
	for _, f := range []string{"renamed", "part", "t.txt"} {
		if err := c.Delete(f); err != nil {
			t.Fatalf("Delete(%q): %v", f, err)
		}
	}
	if err := c.CdUp(); err != nil {
		t.Fatalf("CdUp(): %v", err)
	}
	if err := c.RemoveDir(dir); err != nil {
		t.Fatalf("RemoveDir(%q): %v", dir, err)
	}
	if err := c.Quit(); err != nil {
		t.Errorf("Quit(): %v", err)
	}
}

// TestClientRefusesBadArguments checks that no method sends an argument
// holding CR, LF or NUL, and that the session goes on after the refusal.
func TestClientRefusesBadArguments(t *testing.T) {
	cs := startClientTestServer(t, "")
	c := cs.login(t, Dialer{}, "")
	for _, bad := range []string{"x\r\nDELE y", "x\x00y"} {
		refusesArgument(t, c, bad)
	}
	cs.home.WriteFile("y", []byte("keep"))
	if err := c.NoOp(); err != nil {
		t.Fatalf("NoOp() after the refusals: %v", err)
	}
	if _, err := cs.home.ReadFile("y"); err != nil {
		t.Errorf("y was deleted: %v", err)
	}
}

func refusesArgument(t *testing.T, c *Client, bad string) {
	t.Helper()
	calls := map[string]func() error{
		"Login":     func() error { return c.Login(bad, "p") },
		"Cwd":       func() error { return c.Cwd(bad) },
		"MakeDir":   func() error { _, err := c.MakeDir(bad); return err },
		"RemoveDir": func() error { return c.RemoveDir(bad) },
		"Delete":    func() error { return c.Delete(bad) },
		"Rename":    func() error { return c.Rename("a", bad) },
		"Size":      func() error { _, err := c.Size(bad); return err },
		"ModTime":   func() error { _, err := c.ModTime(bad); return err },
		"Retr":      func() error { _, err := c.Retr(bad, io.Discard); return err },
		"Stor":      func() error { _, err := c.Stor(bad, strings.NewReader("")); return err },
		"Append":    func() error { _, err := c.Append(bad, strings.NewReader("")); return err },
		"List":      func() error { _, err := c.List(bad); return err },
		"MLSD":      func() error { _, err := c.MLSD(bad); return err },
		"NameList":  func() error { _, err := c.NameList(bad); return err },
		"Stat":      func() error { _, err := c.Stat(bad); return err },
		"Command":   func() error { _, _, err := c.Command("NOOP " + bad); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrBadArgument) {
			t.Errorf("%s(%q) = %v, want ErrBadArgument", name, bad, err)
		}
	}
}

// TestClientCloseAbortsTransfer checks that Close from another goroutine
// ends a download that is stalled on a slow writer.
func TestClientCloseAbortsTransfer(t *testing.T) {
	const size = 32 << 20
	cs := startClientTestServer(t, "")
	cs.home.WriteFile("big", make([]byte, size))
	c := cs.login(t, Dialer{}, "")
	// The writer stalls on its first call until Close has returned, and
	// is fast after: a download that Close did not end runs to the end.
	started, closed := make(chan struct{}), make(chan struct{})
	var once sync.Once
	w := writerFunc(func(p []byte) (int, error) {
		once.Do(func() { close(started); <-closed })
		return len(p), nil
	})
	type result struct {
		n   int64
		err error
	}
	done := make(chan result, 1)
	go func() { n, err := c.Retr("big", w); done <- result{n, err} }()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("Retr(big) wrote nothing in 10s")
	}
	c.Close()
	close(closed)
	select {
	case r := <-done:
		if r.err == nil || r.n >= size {
			t.Errorf("Retr(big) after Close = %d, %v, want fewer than %d bytes and an error", r.n, r.err, size)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Retr(big) still running 5s after Close")
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestClientEPSVFallback runs the client against a scripted server that
// refuses EPSV and advertises a foreign address in its PASV reply: the
// client must fall back to PASV and connect to the control host anyway.
func TestClientEPSVFallback(t *testing.T) {
	ln := testkit.Listen(t)
	var seen []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(conn)
		fmt.Fprint(conn, "220-multi\r\n220 line greeting\r\n")
		var data net.Listener
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			cmd := strings.TrimRight(line, "\r\n")
			seen = append(seen, cmd)
			switch verb, _, _ := strings.Cut(cmd, " "); verb {
			case "USER":
				fmt.Fprint(conn, "331 pass\r\n")
			case "PASS":
				fmt.Fprint(conn, "230 in\r\n")
			case "TYPE":
				fmt.Fprint(conn, "200 ok\r\n")
			case "FEAT":
				fmt.Fprint(conn, "500 no\r\n")
			case "EPSV":
				fmt.Fprint(conn, "502 not here\r\n")
			case "PASV":
				data, _ = net.Listen("tcp", "127.0.0.1:0")
				p := data.Addr().(*net.TCPAddr).Port
				fmt.Fprintf(conn, "227 Entering Passive Mode (10,255,255,1,%d,%d)\r\n", p>>8, p&255)
			case "NLST":
				fmt.Fprint(conn, "150 here\r\n")
				dc, err := data.Accept()
				if err != nil {
					return
				}
				fmt.Fprint(dc, "a\r\nb c\r\n")
				dc.Close()
				data.Close()
				fmt.Fprint(conn, "226 done\r\n")
			case "QUIT":
				fmt.Fprint(conn, "221 bye\r\n")
				return
			default:
				fmt.Fprint(conn, "502 no\r\n")
			}
		}
	}()
	d := Dialer{Timeout: 5 * time.Second}
	c, err := d.Dial(context.Background(), ln.Addr().String())
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.Close()
	if err := c.Login("u", "p"); err != nil {
		t.Fatalf("Login: %v", err)
	}
	for i := 0; i < 2; i++ {
		names, err := c.NameList("")
		if err != nil || !slices.Equal(names, []string{"a", "b c"}) {
			t.Fatalf("NameList() #%d = %q, %v, want [a, b c]", i+1, names, err)
		}
	}
	if err := c.Quit(); err != nil {
		t.Errorf("Quit(): %v", err)
	}
	<-done
	want := []string{"USER u", "PASS p", "TYPE I", "FEAT", "EPSV", "PASV", "NLST", "PASV", "NLST", "QUIT"}
	if !slices.Equal(seen, want) {
		t.Errorf("commands sent = %q, want %q (EPSV tried once, then PASV)", seen, want)
	}
}
