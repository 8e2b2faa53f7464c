package finger_test

import (
	"context"
	"fmt"
	"net"

	"github.com/plumbnet/plumb/finger"
)

func Example() {
	be := &finger.MemoryBackend{}
	plan := "Ship it."
	be.Set(finger.Entry{Login: "alice", Name: "Alice Liddell", Plan: &plan})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := &finger.Server{Backend: be}
	go srv.Serve(ln)
	defer srv.Close()

	q, _ := finger.ParseQuery("alice")
	answer, err := finger.Finger(context.Background(), ln.Addr().String(), q)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s", finger.Harmless(answer))
	// Output:
	// Login: alice                     Name: Alice Liddell
	// Plan:
	// Ship it.
}

func ExampleParseQuery() {
	q, _ := finger.ParseQuery("/W alice@example.org")
	fmt.Printf("%v %q %q %q\n", q.Verbose, q.User, q.Hosts, q.String())
	// Output: true "alice" ["example.org"] "/W alice@example.org"
}
