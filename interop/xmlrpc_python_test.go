package interop

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbnet/plumb/xmlrpc"
)

// xmlrpcRecord is the struct the Python client sends to types().
type xmlrpcRecord struct {
	Name   string `xmlrpc:"name"`
	N      int    `xmlrpc:"n"`
	Nested struct {
		List  []any          `xmlrpc:"list"`
		Empty map[string]any `xmlrpc:"empty"`
	} `xmlrpc:"nested"`
}

// xmlrpcTypesArgs is what types() received, in its Go types.
type xmlrpcTypesArgs struct {
	I, Min     int
	T, F       bool
	S          string
	D, Small   float64
	When       time.Time
	Bin        []byte
	Rec        xmlrpcRecord
	Arr        []any
	None       *string
	NoneWasNil bool
}

// startXMLRPCServer serves the package's Server with the interop
// methods on 127.0.0.1 in this test process (the daemon mounts the same
// handler at /RPC2 on its HTTP service), and returns its URL and what
// types() was last called with, and the server's log so far.
func startXMLRPCServer(t *testing.T) (url string, last func() xmlrpcTypesArgs, log func() string) {
	t.Helper()
	var mu sync.Mutex
	var received xmlrpcTypesArgs
	var logs bytes.Buffer
	logw := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logs.Write(p) })
	srv := &xmlrpc.Server{Logger: slog.New(slog.NewTextHandler(logw, nil))}
	reg := func(name string, fn any, help string) {
		if err := srv.Register(name, fn, help); err != nil {
			t.Fatal(err)
		}
	}
	reg("types", func(ctx context.Context, i int, min int32, tr, f bool, s string, d, small float64, when time.Time,
		bin []byte, rec xmlrpcRecord, arr []any, none *string) ([]any, error) {
		mu.Lock()
		received = xmlrpcTypesArgs{i, int(min), tr, f, s, d, small, when, bin, rec, arr, none, none == nil}
		mu.Unlock()
		return []any{i, min, tr, f, s, d, small, when, bin, rec, arr, none}, nil
	}, "Takes one of each type and returns them.")
	reg("echo", func(args ...any) []any { return args }, "Returns its arguments.")
	reg("nothing", func() any { return nil }, "Returns nil.")
	reg("add", func(a, b int) int { return a + b }, "Adds two integers.")
	reg("fault", func(code int, text string) (bool, error) { return false, &xmlrpc.Fault{Code: code, String: text} }, "")
	reg("boom", func() int { panic("boom") }, "")
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts.URL + "/RPC2", func() xmlrpcTypesArgs { mu.Lock(); defer mu.Unlock(); return received }, func() string {
		mu.Lock()
		defer mu.Unlock()
		return logs.String()
	}
}

// TestXMLRPCPythonClient: Python's xmlrpc.client (allow_none) calls our
// server with every type, faults, multicall, introspection and nil;
// the script asserts what Python got back, and this test what Go got.
func TestXMLRPCPythonClient(t *testing.T) {
	py := needPyModule(t, "xmlrpc.client")
	url, last, log := startXMLRPCServer(t)
	out := run(t, 60*time.Second, py, "-W", "ignore", filepath.Join("testdata", "xmlrpc_client.py"), url)
	if strings.TrimSpace(out) != "ok" {
		t.Fatalf("xmlrpc_client.py printed %q, want ok", out)
	}
	if !strings.Contains(log(), "method panicked") || !strings.Contains(log(), "method=boom") {
		t.Errorf("the server did not log boom's panic; its log:\n%s", log())
	}
	got := last()
	want := xmlrpcTypesArgs{I: 42, Min: -2147483648, T: true, S: "h\u00e9llo <&> \"world\"\n\ttab", D: 3.25, Small: -0.0001,
		When: time.Date(2026, 12, 1, 10, 30, 15, 0, time.UTC), Bin: []byte("\x00\x01binary\xff"),
		Arr: []any{1, "two", []any{3, []any{4}}, map[string]any{}, []any{}}, NoneWasNil: true}
	want.Rec.Name, want.Rec.N = "plumb <&> \u00e9t\u00e9", 7
	want.Rec.Nested.List, want.Rec.Nested.Empty = []any{1, "two", 3.5, nil}, map[string]any{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("types() received\n%#v\nwant\n%#v", got, want)
	}
}

