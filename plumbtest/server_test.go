package plumbtest_test

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/smtp"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/plumbnet/plumb/ftp"
	"github.com/plumbnet/plumb/plumbtest"
)

// Without With, a server runs the default set, every listener of each
// on its own loopback port.
func TestDefaultServices(t *testing.T) {
	srv := plumbtest.NewServer(t)
	want := []string{"ftp", "ftps", "smtp", "submissions", "submission", "http", "https", "pop3", "pop3s", "imap", "imaps"}
	got := srv.Services()
	for _, name := range want {
		if !slices.Contains(got, name) {
			t.Errorf("Services() = %v, missing %s", got, name)
		}
	}
	seen := map[string]string{}
	for _, name := range got {
		addr := srv.Addr(name)
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host != "127.0.0.1" || port == "0" {
			t.Errorf("Addr(%q) = %q, want 127.0.0.1 and a bound port", name, addr)
		}
		if other, ok := seen[addr]; ok {
			t.Errorf("Addr(%q) = Addr(%q) = %s", name, other, addr)
		}
		seen[addr] = name
	}
	if srv.Users()[0] != plumbtest.DefaultUser {
		t.Errorf("Users() = %v, want [%s]", srv.Users(), plumbtest.DefaultUser)
	}
}

// Two servers in one test have their own ports, accounts and mail.
func TestTwoServersDoNotCollide(t *testing.T) {
	a := plumbtest.NewServer(t, plumbtest.With("smtp", "ftp"), plumbtest.User("alice", "a"))
	b := plumbtest.NewServer(t, plumbtest.With("smtp", "ftp"), plumbtest.User("alice", "b"))
	ctx := testContext(t)
	for _, name := range []string{"smtp", "ftp", "ftps"} {
		if a.Addr(name) == b.Addr(name) {
			t.Errorf("Addr(%q) is %s in both servers", name, a.Addr(name))
		}
	}
	if a.DataDir() == b.DataDir() {
		t.Errorf("both servers use %s", a.DataDir())
	}
	if err := smtp.SendMail(a.Addr("smtp"), nil, "x@example.org", []string{"alice@localhost"}, []byte("Subject: to a\r\n\r\n.\r\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Mail("alice").WaitFor(ctx, plumbtest.Match{Subject: "to a"}); err != nil {
		t.Fatal(err)
	}
	if msgs, _ := b.Mail("alice").Messages(ctx); len(msgs) != 0 {
		t.Errorf("server b has %d messages for alice, want none (the mail went to a)", len(msgs))
	}
	// Each server has its own alice, and passive FTP works on both at once.
	for _, s := range []struct {
		srv       *plumbtest.Server
		pass, bad string
	}{{a, "a", "b"}, {b, "b", "a"}} {
		c, err := ftp.Dial(ctx, s.srv.Addr("ftp"))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Login("alice", s.bad); err == nil {
			t.Errorf("FTP login with the other server's password succeeded")
		}
		c.Close()
		c, err = ftp.Dial(ctx, s.srv.Addr("ftp"))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Login("alice", s.pass); err != nil {
			t.Fatalf("FTP login: %v", err)
		}
		if _, err := c.List("."); err != nil {
			t.Errorf("FTP LIST (passive): %v", err)
		}
		c.Close()
	}
}

// The server stops when its test ends: nothing listens afterwards, and
// no goroutine of it is left.
func TestCleanupStopsEverything(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var addrs []string
	t.Run("inner", func(t *testing.T) {
		srv := plumbtest.NewServer(t)
		for _, name := range srv.Services() {
			addrs = append(addrs, srv.Addr(name))
		}
		// A client the test forgot to close does not hold the stop up for long.
		c, err := net.Dial("tcp", srv.Addr("imap"))
		if err != nil {
			t.Fatal(err)
		}
		_ = c
	})
	for _, addr := range addrs {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after the test ended", addr)
		}
	}
}

// Close stops a server early; a client then cannot connect.
func TestCloseEarly(t *testing.T) {
	srv := plumbtest.NewServer(t, plumbtest.With("smtp"))
	addr := srv.Addr("smtp")
	srv.Close()
	srv.Close() // a second Close does nothing
	if err := smtp.SendMail(addr, nil, "a@example.org", []string{"alice@localhost"}, []byte("x")); err == nil {
		t.Errorf("SendMail after Close succeeded")
	}
}

// Start, for TestMain and examples, makes a server without a test; its
// Close removes the data directory.
func TestStartAndClose(t *testing.T) {
	srv, err := plumbtest.Start(plumbtest.With("pop3"))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	dir := srv.DataDir()
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("data directory: %v", err)
	}
	c, err := tls.Dial("tcp", srv.Addr("pop3s"), srv.TLSConfig())
	if err != nil {
		t.Fatalf("tls.Dial pop3s with srv.TLSConfig(): %v", err)
	}
	c.Close()
	srv.Close()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("after Close, stat of the data directory: %v; want it gone", err)
	}
}

// The certificate is trusted by the pool and names both loopback names.
func TestCertificate(t *testing.T) {
	srv := plumbtest.NewServer(t, plumbtest.With("imap"))
	for _, host := range []string{"127.0.0.1", "localhost"} {
		if err := srv.Certificate().VerifyHostname(host); err != nil {
			t.Errorf("VerifyHostname(%s): %v", host, err)
		}
	}
	cfg := srv.TLSConfig()
	cfg.ServerName = "localhost"
	_, port, _ := net.SplitHostPort(srv.Addr("imaps"))
	c, err := tls.Dial("tcp", net.JoinHostPort("localhost", port), cfg)
	if err != nil {
		t.Fatalf("tls.Dial imaps as localhost: %v", err)
	}
	c.Close()
	if _, err := tls.Dial("tcp", srv.Addr("imaps"), &tls.Config{ServerName: "127.0.0.1"}); err == nil {
		t.Errorf("tls.Dial without the server's pool succeeded; the certificate should be unknown to the system")
	}
}

