package gopher_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"testing/fstest"

	"github.com/plumbnet/plumb/gopher"
)

// A server over an in-memory tree, and the client reading its menu and
// a text file.
func Example() {
	tree := fstest.MapFS{
		"hello.txt":     {Data: []byte("Hello, gopherspace.\n")},
		"pics/logo.gif": {Data: []byte("GIF89a")},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &gopher.Server{Backend: &gopher.FSBackend{Root: tree}, NoSearch: true}
	go srv.Serve(ln)
	defer srv.Close()

	var c gopher.Client
	root := gopher.URL{Host: ln.Addr().String(), Type: gopher.TypeMenu}
	items, err := c.Menu(context.Background(), root)
	if err != nil {
		panic(err)
	}
	for _, it := range items {
		fmt.Printf("%c %s %s\n", it.Type, it.Display, it.Selector)
	}
	c.Text(context.Background(), items[1].URL(false), os.Stdout)
	// Output:
	// 1 pics /pics/
	// 0 hello.txt /hello.txt
	// Hello, gopherspace.
}
