package xmlrpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

type pair struct {
	Name  string `xmlrpc:"name"`
	Count int    `xmlrpc:"count"`
}

// newTestServer serves a Server with methods of every shape on loopback.
func newTestServer(t *testing.T) (*Server, *Client, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	s := &Server{Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Register("math.add", func(ctx context.Context, a, b int) (int, error) { return a + b, nil }, "Adds two integers."))
	must(s.Register("echo", func(args ...any) []any { return args }, "Returns its arguments."))
	must(s.Register("scale", func(p pair, by float64) (map[string]any, error) {
		return map[string]any{"name": p.Name, "scaled": float64(p.Count) * by}, nil
	}, ""))
	must(s.Register("fail", func(code int) (bool, error) {
		if code == 0 {
			return false, errors.New("secret internal detail")
		}
		return false, Errorf(code, "failed with %d", code)
	}, ""))
	must(s.Register("boom", func() (int, error) { panic("kaboom") }, ""))
	must(s.Register("unencodable", func() any { return make(chan int) }, ""))
	must(s.Register("maybe", func(p *pair) *pair { return p }, "nil in, nil out"))
	must(s.Register("when", func(t time.Time, b []byte) (string, error) {
		return t.Format(time.RFC3339) + " " + string(b), nil
	}, ""))
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, &Client{URL: ts.URL + "/RPC2"}, &logs
}

func TestServerCalls(t *testing.T) {
	_, c, logs := newTestServer(t)
	ctx := context.Background()
	var sum int
	if err := c.Call(ctx, "math.add", &sum, 2, 3); err != nil || sum != 5 {
		t.Errorf("Call(math.add, 2, 3) = %d, %v; want 5", sum, err)
	}
	var echoed []any
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	args := []any{1, true, "s", 1.5, when, []byte("b"), map[string]any{"k": "v"}, []any{1, "x"}, nil}
	if err := c.Call(ctx, "echo", &echoed, args...); err != nil || !reflect.DeepEqual(echoed, args) {
		t.Errorf("Call(echo, %v) = %#v, %v", args, echoed, err)
	}
	var scaled struct {
		Name   string
		Scaled float64
	}
	if err := c.Call(ctx, "scale", &scaled, pair{"n", 4}, 2); err != nil || scaled.Name != "n" || scaled.Scaled != 8 {
		t.Errorf("Call(scale) = %+v, %v; want {n 8}", scaled, err)
	}
	var p *pair
	if err := c.Call(ctx, "maybe", &p, nil); err != nil || p != nil {
		t.Errorf("Call(maybe, nil) = %v, %v; want nil", p, err)
	}
	var s string
	if err := c.Call(ctx, "when", &s, when, []byte("x")); err != nil || s != "2026-01-02T03:04:05Z x" {
		t.Errorf("Call(when) = %q, %v", s, err)
	}
	if logs.Len() != 0 {
		t.Errorf("logs after good calls: %s", logs.String())
	}
}

func TestServerFaults(t *testing.T) {
	s, c, logs := newTestServer(t)
	// Strings XML cannot carry: a result is refused, a fault's text mended.
	if err := errors.Join(s.Register("control", func() string { return "bell\x07" }, ""),
		s.Register("faultctl", func() (int, error) { return 0, Errorf(7, "bad \x01 name") }, "")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		method string
		args   []any
		code   int
		text   string
	}{
		{"nope", nil, CodeMethodNotFound, `"nope" not found`},
		{"math.add", []any{1}, CodeInvalidParams, "takes 2 argument(s), not 1"},
		{"math.add", []any{1, 2, 3}, CodeInvalidParams, "not 3"},
		{"math.add", []any{1, "two"}, CodeInvalidParams, "argument 2: xmlrpc: type mismatch: string for a int"},
		{"scale", []any{pair{}, "x"}, CodeInvalidParams, "argument 2"},
		{"fail", []any{42}, 42, "failed with 42"},
		{"fail", []any{0}, CodeServerError, "fail failed"},
		{"boom", nil, CodeInternalError, "internal error in boom"},
		{"unencodable", nil, CodeInternalError, "cannot be encoded"},
		{"control", nil, CodeInternalError, "cannot be encoded"},
		{"faultctl", nil, 7, "bad \uFFFD name"},
		{"system.methodHelp", nil, CodeInvalidParams, "takes 1"},
	}
	for _, tt := range tests {
		var f *Fault
		err := c.Call(ctx, tt.method, nil, tt.args...)
		if !errors.As(err, &f) || f.Code != tt.code || !strings.Contains(f.String, tt.text) {
			t.Errorf("Call(%s, %v) = %v; want fault %d %q", tt.method, tt.args, err, tt.code, tt.text)
		}
	}
	if err := c.Call(ctx, "echo", nil, "ring\x07"); !errors.Is(err, ErrType) {
		t.Errorf("an argument XML cannot carry = %v, want ErrType before sending", err)
	}
	if strings.Contains(fmt.Sprint(c.Call(ctx, "fail", nil, 0)), "secret") {
		t.Errorf("an internal error's text reached the client")
	}
	for _, want := range []string{"secret internal detail", "kaboom", "stack="} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("server log lacks %q:\n%s", want, logs.String())
		}
	}
}

