package interop

// The socket-layer commands against Python's socket module: plumb
// service and plumb lookup against the C library's answers, plumb
// connect and plumb listen piping 10 MB through each other and through
// Python peers, over TCP, TLS, Unix sockets and UDP.

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const sockPipeSize = 10 << 20

// TestConnectListenPipe pipes 10 MB each way between plumb connect and
// plumb listen, over TCP, TLS and a Unix socket.
func TestConnectListenPipe(t *testing.T) {
	a, aSHA := sockRandomFile(t, sockPipeSize, 1)
	b, bSHA := sockRandomFile(t, sockPipeSize, 2)
	certDir := t.TempDir()
	sock := filepath.Join(t.TempDir(), "s.sock")
	cases := []struct {
		name    string
		listen  []string
		connect func(addr string) []string
	}{
		{"tcp", []string{"0"}, func(addr string) []string { return []string{"127.0.0.1", sockPort(t, addr)} }},
		{"tls", []string{"--tls", "--data", certDir, "0"}, func(addr string) []string {
			return []string{"--tls", "--ca", filepath.Join(certDir, "tls", "cert.pem"), "localhost", sockPort(t, addr)}
		}},
		{"unix", []string{"--unix", sock}, func(string) []string { return []string{"--unix", sock} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lout := filepath.Join(t.TempDir(), "listen.out")
			lp, addr := startPlumbListen(t, b, lout, c.listen...)
			start := time.Now()
			out, stderr, code := sockRun(t, a, append([]string{"connect"}, c.connect(addr)...)...)
			if code != 0 {
				t.Fatalf("plumb connect exit %d; stderr: %s", code, stderr)
			}
			if code := lp.wait(t); code != 0 {
				t.Fatalf("plumb listen exit %d; stderr: %s", code, lp.log())
			}
			t.Logf("%s: 2 x 10 MB in %v", c.name, time.Since(start))
			if got := sockSHA(out); got != bSHA || len(out) != sockPipeSize {
				t.Errorf("connect output = %d bytes sha %s, want %d bytes sha %s", len(out), got, sockPipeSize, bSHA)
			}
			if got, n := sockFileSHA(t, lout); got != aSHA || n != sockPipeSize {
				t.Errorf("listen output = %d bytes sha %s, want %d bytes sha %s", n, got, sockPipeSize, aSHA)
			}
			if c.name == "unix" {
				if _, err := os.Stat(sock); !os.IsNotExist(err) {
					t.Errorf("socket file %s left behind after plumb listen exited (stat: %v)", sock, err)
				}
			}
		})
	}
}

// TestConnectPythonServer: plumb connect sends 10 MB to a Python server
// that answers only after it sees EOF (so connect must half-close and
// keep reading), with another 10 MB.
func TestConnectPythonServer(t *testing.T) {
	py := needPyModule(t, "socket")
	a, aSHA := sockRandomFile(t, sockPipeSize, 3)
	b, bSHA := sockRandomFile(t, sockPipeSize, 4)
	for _, mode := range []string{"tcp", "unix"} {
		t.Run(mode, func(t *testing.T) {
			var peer *sockPeer
			var args []string
			if mode == "tcp" {
				peer = startSockPeer(t, py, "-W", "ignore", "testdata/socket_peer.py", "tcp-server", b)
				args = []string{"connect", "127.0.0.1", peer.line(t)}
			} else {
				sock := filepath.Join(t.TempDir(), "py.sock")
				peer = startSockPeer(t, py, "-W", "ignore", "testdata/socket_peer.py", "unix-server", sock, b)
				peer.line(t)
				args = []string{"connect", "--unix", sock}
			}
			out, stderr, code := sockRun(t, a, args...)
			if code != 0 {
				t.Fatalf("plumb %v exit %d; stderr: %s", args, code, stderr)
			}
			sockCheckReceived(t, peer.line(t), aSHA, sockPipeSize)
			if got := sockSHA(out); got != bSHA || len(out) != sockPipeSize {
				t.Errorf("connect output = %d bytes sha %s, want the peer's %d bytes sha %s", len(out), got, sockPipeSize, bSHA)
			}
			if code := peer.wait(t); code != 0 {
				t.Errorf("python peer exit %d; stderr: %s", code, peer.stderr)
			}
		})
	}
}

// TestListenPythonClient: a Python client sends 10 MB to plumb listen,
// shuts its write side and reads plumb listen's 10 MB until EOF; over
// TCP and over TLS (Python's ssl verifying plumb's certificate).
func TestListenPythonClient(t *testing.T) {
	py := needPyModule(t, "ssl")
	a, aSHA := sockRandomFile(t, sockPipeSize, 5)
	b, bSHA := sockRandomFile(t, sockPipeSize, 6)
	certDir := t.TempDir()
	for _, mode := range []string{"tcp", "tls"} {
		t.Run(mode, func(t *testing.T) {
			lout := filepath.Join(t.TempDir(), "listen.out")
			largs := []string{"0"}
			if mode == "tls" {
				largs = []string{"--tls", "--data", certDir, "0"}
			}
			lp, addr := startPlumbListen(t, b, lout, largs...)
			pargs := []string{"-W", "ignore", "testdata/socket_peer.py", "tcp-client", sockPort(t, addr), a}
			if mode == "tls" {
				pargs = []string{"-W", "ignore", "testdata/socket_peer.py", "tls-client", sockPort(t, addr), filepath.Join(certDir, "tls", "cert.pem"), a}
			}
			peer := startSockPeer(t, py, pargs...)
			if mode == "tls" {
				if l := peer.line(t); !strings.HasPrefix(l, "tls TLSv1.") {
					t.Errorf("python tls client said %q, want a TLS version", l)
				}
			}
			sockCheckReceived(t, peer.line(t), bSHA, sockPipeSize)
			if code := peer.wait(t); code != 0 {
				t.Errorf("python peer exit %d; stderr: %s", code, peer.stderr)
			}
			if code := lp.wait(t); code != 0 {
				t.Fatalf("plumb listen exit %d; stderr: %s", code, lp.log())
			}
			if got, n := sockFileSHA(t, lout); got != aSHA || n != sockPipeSize {
				t.Errorf("listen output = %d bytes sha %s, want the peer's %d bytes sha %s", n, got, sockPipeSize, aSHA)
			}
		})
	}
}

