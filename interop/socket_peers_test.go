package interop

// Helpers for the socket-layer tests: running plumb and peer programs.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

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

// startSockPeer starts a peer program whose standard output is read
// line by line with line().
func startSockPeer(t *testing.T, name string, args ...string) *sockPeer {
	t.Helper()
	p := &sockPeer{cmd: exec.Command(name, args...), stderr: &sockBuffer{}, done: make(chan error, 1)}
	r, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdout = bufio.NewReader(r)
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

func sockTempFile(t *testing.T, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in.txt")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func sockReadFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