func TestServerIntrospection(t *testing.T) {
	_, c, _ := newTestServer(t)
	ctx := context.Background()
	var names []string
	if err := c.Call(ctx, "system.listMethods", &names); err != nil {
		t.Fatal(err)
	}
	want := []string{"boom", "echo", "fail", "math.add", "maybe", "scale", "system.listMethods",
		"system.methodHelp", "system.methodSignature", "system.multicall", "unencodable", "when"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("system.listMethods = %v, want %v", names, want)
	}
	var help string
	if err := c.Call(ctx, "system.methodHelp", &help, "math.add"); err != nil || help != "Adds two integers." {
		t.Errorf("system.methodHelp(math.add) = %q, %v", help, err)
	}
	var sig [][]string
	if err := c.Call(ctx, "system.methodSignature", &sig, "math.add"); err != nil || !reflect.DeepEqual(sig, [][]string{{"int", "int", "int"}}) {
		t.Errorf("system.methodSignature(math.add) = %v, %v", sig, err)
	}
	if err := c.Call(ctx, "system.methodSignature", &sig, "when"); err != nil || !reflect.DeepEqual(sig, [][]string{{"string", "dateTime.iso8601", "base64"}}) {
		t.Errorf("system.methodSignature(when) = %v, %v", sig, err)
	}
}

func TestServerMulticall(t *testing.T) {
	_, c, _ := newTestServer(t)
	var sum int
	var names []string
	reqs := []*Request{
		{Method: "math.add", Args: []any{1, 2}, Result: &sum},
		{Method: "fail", Args: []any{7}},
		{Method: "system.listMethods", Result: &names},
		{Method: "system.multicall", Args: []any{[]any{}}},
		{Method: "nope"},
	}
	if err := c.Multicall(context.Background(), reqs...); err != nil {
		t.Fatal(err)
	}
	if reqs[0].Err != nil || sum != 3 {
		t.Errorf("multicall math.add = %d, %v; want 3", sum, reqs[0].Err)
	}
	var f *Fault
	if !errors.As(reqs[1].Err, &f) || f.Code != 7 {
		t.Errorf("multicall fail(7) = %v, want fault 7", reqs[1].Err)
	}
	if reqs[2].Err != nil || len(names) != 12 {
		t.Errorf("multicall system.listMethods = %v, %v", names, reqs[2].Err)
	}
	if !errors.As(reqs[3].Err, &f) || f.Code != CodeInvalidRequest {
		t.Errorf("nested multicall = %v, want fault %d", reqs[3].Err, CodeInvalidRequest)
	}
	if !errors.As(reqs[4].Err, &f) || f.Code != CodeMethodNotFound {
		t.Errorf("multicall nope = %v, want fault %d", reqs[4].Err, CodeMethodNotFound)
	}
}

// post sends body to h and returns the status and the response body.
func post(t *testing.T, h http.Handler, method, body string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, "/RPC2", strings.NewReader(body)))
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}

func TestServerBadRequests(t *testing.T) {
	s, _, _ := newTestServer(t)
	s.MaxRequestBytes = 3000
	if code, _ := post(t, s, "GET", ""); code != http.StatusMethodNotAllowed {
		t.Errorf("GET = %d, want 405", code)
	}
	tests := []struct{ body, want string }{
		{"not xml", "<int>-32700</int>"},
		{`<!DOCTYPE x [<!ENTITY e "e">]><methodCall><methodName>echo</methodName></methodCall>`, "directive"},
		{"<methodCall><methodName>echo</methodName><params><param><value>" + strings.Repeat("x", 4000) + "</value></param></params></methodCall>", "request over 3000 bytes"},
		{"<methodCall><methodName>echo</methodName><params><param>" + strings.Repeat("<value><array><data>", 40) + strings.Repeat("</data></array></value>", 40) + "</param></params></methodCall>", "nested deeper than 32"},
		{"<methodCall><methodName>system.multicall</methodName><params><param><value><i4>1</i4></value></param></params></methodCall>", "<int>-32602</int>"},
	}
	for _, tt := range tests {
		code, body := post(t, s, "POST", tt.body)
		if code != http.StatusOK || !strings.Contains(body, "<fault>") || !strings.Contains(body, tt.want) {
			t.Errorf("POST %.50q = %d %s; want 200 and a fault with %q", tt.body, code, body, tt.want)
		}
	}
}

