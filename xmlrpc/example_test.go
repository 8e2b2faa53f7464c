package xmlrpc_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"

	"github.com/plumbnet/plumb/xmlrpc"
)

func ExampleServer_Register() {
	srv := &xmlrpc.Server{}
	srv.Register("math.divide", func(ctx context.Context, a, b float64) (float64, error) {
		if b == 0 {
			return 0, &xmlrpc.Fault{Code: 1, String: "division by zero"}
		}
		return a / b, nil
	}, "Divides a by b.")
	ts := httptest.NewServer(srv) // or mux.Handle("/RPC2", srv)
	defer ts.Close()

	c := &xmlrpc.Client{URL: ts.URL + "/RPC2"}
	var q float64
	err := c.Call(context.Background(), "math.divide", &q, 7, 2)
	fmt.Println(q, err)
	err = c.Call(context.Background(), "math.divide", &q, 1, 0)
	var f *xmlrpc.Fault
	fmt.Println(errors.As(err, &f), f.Code, f.String)
	// Output:
	// 3.5 <nil>
	// true 1 division by zero
}

func ExampleClient_Multicall() {
	srv := &xmlrpc.Server{}
	srv.Register("echo", func(s string) string { return s }, "")
	ts := httptest.NewServer(srv)
	defer ts.Close()

	c := &xmlrpc.Client{URL: ts.URL}
	var a, b string
	reqs := []*xmlrpc.Request{
		{Method: "echo", Args: []any{"one"}, Result: &a},
		{Method: "echo", Args: []any{"two"}, Result: &b},
		{Method: "nope"},
	}
	if err := c.Multicall(context.Background(), reqs...); err != nil {
		fmt.Println(err)
	}
	fmt.Println(a, b, reqs[2].Err)
	// Output: one two xmlrpc: fault -32601: method "nope" not found
}
