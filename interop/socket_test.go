package interop

// The socket-layer commands against Python's socket module: plumb
// service and plumb lookup against the C library's answers, plumb
// connect and plumb listen piping 10 MB through each other and through
// Python peers, over TCP, TLS, Unix sockets and UDP.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const sockPipeSize = 10 << 20

// sockRandomFile writes n pseudo-random bytes to a new file and returns its
// path and SHA-256.
func sockRandomFile(t *testing.T, n int, seed uint64) (string, string) {
	t.Helper()
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	r.Read(b)
	p := filepath.Join(t.TempDir(), fmt.Sprintf("random-%d.bin", seed))
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p, sockSHA(b)
}

func sockSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func sockFileSHA(t *testing.T, path string) (string, int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sockSHA(b), len(b)
}

// sockRun runs plumb with stdin (a file path, or "" for none) and
// returns stdout, stderr and the exit status.
func sockRun(t *testing.T, stdin string, args ...string) ([]byte, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, plumbBin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		f, err := os.Open(stdin)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd.Stdin = f
	}
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.Bytes(), errb.String(), 0
	case errors.As(err, &ee):
		return out.Bytes(), errb.String(), ee.ExitCode()
	}
	t.Fatalf("plumb %s: %v", strings.Join(args, " "), err)
	return nil, "", -1
}

// sockPeer is a process a test runs in the background.
type sockPeer struct {
	cmd    *exec.Cmd
	stdout *bufio.Reader
	stderr *sockBuffer
	done   chan error
}

// startSockPeer starts name with stdin (a path, or "") and stdout to outFile
// (a path) or, when outFile is "", to a pipe read with line().
func startSockPeer(t *testing.T, stdin, outFile string, name string, args ...string) *sockPeer {
	t.Helper()
	p := &sockPeer{cmd: exec.Command(name, args...), stderr: &sockBuffer{}, done: make(chan error, 1)}
	if stdin != "" {
		f, err := os.Open(stdin)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		p.cmd.Stdin = f
	}
	if outFile != "" {
		f, err := os.Create(outFile)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		p.cmd.Stdout = f
	} else {
		r, err := p.cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		p.stdout = bufio.NewReader(r)
	}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	return p
}

// line reads one line of the process's standard output.
func (p *sockPeer) line(t *testing.T) string {
	t.Helper()
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() { s, err := p.stdout.ReadString('\n'); ch <- res{s, err} }()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("%s: reading its output: %v", p.cmd.Path, r.err)
		}
		return strings.TrimSpace(r.s)
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: no output line in 30s", p.cmd.Path)
	}
	return ""
}

// wait waits for the process and returns its exit status.
func (p *sockPeer) wait(t *testing.T) int {
	t.Helper()
	go func() { p.done <- p.cmd.Wait() }()
	select {
	case err := <-p.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatalf("%s: %v", p.cmd.Path, err)
		}
		return 0
	case <-time.After(60 * time.Second):
		p.cmd.Process.Kill()
		t.Fatalf("%s %v did not exit within 60s", p.cmd.Path, p.cmd.Args)
	}
	return -1
}