// TestConnectUDP: plumb connect --udp against a Python UDP server.
func TestConnectUDP(t *testing.T) {
	py := needPyModule(t, "socket")
	peer := startSockPeer(t, py, "-W", "ignore", "testdata/socket_peer.py", "udp-server", "1")
	port := peer.line(t)
	out, stderr, code := sockRun(t, sockTempFile(t, "hello over udp\n"), "connect", "--udp", "127.0.0.1", port)
	if code != 0 {
		t.Fatalf("plumb connect --udp exit %d; stderr: %s", code, stderr)
	}
	if got, want := string(out), "HELLO OVER UDP\n"; got != want {
		t.Errorf("connect --udp output = %q, want %q", got, want)
	}
	if code := peer.wait(t); code != 0 {
		t.Errorf("python peer exit %d; stderr: %s", code, peer.stderr)
	}
}

// TestListenUDP: a Python UDP client against plumb listen --udp, then
// plumb connect --udp against it.
func TestListenUDP(t *testing.T) {
	py := needPyModule(t, "socket")
	t.Run("python", func(t *testing.T) {
		lout := filepath.Join(t.TempDir(), "listen.out")
		lp, addr := startPlumbListen(t, sockTempFile(t, "pong\n"), lout, "--udp", "0")
		peer := startSockPeer(t, py, "-W", "ignore", "testdata/socket_peer.py", "udp-client", sockPort(t, addr), "ping")
		if got, want := peer.line(t), "reply pong"; got != want {
			t.Errorf("python udp client got %q, want %q", got, want)
		}
		peer.wait(t)
		if code := lp.wait(t); code != 0 {
			t.Fatalf("plumb listen --udp exit %d; stderr: %s", code, lp.log())
		}
		if got, _ := os.ReadFile(lout); string(got) != "ping" {
			t.Errorf("listen --udp output = %q, want %q", got, "ping")
		}
	})
	t.Run("plumb", func(t *testing.T) {
		lout := filepath.Join(t.TempDir(), "listen.out")
		lp, addr := startPlumbListen(t, sockTempFile(t, "from listen\n"), lout, "--udp", "0")
		out, stderr, code := sockRun(t, sockTempFile(t, "from connect\n"), "connect", "--udp", "127.0.0.1", sockPort(t, addr))
		if code != 0 {
			t.Fatalf("plumb connect --udp exit %d; stderr: %s", code, stderr)
		}
		if got, want := string(out), "from listen\n"; got != want {
			t.Errorf("connect --udp output = %q, want %q", got, want)
		}
		if code := lp.wait(t); code != 0 {
			t.Fatalf("plumb listen --udp exit %d; stderr: %s", code, lp.log())
		}
		if got, _ := os.ReadFile(lout); string(got) != "from connect\n" {
			t.Errorf("listen --udp output = %q, want %q", got, "from connect\n")
		}
	})
}

// TestConnectCRLF: --crlf turns bare LFs into CRLF on the way out.
func TestConnectCRLF(t *testing.T) {
	lout := filepath.Join(t.TempDir(), "listen.out")
	lp, addr := startPlumbListen(t, sockTempFile(t, ""), lout, "0")
	_, stderr, code := sockRun(t, sockTempFile(t, "EHLO x\nQUIT\r\nend"), "connect", "--crlf", "127.0.0.1", sockPort(t, addr))
	if code != 0 {
		t.Fatalf("plumb connect --crlf exit %d; stderr: %s", code, stderr)
	}
	lp.wait(t)
	if got, want := sockReadFile(t, lout), "EHLO x\r\nQUIT\r\nend"; got != want {
		t.Errorf("listen received %q, want %q", got, want)
	}
}

// TestConnectErrors: failures exit non-zero with one line saying why.
func TestConnectErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"refused", []string{"connect", "127.0.0.1", fmt.Sprint(closed)}, "connection refused"},
		{"no socket", []string{"connect", "--unix", filepath.Join(t.TempDir(), "none.sock")}, "no such socket"},
		{"bad service", []string{"connect", "127.0.0.1", "no-such-service"}, "unknown service"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, stderr, code := sockRun(t, sockTempFile(t, "x"), c.args...)
			if code == 0 {
				t.Fatalf("plumb %v exit 0, want non-zero", c.args)
			}
			if len(out) != 0 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, c.want) {
				t.Errorf("plumb %v: stdout %q, stderr %q; want one line mentioning %q", c.args, out, stderr, c.want)
			}
		})
	}
	t.Run("tls unknown authority", func(t *testing.T) {
		lp, addr := startPlumbListen(t, sockTempFile(t, ""), filepath.Join(t.TempDir(), "o"), "--tls", "--data", t.TempDir(), "0")
		_, stderr, code := sockRun(t, sockTempFile(t, "x"), "connect", "--tls", "localhost", sockPort(t, addr))
		if code != 1 || !strings.Contains(stderr, "unknown authority") || !strings.Contains(stderr, "--ca") {
			t.Errorf("connect --tls to a self-signed server: exit %d, stderr %q; want 1 and advice about --ca", code, stderr)
		}
		lp.wait(t)
	})
}