// startPythonXMLRPC runs testdata/xmlrpc_server.py and returns its URL.
func startPythonXMLRPC(t *testing.T) string {
	t.Helper()
	py := needPyModule(t, "xmlrpc.server")
	cmd := exec.Command(py, "-W", "ignore", filepath.Join("testdata", "xmlrpc_server.py"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	startPeerProcess(t, cmd)
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		io.Copy(io.Discard, out)
	}()
	select {
	case l := <-line:
		var port int
		if _, err := fmt.Sscanf(l, "PORT %d", &port); err != nil {
			t.Fatalf("xmlrpc_server.py said %q, want PORT n; stderr: %s", l, stderr.String())
		}
		return fmt.Sprintf("http://127.0.0.1:%d/RPC2", port)
	case <-time.After(20 * time.Second):
		t.Fatal("xmlrpc_server.py did not start in 20s")
	}
	return ""
}

// TestXMLRPCClientAgainstPython: our client calls Python's
// SimpleXMLRPCServer (allow_none, multicall, introspection) with every
// type, and gets its faults as *xmlrpc.Fault.
func TestXMLRPCClientAgainstPython(t *testing.T) {
	c := &xmlrpc.Client{URL: startPythonXMLRPC(t)}
	ctx := context.Background()
	when := time.Date(2026, 12, 1, 10, 30, 15, 0, time.UTC)
	// No CR in the string: Python writes one unescaped, and XML reads a
	// raw CR as LF (plumb writes &#xD;, which Python reads right).
	args := []any{42, -2147483648, true, false, "h\u00e9llo <&> \"world\"\n\ttab", 3.25, -1e-9, when,
		[]byte("\x00\x01binary\xff"), map[string]any{"name": "x", "list": []any{1, nil, map[string]any{}}},
		[]any{1, "two", []any{3.5}}, nil}
	var echoed []any
	if err := c.Call(ctx, "echo", &echoed, args...); err != nil || !reflect.DeepEqual(echoed, args) {
		t.Errorf("echo(%#v) = %#v, %v", args, echoed, err)
	}
	var kinds []string
	want := []string{"int", "int", "bool", "bool", "str", "float", "float", "datetime", "bytes", "dict", "list", "NoneType"}
	if err := c.Call(ctx, "kinds", &kinds, args...); err != nil || !slices.Equal(kinds, want) {
		t.Errorf("kinds(…) = %v, %v; want %v", kinds, err, want)
	}
	var sum float64
	if err := c.Call(ctx, "add", &sum, 1.5, 2); err != nil || sum != 3.5 {
		t.Errorf("add(1.5, 2) = %v, %v; want 3.5", sum, err)
	}
	var v any = "unset"
	if err := c.Call(ctx, "nothing", &v); err != nil || v != nil {
		t.Errorf("nothing() = %#v, %v; want nil", v, err)
	}
	var f *xmlrpc.Fault
	if err := c.Call(ctx, "fault", nil, 42, "custom trouble"); !errors.As(err, &f) || *f != (xmlrpc.Fault{Code: 42, String: "custom trouble"}) {
		t.Errorf("fault(42, …) = %v, want fault 42 custom trouble", err)
	}
	if err := c.Call(ctx, "nosuch", nil); !errors.As(err, &f) || !strings.Contains(f.String, "nosuch") {
		t.Errorf("nosuch() = %v, want Python's fault naming it", err)
	}
	// Python refuses to write an int over 32 bits and says so in a fault.
	if err := c.Call(ctx, "add", nil, 1<<40, 1); !errors.As(err, &f) || !strings.Contains(f.String, "OverflowError") {
		t.Errorf("add(1<<40, 1) = %v, want Python's OverflowError fault", err)
	}
	var names []string
	if err := c.Call(ctx, "system.listMethods", &names); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"add", "echo", "system.multicall", "system.methodHelp"} {
		if !slices.Contains(names, n) {
			t.Errorf("system.listMethods() = %v, lacks %s", names, n)
		}
	}
	var help string
	if err := c.Call(ctx, "system.methodHelp", &help, "add"); err != nil || help != "Adds two numbers." {
		t.Errorf("system.methodHelp(add) = %q, %v", help, err)
	}
	var sum2 int
	var echo2 []any
	reqs := []*xmlrpc.Request{
		{Method: "add", Args: []any{1, 2}, Result: &sum2},
		{Method: "fault", Args: []any{7, "seven"}},
		{Method: "echo", Args: []any{"a", nil, when}, Result: &echo2},
		{Method: "nosuch"},
	}
	if err := c.Multicall(ctx, reqs...); err != nil {
		t.Fatal(err)
	}
	if reqs[0].Err != nil || sum2 != 3 {
		t.Errorf("multicall add(1, 2) = %d, %v", sum2, reqs[0].Err)
	}
	if !errors.As(reqs[1].Err, &f) || f.Code != 7 || f.String != "seven" {
		t.Errorf("multicall fault(7) = %v", reqs[1].Err)
	}
	if reqs[2].Err != nil || !reflect.DeepEqual(echo2, []any{"a", nil, when}) {
		t.Errorf("multicall echo = %#v, %v", echo2, reqs[2].Err)
	}
	if !errors.As(reqs[3].Err, &f) {
		t.Errorf("multicall nosuch = %v, want a fault", reqs[3].Err)
	}
}
