package interop

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	// The tests run a plumb binary built in TestMain, which go test's
	// cache does not see; importing the command tree (and with it every
	// package plumb is built from) makes a change to any of them rerun
	// these tests instead of reporting a cached result.
	_ "github.com/plumbnet/plumb/internal/cli"
)

// plumbBin is the plumb binary built once for the whole package.
var plumbBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "plumb-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	plumbBin = filepath.Join(dir, "plumb")
	build := exec.Command("go", "build", "-o", plumbBin, "github.com/plumbnet/plumb/cmd/plumb")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// requirePeers reports whether a missing peer fails the test instead of skipping it.
func requirePeers() bool { return os.Getenv("PLUMB_INTEROP") == "require" }

// need returns the path of the peer program name, or skips the test
// (fails it under PLUMB_INTEROP=require) when it is not installed.
func need(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if requirePeers() {
			t.Fatalf("peer %s is required (PLUMB_INTEROP=require) but not installed", name)
		}
		t.Skipf("peer %s not installed", name)
	}
	return p
}

// needPyModule returns the python that can import module: Debian's
// /usr/bin/python3 for python3-* packages, else python3 on PATH.
func needPyModule(t testing.TB, module string) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(py, "-W", "ignore", "-c", "import "+module).Run() == nil {
			return py
		}
	}
	if requirePeers() {
		t.Fatalf("python module %s is required (PLUMB_INTEROP=require) but not importable", module)
	}
	t.Skipf("python module %s not installed", module)
	return ""
}

// Serve is one running plumb serve started by a test.
type Serve struct {
	Data   string
	addrs  map[string]string // service name -> address, from the start-up table
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan struct{}
}

// defaultServices are the sections of services on by default; startServe
// moves them to free ports unless the test's config has the section.
var defaultServices = []string{"echo", "discard", "daytime", "qotd", "chargen", "time",
	"ftp", "ftp.ftps", "http", "http.https", "smtp", "smtp.submission", "smtp.submissions", "pop3", "pop3.pop3s",
	"imap", "imap.imaps", "nntp", "nntp.nntps", "finger", "gopher", "gopher.tls"}

// startServe runs plumb serve on a temporary data directory with every
// default service on a free 127.0.0.1 port, plus config (TOML sections
// the test adds; give a service addr = "127.0.0.1:0"). It returns when
// the start-up table is printed and stops the daemon when the test ends.
func startServe(t testing.TB, config string, args ...string) *Serve {
	t.Helper()
	return startServeData(t, t.TempDir(), config, args...)
}

// startServeData is startServe on a given data directory, for a test
// that restarts a daemon on the data it left.
func startServeData(t testing.TB, data, config string, args ...string) *Serve {
	t.Helper()
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "data = %q\nlisten = \"127.0.0.1\"\n", data)
	if !strings.Contains(config, "[admin]") {
		cfg.WriteString("[admin]\naddr = \"127.0.0.1:0\"\n")
	}
	for _, s := range defaultServices {
		if !strings.Contains(config, "["+s+"]") {
			fmt.Fprintf(&cfg, "[%s]\naddr = \"127.0.0.1:0\"\n", s)
		}
	}
	cfg.WriteString(config)
	cfgFile := filepath.Join(t.TempDir(), "plumb.toml")
	if err := os.WriteFile(cfgFile, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &Serve{Data: data, addrs: map[string]string{}, done: make(chan struct{})}
	s.cmd = exec.Command(plumbBin, append([]string{"serve", "--config", cfgFile}, args...)...)
	s.cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.stderr.Write(p)
	})
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		inTable := false
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) > 0 && f[0] == "SERVICE":
				inTable = true
			case inTable && len(f) == 0:
				inTable = false
				ready <- nil
			case inTable && len(f) >= 3:
				s.addrs[f[0]] = f[2]
			}
		}
		ready <- fmt.Errorf("plumb serve ended before printing its table")
		io.Copy(io.Discard, stdout)
	}()
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() { s.Stop(t) })
	select {
	case err := <-ready:
		if err != nil {
			<-s.done
			t.Fatalf("%v; stderr:\n%s", err, s.Stderr())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("plumb serve did not start in 30s; stderr:\n%s", s.Stderr())
	}
	return s
}

// Addr returns the address the daemon printed for service name ("echo", "echo/udp", "admin").
func (s *Serve) Addr(t testing.TB, name string) string {
	t.Helper()
	a, ok := s.addrs[name]
	if !ok {
		t.Fatalf("service %q not in plumb serve's table %v", name, s.addrs)
	}
	return a
}

// Stderr returns what the daemon logged so far.
func (s *Serve) Stderr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// Stop sends SIGTERM and waits for the daemon to exit (SIGKILL after 15s).
func (s *Serve) Stop(t testing.TB) {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		t.Errorf("plumb serve did not stop within 15s of SIGTERM")
	}
}

// Kill ends the daemon with SIGKILL, as a crash would.
func (s *Serve) Kill() {
	s.cmd.Process.Kill()
	<-s.done
}

// run runs a command with a timeout and returns its standard output;
// the test fails with stderr if it exits non-zero.
func run(t testing.TB, timeout time.Duration, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// simpleServices are the small RFC 86x services among defaultServices.
var simpleServices = defaultServices[:6]
