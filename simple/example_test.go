package simple_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/plumbnet/plumb/simple"
)

// An echo server on a port of its own, and a round trip to it.
func ExampleServer() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &simple.Server{Service: simple.Echo}
	go srv.Serve(l)
	defer srv.Close()

	_, err = (&simple.Client{}).Echo(context.Background(), l.Addr().String(), []byte("hello"))
	fmt.Println("echo intact:", err == nil)
	// Output: echo intact: true
}

// A time server over UDP, asked by the client.
func ExampleClient_Time() {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &simple.Server{Service: simple.Time, Now: func() time.Time {
		return time.Date(1985, 10, 26, 1, 21, 0, 0, time.UTC)
	}}
	go srv.ServePacket(pc)
	defer srv.Close()

	t, err := (&simple.Client{Network: "udp"}).Time(context.Background(), pc.LocalAddr().String())
	if err != nil {
		panic(err)
	}
	fmt.Println(t.UTC())
	// Output: 1985-10-26 01:21:00 +0000 UTC
}

// A quotation file in the fortune format.
func ExampleParseQuotes() {
	file := "Be liberal in what you accept.\n%\nKeep it simple.\n  -- anon\n"
	quotes, skipped, err := simple.ParseQuotes(strings.NewReader(file))
	if err != nil {
		panic(err)
	}
	fmt.Printf("%q, %d skipped\n", quotes, skipped)
	// Output: ["Be liberal in what you accept." "Keep it simple.\r\n  -- anon"], 0 skipped
}

// The first bytes of a chargen stream.
func ExampleClient_Chargen() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &simple.Server{Service: simple.Chargen}
	go srv.Serve(l)
	defer srv.Close()

	var sb strings.Builder
	(&simple.Client{}).Chargen(context.Background(), l.Addr().String(), &sb, 20)
	fmt.Printf("%q\n", sb.String())
	// Output: " !\"#$%&'()*+,-./0123"
}
