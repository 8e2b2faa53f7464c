package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/simple"
)

func TestSimpleTarget(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"localhost", "localhost:10007"},
		{"localhost:7", "localhost:7"},
		{"localhost:", "localhost:10007"},
		{"127.0.0.1", "127.0.0.1:10007"},
		{"::1", "[::1]:10007"},
		{"[::1]", "[::1]:10007"},
		{"[::1]:7", "[::1]:7"},
		{"host:echo", "host:echo"},
	} {
		got, err := simpleTarget(tc.in, simple.Echo)
		if err != nil || got != tc.want {
			t.Errorf("simpleTarget(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if got, err := simpleTarget("", simple.Echo); err == nil {
		t.Errorf("simpleTarget(\"\") = %q, want an error", got)
	}
}

// runPlumb runs the command tree in-process and returns its output.
func runSimpleCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := NewRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

func startSimpleServer(t *testing.T, svc simple.Service) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &simple.Server{Service: svc, Quotes: []string{"a quote\r\non two lines"},
		Now: func() time.Time { return time.Date(2001, 9, 9, 1, 46, 40, 0, time.UTC) }, Location: time.UTC}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

func TestSimpleCommands(t *testing.T) {
	out, err := runSimpleCmd(t, "echo", "--count", "3", "--size", "100", startSimpleServer(t, simple.Echo))
	if err != nil || !strings.Contains(out, "3 sent, 3 echoed intact, 0 failed") {
		t.Errorf("plumb echo = %v\n%s", err, out)
	}
	out, err = runSimpleCmd(t, "echo", "--conns", "3", "--duration", "300ms", "--json", startSimpleServer(t, simple.Echo))
	var load echoLoadResult
	if err != nil || json.Unmarshal([]byte(out), &load) != nil || load.RoundTrips == 0 || load.Conns != 3 || load.Errors != 0 {
		t.Errorf("plumb echo load mode = %v\n%s", err, out)
	}
	if out, err := runSimpleCmd(t, "time", "--utc", startSimpleServer(t, simple.Time)); err != nil || out != "2001-09-09T01:46:40Z\n" {
		t.Errorf("plumb time --utc = %q, %v; want 2001-09-09T01:46:40Z", out, err)
	}
	if out, err := runSimpleCmd(t, "time", "--raw", startSimpleServer(t, simple.Time)); err != nil || out != "3208988800\n" {
		t.Errorf("plumb time --raw = %q, %v; want 3208988800", out, err)
	}
	if out, err := runSimpleCmd(t, "daytime", startSimpleServer(t, simple.Daytime)); err != nil || out != "Sunday, September 9, 2001 01:46:40 +0000\n" {
		t.Errorf("plumb daytime = %q, %v", out, err)
	}
	if out, err := runSimpleCmd(t, "qotd", startSimpleServer(t, simple.QOTD)); err != nil || out != "a quote\non two lines\n" {
		t.Errorf("plumb qotd = %q, %v", out, err)
	}
	if out, err := runSimpleCmd(t, "chargen", "--bytes", "100", startSimpleServer(t, simple.Chargen)); err != nil || len(out) != 100 || !strings.HasPrefix(out, " !\"#$") {
		t.Errorf("plumb chargen --bytes 100 = %q, %v", out, err)
	}
}

func TestSimpleCommandErrors(t *testing.T) {
	// A port nothing listens on: exit 1 and a reason that says what to do.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	_, err := runSimpleCmd(t, "daytime", addr)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(err.Error(), "nothing listens there") {
		t.Errorf("plumb daytime to a closed port = %v, want exit 1 saying nothing listens", err)
	}
	_, err = runSimpleCmd(t, "echo", "--udp", "--conns", "2", addr)
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("plumb echo --udp --conns = %v, want exit 2 (load mode is TCP only)", err)
	}
	_, err = runSimpleCmd(t, "echo", "--udp", "--size", "70000", addr)
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("plumb echo --udp --size 70000 = %v, want exit 2", err)
	}
}
