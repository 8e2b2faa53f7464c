package pop3_test

import (
	"context"
	"fmt"
	"net"

	"github.com/plumbnet/plumb/pop3"
)

// A server with the in-memory backend, and the client reading from it.
func Example() {
	b := pop3.NewMemoryBackend()
	b.AddUser("alice", "secret", "")
	b.Deliver("alice", "Subject: hello\n\nHi Alice.\n")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &pop3.Server{Backend: b}
	go srv.Serve(ln)
	defer srv.Close()

	c, err := pop3.Dial(context.Background(), ln.Addr().String())
	if err != nil {
		panic(err)
	}
	if err := c.Login("alice", "secret"); err != nil {
		panic(err)
	}
	n, size, _ := c.Stat()
	fmt.Println(n, "message,", size, "octets")
	msg, _ := c.Retr(1)
	fmt.Printf("%q\n", msg)
	c.Quit()
	// Output:
	// 1 message, 29 octets
	// "Subject: hello\r\n\r\nHi Alice.\r\n"
}