// startPlumbListen runs plumb listen with stdin and stdout files and returns
// it with the address it printed.
func startPlumbListen(t *testing.T, stdin, stdout string, args ...string) (*listenProc, string) {
	t.Helper()
	lp := &listenProc{}
	lp.cmd = exec.Command(plumbBin, append([]string{"listen"}, args...)...)
	in, err := os.Open(stdin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	out, err := os.Create(stdout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	lp.cmd.Stdin, lp.cmd.Stdout = in, out
	r, w := io.Pipe()
	lp.cmd.Stderr = w
	if err := lp.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lp.done = make(chan struct{})
	go func() { lp.err = lp.cmd.Wait(); w.Close(); close(lp.done) }()
	t.Cleanup(func() {
		select {
		case <-lp.done:
		default:
			lp.cmd.Process.Kill()
			<-lp.done
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		sent := false
		for sc.Scan() {
			lp.addLog(sc.Text())
			if f := strings.Fields(sc.Text()); !sent && len(f) >= 4 && f[1] == "listening" {
				addr <- f[3]
				sent = true
			}
		}
		if !sent {
			close(addr)
		}
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			<-lp.done
			t.Fatalf("plumb listen %v exited: %v; stderr:\n%s", args, lp.err, lp.log())
		}
		return lp, a
	case <-time.After(30 * time.Second):
		t.Fatalf("plumb listen %v printed no address in 30s", args)
	}
	return nil, ""
}

type listenProc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	logs sockBuffer
}

func (lp *listenProc) addLog(s string) { lp.logs.Write([]byte(s + "\n")) }

func (lp *listenProc) log() string { return lp.logs.String() }

// sockBuffer is a buffer written and read from different goroutines.
type sockBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *sockBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *sockBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// wait returns plumb listen's exit status.
func (lp *listenProc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-lp.done:
	case <-time.After(60 * time.Second):
		lp.cmd.Process.Kill()
		<-lp.done
		t.Fatalf("plumb listen did not exit within 60s")
	}
	var ee *exec.ExitError
	if errors.As(lp.err, &ee) {
		return ee.ExitCode()
	}
	if lp.err != nil {
		t.Fatalf("plumb listen: %v", lp.err)
	}
	return 0
}

func sockPort(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return p
}

// sockCheckReceived checks a Python peer's "received <sha256> <n>" line.
func sockCheckReceived(t *testing.T, line, wantSHA string, wantN int) {
	t.Helper()
	if want := fmt.Sprintf("received %s %d", wantSHA, wantN); line != want {
		t.Errorf("peer reported %q, want %q", line, want)
	}
}

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
				peer = startSockPeer(t, "", "", py, "-W", "ignore", "testdata/socket_peer.py", "tcp-server", b)
				args = []string{"connect", "127.0.0.1", peer.line(t)}
			} else {
				sock := filepath.Join(t.TempDir(), "py.sock")
				peer = startSockPeer(t, "", "", py, "-W", "ignore", "testdata/socket_peer.py", "unix-server", sock, b)
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
			peer := startSockPeer(t, "", "", py, pargs...)
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

func sockTempFile(t *testing.T, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in.txt")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConnectUDP: plumb connect --udp against a Python UDP server.
func TestConnectUDP(t *testing.T) {
	py := needPyModule(t, "socket")
	peer := startSockPeer(t, "", "", py, "-W", "ignore", "testdata/socket_peer.py", "udp-server", "1")
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
		peer := startSockPeer(t, "", "", py, "-W", "ignore", "testdata/socket_peer.py", "udp-client", sockPort(t, addr), "ping")
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

func sockReadFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
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

// pyLookup runs socket_lookup.py on q and decodes its answer.
func pyLookup(t *testing.T, q map[string]any) map[string][]json.RawMessage {
	t.Helper()
	py := needPyModule(t, "socket")
	in, err := json.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-W", "ignore", "testdata/socket_lookup.py")
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("socket_lookup.py: %v", err)
	}
	var res map[string][]json.RawMessage
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("socket_lookup.py output %q: %v", out, err)
	}
	return res
}

func isPyError(m json.RawMessage) bool {
	return bytes.HasPrefix(bytes.TrimSpace(m), []byte(`{"error"`))
}

type serviceJSON struct {
	Name    string   `json:"name"`
	Port    int      `json:"port"`
	Proto   string   `json:"proto"`
	Aliases []string `json:"aliases"`
	Source  string   `json:"source"`
}

// plumbServices runs plumb service --json and decodes it; ok is false
// when plumb found nothing.
func plumbServices(t *testing.T, args ...string) ([]serviceJSON, bool) {
	t.Helper()
	out, stderr, code := sockRun(t, "", append([]string{"service", "--json"}, args...)...)
	if code != 0 {
		if !strings.Contains(stderr, "unknown service") {
			t.Errorf("plumb service %v: exit %d, stderr %q", args, code, stderr)
		}
		return nil, false
	}
	var s []serviceJSON
	if err := json.Unmarshal(out, &s); err != nil || len(s) == 0 {
		t.Fatalf("plumb service %v output %q: %v", args, out, err)
	}
	return s, true
}

var serviceNames = []string{"echo", "discard", "daytime", "qotd", "chargen", "time", "ftp", "ftp-data", "ftps",
	"telnet", "smtp", "submission", "submissions", "finger", "gopher", "http", "www", "https", "pop3", "pop3s",
	"nntp", "nntps", "imap", "imap2", "imaps", "ssh", "domain", "ntp", "snmp", "ldap", "ldaps", "rsync", "mysql", "postgresql"}

var servicePorts = []int{1, 7, 9, 13, 17, 19, 20, 21, 22, 23, 25, 37, 53, 70, 79, 80, 110, 119, 123, 143, 161,
	389, 443, 465, 563, 587, 636, 873, 990, 993, 995, 3306, 5432, 10007}

// TestServiceMatchesPython compares plumb service with getservbyname and
// getservbyport for the same names, ports and protocols.
func TestServiceMatchesPython(t *testing.T) {
	protos := []any{"tcp", "udp", nil}
	var qs, qp [][]any
	for _, n := range serviceNames {
		for _, p := range protos {
			qs = append(qs, []any{n, p})
		}
	}
	for _, n := range servicePorts {
		for _, p := range protos {
			qp = append(qp, []any{n, p})
		}
	}
	res := pyLookup(t, map[string]any{"services": qs, "ports": qp})
	check := func(what string, q []any, py json.RawMessage, args []string, match func(serviceJSON) bool) {
		got, ok := plumbServices(t, args...)
		if isPyError(py) {
			// Not in the system table: plumb may answer from its own.
			if ok && got[0].Source != "built-in" {
				t.Errorf("plumb service %v = %+v, but %s%v has no answer (%s)", args, got[0], what, q, py)
			}
			return
		}
		if !ok || !match(got[0]) {
			t.Errorf("plumb service %v = %+v, want %s%v = %s", args, got, what, q, py)
		}
	}
	for i, q := range qs {
		args := []string{q[0].(string)}
		if q[1] != nil {
			args = append(args, "--proto", q[1].(string))
		}
		var port int
		json.Unmarshal(res["services"][i], &port)
		check("getservbyname", q, res["services"][i], args, func(s serviceJSON) bool { return s.Port == port })
	}
	for i, q := range qp {
		args := []string{fmt.Sprint(q[0])}
		if q[1] != nil {
			args = append(args, "--proto", q[1].(string))
		}
		var name string
		json.Unmarshal(res["ports"][i], &name)
		check("getservbyport", q, res["ports"][i], args, func(s serviceJSON) bool { return s.Name == name })
	}
}

// lookupHosts are the names and addresses both sides are asked about:
// the loopbacks and every name in /etc/hosts.
func lookupHosts(t *testing.T) (names, addrs []string) {
	names = []string{"localhost"}
	addrs = []string{"127.0.0.1", "::1"}
	if b, err := os.ReadFile("/etc/hosts"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			l, _, _ = strings.Cut(l, "#")
			f := strings.Fields(l)
			if len(f) < 2 {
				continue
			}
			if !slices.Contains(addrs, f[0]) {
				addrs = append(addrs, f[0])
			}
			for _, n := range f[1:] {
				if !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
		}
	}
	return names, addrs
}

type hostResult struct {
	Name      string   `json:"name"`
	Aliases   []string `json:"aliases"`
	Addresses []string `json:"addresses"`
}

func plumbLookup(t *testing.T, host string) (hostResult, bool) {
	t.Helper()
	out, stderr, code := sockRun(t, "", "lookup", "--json", host)
	if code != 0 {
		return hostResult{}, false
	}
	var h hostResult
	if err := json.Unmarshal(out, &h); err != nil {
		t.Fatalf("plumb lookup --json %s output %q (stderr %q): %v", host, out, stderr, err)
	}
	return h, true
}

// sockDedup drops repeated entries, which glibc keeps and plumb does not.
func sockDedup(s []string) []string {
	var out []string
	for _, x := range s {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// TestLookupMatchesPython compares plumb lookup with gethostbyname_ex
// (names) and gethostbyaddr (addresses).
func TestLookupMatchesPython(t *testing.T) {
	names, addrs := lookupHosts(t)
	res := pyLookup(t, map[string]any{"hosts": names, "addrs": addrs})
	for i, n := range names {
		var py [3]json.RawMessage
		got, ok := plumbLookup(t, n)
		if isPyError(res["hosts"][i]) || json.Unmarshal(res["hosts"][i], &py) != nil {
			if ok && slices.ContainsFunc(got.Addresses, func(a string) bool { return !strings.Contains(a, ":") }) {
				t.Errorf("plumb lookup %s = %+v, but gethostbyname_ex failed: %s", n, got, res["hosts"][i])
			}
			continue
		}
		var name string
		var aliases, v4 []string
		json.Unmarshal(py[0], &name)
		json.Unmarshal(py[1], &aliases)
		json.Unmarshal(py[2], &v4)
		if !ok {
			t.Errorf("plumb lookup %s failed; gethostbyname_ex = %s", n, res["hosts"][i])
			continue
		}
		// gethostbyname_ex is IPv4 only, and glibc reports ::1 lines as 127.0.0.1.
		var gotV4 []string
		for _, a := range got.Addresses {
			if a == "::1" {
				a = "127.0.0.1"
			}
			if !strings.Contains(a, ":") {
				gotV4 = append(gotV4, a)
			}
		}
		if got.Name != name || !slices.Equal(got.Aliases, sockDedup(aliases)) || !slices.Equal(sockDedup(gotV4), sockDedup(v4)) {
			t.Errorf("plumb lookup %s = %+v; gethostbyname_ex = %q %q %q", n, got, name, aliases, v4)
		}
	}
	for i, a := range addrs {
		got, ok := plumbLookup(t, a)
		if !ok {
			t.Errorf("plumb lookup %s failed", a)
			continue
		}
		want := hostResult{Name: a, Aliases: []string{}, Addresses: []string{a}}
		if !isPyError(res["addrs"][i]) {
			var py [3]json.RawMessage
			json.Unmarshal(res["addrs"][i], &py)
			json.Unmarshal(py[0], &want.Name)
			json.Unmarshal(py[1], &want.Aliases)
		}
		if got.Name != want.Name || !slices.Equal(got.Aliases, want.Aliases) || !slices.Equal(got.Addresses, want.Addresses) {
			t.Errorf("plumb lookup %s = %+v, want %+v (gethostbyaddr: %s)", a, got, want, res["addrs"][i])
		}
	}
}

// TestAddrInfoMatchesPython compares plumb lookup --addrinfo with
// getaddrinfo for hosts and services (none, numeric, tcp-only, udp-only,
// both).
func TestAddrInfoMatchesPython(t *testing.T) {
	names, _ := lookupHosts(t)
	hosts := append([]string{"127.0.0.1", "::1"}, names...)
	services := []any{nil, "80", "http", "echo", "domain", "ntp", "ssh", "smtp", "imaps"}
	var q [][]any
	for _, h := range hosts {
		for _, s := range services {
			q = append(q, []any{h, s})
		}
	}
	res := pyLookup(t, map[string]any{"addrinfo": q})
	type entry struct {
		Family   string `json:"family"`
		SockType string `json:"socktype"`
		Protocol int    `json:"protocol"`
		Address  string `json:"address"`
		Port     int    `json:"port"`
	}
	for i, qq := range q {
		args := []string{"lookup", "--json", qq[0].(string), "--addrinfo"}
		if qq[1] != nil {
			args = append(args, qq[1].(string))
		}
		out, stderr, code := sockRun(t, "", args...)
		if isPyError(res["addrinfo"][i]) {
			if code == 0 {
				t.Errorf("plumb %v succeeded with %s, but getaddrinfo%v = %s", args, out, qq, res["addrinfo"][i])
			}
			continue
		}
		var want, got []entry
		json.Unmarshal(res["addrinfo"][i], &want)
		if code != 0 || json.Unmarshal(out, &got) != nil {
			t.Errorf("plumb %v: exit %d, stderr %q, output %q; want %v", args, code, stderr, out, want)
			continue
		}
		want = slices.CompactFunc(want, func(a, b entry) bool { return a == b })
		if !slices.Equal(sockDedupEntries(want), got) {
			t.Errorf("plumb %v = %+v, want getaddrinfo%v = %+v", args, got, qq, want)
		}
	}
}

func sockDedupEntries[E comparable](s []E) []E {
	var out []E
	for _, x := range s {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