// fatalTB records the Fatalf a misuse causes, instead of failing the test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// during runs fn in a goroutine of its own, which Fatalf may end, and
// returns what Fatalf said.
func (f *fatalTB) during(fn func()) string {
	f.msg = ""
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
	return f.msg
}

func fatalOf(t *testing.T, fn func(tb testing.TB)) string {
	f := &fatalTB{TB: t}
	return f.during(func() { fn(f) })
}

// A misuse fails the test with a message naming what there is.
func TestMisuseFailsTheTest(t *testing.T) {
	msg := fatalOf(t, func(tb testing.TB) { plumbtest.NewServer(tb, plumbtest.With("smpt")) })
	if !strings.Contains(msg, `"smpt"`) || !strings.Contains(msg, "smtp") {
		t.Errorf("With(smpt) failed with %q, want the name and the list of services", msg)
	}
	msg = fatalOf(t, func(tb testing.TB) { plumbtest.NewServer(tb, plumbtest.User("bad name", "x")) })
	if !strings.Contains(msg, "bad name") {
		t.Errorf("User(bad name) failed with %q, want the name", msg)
	}
	msg = fatalOf(t, func(tb testing.TB) { plumbtest.NewServer(tb, plumbtest.Config("[smtp]\nno_such_key = 1\n")) })
	if !strings.Contains(msg, "no_such_key") {
		t.Errorf("Config with an unknown key failed with %q, want the key", msg)
	}
	f := &fatalTB{TB: t}
	srv := plumbtest.NewServer(f, plumbtest.With("smtp"))
	if msg := f.during(func() { srv.Addr("imap") }); !strings.Contains(msg, `"imap"`) || !strings.Contains(msg, "smtp") {
		t.Errorf("Addr(imap) on an SMTP-only server failed with %q, want the name and what runs", msg)
	}
	if msg := f.during(func() { srv.Mail("nobody") }); !strings.Contains(msg, "nobody") || !strings.Contains(msg, "alice") {
		t.Errorf("Mail(nobody) failed with %q, want the name and the accounts", msg)
	}
}

// "admin" and the small services are chosen like any other; their
// names in Addr are those of plumb serve's start-up table.
func TestAdminAndSmallServices(t *testing.T) {
	srv := plumbtest.NewServer(t, plumbtest.With("admin", "echo"))
	resp, err := srv.Client().Get("http://" + srv.Addr("admin") + "/healthz")
	if err != nil {
		t.Fatalf("GET admin /healthz: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET admin /healthz = %d, want 200", resp.StatusCode)
	}
	c, err := net.Dial("tcp", srv.Addr("echo"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte("ping\n"))
	buf := make([]byte, 5)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping\n" {
		t.Errorf("echo = %q, %v; want ping", buf, err)
	}
	u, err := net.Dial("udp", srv.Addr("echo/udp"))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	u.SetDeadline(time.Now().Add(10 * time.Second))
	u.Write([]byte("dgram"))
	n, err := u.Read(buf)
	if err != nil || string(buf[:n]) != "dgram" {
		t.Errorf("echo/udp = %q, %v; want dgram", buf[:n], err)
	}
}

// LogTo sees the daemon's log as it is written.
func TestLogTo(t *testing.T) {
	var buf lockedBuffer
	srv := plumbtest.NewServer(t, plumbtest.With("echo"), plumbtest.LogTo(&buf))
	if !strings.Contains(buf.String(), "plumb serve started") || !strings.Contains(srv.Log(), "plumb serve started") {
		t.Errorf("LogTo got %q and Log() %q; want both to hold the start-up line", buf.String(), srv.Log())
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Servers of parallel tests run side by side, each with its own mail.
func TestParallelServers(t *testing.T) {
	for i := range 4 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			srv := plumbtest.NewServer(t, plumbtest.With("smtp", "ftp"))
			subject := fmt.Sprintf("for server %d", i)
			if err := smtp.SendMail(srv.Addr("smtp"), nil, "a@example.org", []string{"alice@localhost"}, []byte("Subject: "+subject+"\r\n\r\n.\r\n")); err != nil {
				t.Fatal(err)
			}
			msgs, err := srv.Mail("alice").Messages(testContext(t))
			if err != nil || len(msgs) != 1 || msgs[0].Subject != subject {
				t.Fatalf("Messages = %d, %v; want only %q", len(msgs), err, subject)
			}
		})
	}
}

// AddUser adds an account the running services know at once.
func TestAddUser(t *testing.T) {
	srv := plumbtest.NewServer(t, plumbtest.With("ftp"))
	if err := srv.AddUser("carol", "pw-carol"); err != nil {
		t.Fatalf("AddUser: %v", err)
	}
	c, err := ftp.Dial(testContext(t), srv.Addr("ftp"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("carol", "pw-carol"); err != nil {
		t.Fatalf("FTP login as the added user: %v", err)
	}
	if err := srv.Home("carol").Write("x", []byte("x")); err != nil {
		t.Fatalf("Home(carol).Write: %v", err)
	}
	if got := srv.Users(); strings.Join(got, " ") != "alice carol" {
		t.Errorf("Users() = %v, want [alice carol]", got)
	}
	if err := srv.AddUser("carol", "again"); err == nil {
		t.Errorf("AddUser of an existing account succeeded")
	}
}