func TestRegisterRefuses(t *testing.T) {
	var s Server
	if err := s.Register("ok", func() int { return 1 }, ""); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name string
		fn   any
	}{
		{"ok", func() int { return 1 }},
		{"system.listMethods", func() int { return 1 }},
		{"bad name", func() int { return 1 }},
		{"", func() int { return 1 }},
		{"noresult", func() {}},
		{"onlyerr", func() error { return nil }},
		{"threeresults", func() (int, int, error) { return 0, 0, nil }},
		{"notfunc", 5},
		{"nilfunc", nil},
	}
	for _, tt := range bad {
		if err := s.Register(tt.name, tt.fn, ""); err == nil {
			t.Errorf("Register(%q, %T) = nil, want an error", tt.name, tt.fn)
		}
	}
}

// TestServerBodyLimits: a body over the limit is refused whether it
// declares its length (more or less than the limit) or is chunked.
func TestServerBodyLimits(t *testing.T) {
	s, _, _ := newTestServer(t)
	s.MaxRequestBytes = 3000
	call := func(n int) string {
		return "<methodCall><methodName>echo</methodName><params><param><value>" + strings.Repeat("x", n) + "</value></param></params></methodCall>"
	}
	for _, tt := range []struct {
		name   string
		body   string
		length int64 // -1: chunked
		want   string
	}{
		{"declared, over", call(4000), -2, "request over 3000 bytes"},
		{"chunked, over", call(4000), -1, "request over 3000 bytes"},
		{"chunked, within", call(100), -1, strings.Repeat("x", 100)},
		{"declared, within", call(2800), -2, strings.Repeat("x", 2800)},
	} {
		r := httptest.NewRequest("POST", "/RPC2", strings.NewReader(tt.body))
		if tt.length == -1 {
			r.ContentLength = -1
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, r)
		if body := rec.Body.String(); rec.Code != 200 || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d %.200s; want 200 and %q", tt.name, rec.Code, body, tt.want)
		}
	}
}

// TestServerFraming: over a real connection, a small response and a
// large one both carry a Content-Length and are not chunked.
func TestServerFraming(t *testing.T) {
	_, c, _ := newTestServer(t)
	for _, n := range []int{10, 100_000} {
		var body bytes.Buffer
		encodeCall(&body, "echo", []any{strings.Repeat("y", n)}, DefaultMaxDepth)
		resp, err := http.Post(c.URL, "text/xml", &body)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.ContentLength != int64(len(b)) || len(resp.TransferEncoding) != 0 || !bytes.Contains(b, []byte(strings.Repeat("y", n))) {
			t.Errorf("echo of %d bytes: Content-Length %d, Transfer-Encoding %v, %d bytes read", n, resp.ContentLength, resp.TransferEncoding, len(b))
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/xml; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
	}
}

// TestServerRegisterWhileServing: methods registered while calls run
// are found by the calls after, and the calls before are not disturbed
// (run with -race: the method table is read with no lock).
func TestServerRegisterWhileServing(t *testing.T) {
	s := &Server{}
	if err := s.Register("first", func() int { return 1 }, ""); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	errs := make(chan string, 1)
	go func() {
		defer close(done)
		for i := range 200 {
			if code, body := post(t, s, "POST", "<methodCall><methodName>first</methodName></methodCall>"); code != 200 || !strings.Contains(body, "<int>1</int>") {
				select {
				case errs <- fmt.Sprintf("call %d: %d %s", i, code, body):
				default:
				}
				return
			}
		}
	}()
	for i := range 50 {
		if err := s.Register(fmt.Sprintf("m%d", i), func() int { return i }, ""); err != nil {
			t.Fatal(err)
		}
	}
	<-done
	select {
	case e := <-errs:
		t.Fatal(e)
	default:
	}
	if _, body := post(t, s, "POST", "<methodCall><methodName>m49</methodName></methodCall>"); !strings.Contains(body, "<int>49</int>") {
		t.Errorf("m49 after registering: %s", body)
	}
}
