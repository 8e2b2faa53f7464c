package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runSocketCmd runs the command tree in process.
func runSocketCmd(t *testing.T, stdin io.Reader, args ...string) (string, string, error) {
	t.Helper()
	root := NewRoot()
	var out, errb bytes.Buffer
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(&out)
	root.SetErr(&errb)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := root.ExecuteContext(ctx)
	return out.String(), errb.String(), err
}

func socketExitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exitError); ok {
		return ee.code
	}
	return 1
}

func TestServiceCommand(t *testing.T) {
	file := filepath.Join(t.TempDir(), "services")
	os.WriteFile(file, []byte("domain 53/tcp\ndomain 53/udp\nimap2 143/tcp imap\n"), 0o600)
	cases := []struct {
		args []string
		want string
		code int
	}{
		{[]string{"service", "--file", file, "domain"}, "domain 53/tcp\ndomain 53/udp\n", 0},
		{[]string{"service", "--file", file, "domain", "--proto", "udp"}, "domain 53/udp\n", 0},
		{[]string{"service", "--file", file, "143"}, "imap2 143/tcp imap\n", 0},
		{[]string{"service", "--file", file, "imap"}, "imap2 143/tcp imap\n", 0},
		{[]string{"service", "--file", file, "gopher"}, "gopher 70/tcp\n", 0}, // built-in table
		{[]string{"service", "--file", file, "nosuch"}, "", 1},
		{[]string{"service", "--file", file, "99999"}, "", 1},
		{[]string{"service", "--file", file, "domain", "--proto", "sctp"}, "", 2},
	}
	for _, c := range cases {
		out, _, err := runSocketCmd(t, nil, c.args...)
		if out != c.want || socketExitCode(err) != c.code {
			t.Errorf("plumb %v = %q, exit %d (%v); want %q, exit %d", c.args, out, socketExitCode(err), err, c.want, c.code)
		}
	}
	out, _, err := runSocketCmd(t, nil, "service", "--file", file, "--json", "53", "--proto", "tcp")
	var got []map[string]any
	if err != nil || json.Unmarshal([]byte(out), &got) != nil || len(got) != 1 || got[0]["name"] != "domain" || got[0]["source"] != file {
		t.Errorf("plumb service --json 53 = %q, %v; want one domain entry from %s", out, err, file)
	}
}

func TestLookupCommandAddrInfo(t *testing.T) {
	out, _, err := runSocketCmd(t, nil, "lookup", "192.0.2.1", "--addrinfo", "80")
	want := "FAMILY   TYPE         PROTO  ADDRESS\n" +
		"AF_INET  SOCK_STREAM  tcp    192.0.2.1:80\n" +
		"AF_INET  SOCK_DGRAM   udp    192.0.2.1:80\n" +
		"AF_INET  SOCK_RAW     0      192.0.2.1:80\n"
	if err != nil || out != want {
		t.Errorf("plumb lookup 192.0.2.1 --addrinfo 80 = %q, %v; want %q", out, err, want)
	}
	out, _, err = runSocketCmd(t, nil, "lookup", "--json", "--addrinfo=7", "::1")
	var ai []map[string]any
	if err != nil || json.Unmarshal([]byte(out), &ai) != nil || len(ai) != 3 || ai[0]["family"] != "AF_INET6" || ai[0]["port"] != 7.0 {
		t.Errorf("plumb lookup --json --addrinfo=7 ::1 = %q, %v; want three AF_INET6 entries on port 7", out, err)
	}
	if _, _, err := runSocketCmd(t, nil, "lookup", "localhost", "http"); socketExitCode(err) != 2 {
		t.Errorf("plumb lookup localhost http (no --addrinfo) exit %d, want 2", socketExitCode(err))
	}
	if _, _, err := runSocketCmd(t, nil, "lookup", "bad\nname"); socketExitCode(err) != 2 {
		t.Errorf("plumb lookup with a line break exit %d, want 2", socketExitCode(err))
	}
}

// TestConnectCommand runs plumb connect in process against a server
// that answers after EOF.
func TestConnectCommand(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		c.Write(bytes.ToUpper(b))
	}()
	out, stderr, err := runSocketCmd(t, strings.NewReader("line one\nline two\n"), "connect", "--crlf", ln.Addr().String())
	if err != nil {
		t.Fatalf("plumb connect: %v (stderr %q)", err, stderr)
	}
	if want := "LINE ONE\r\nLINE TWO\r\n"; out != want {
		t.Errorf("plumb connect --crlf output = %q, want %q", out, want)
	}
	ln.Close()
	_, _, err = runSocketCmd(t, strings.NewReader(""), "connect", ln.Addr().String())
	if socketExitCode(err) != 1 || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("plumb connect to a closed port = %v, want exit 1 with connection refused", err)
	}
}

// TestConnectCommandUDP runs plumb connect --udp against a UDP echo.
func TestConnectCommandUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 65536)
		for {
			n, a, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(bytes.ToUpper(buf[:n]), a)
		}
	}()
	out, stderr, err := runSocketCmd(t, strings.NewReader("ping"), "connect", "--udp", "--idle", "300ms", pc.LocalAddr().String())
	if err != nil || out != "PING" {
		t.Errorf("plumb connect --udp = %q, %v (stderr %q); want %q", out, err, stderr, "PING")
	}
}
