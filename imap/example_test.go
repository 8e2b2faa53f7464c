package imap_test

import (
	"context"
	"fmt"
	"net"

	"github.com/plumbnet/plumb/imap"
)

// A server on an in-memory backend, and the client reading from it.
func Example() {
	be := imap.NewMemoryBackend()
	be.AddUser("alice", "secret")
	be.Deliver("alice", "INBOX", []byte("From: Bob <bob@example.org>\r\nSubject: hello\r\n\r\nHi Alice.\r\n"))
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := &imap.Server{Backend: be}
	go srv.Serve(ln)
	defer srv.Close()

	ctx := context.Background()
	c, err := imap.Dial(ctx, ln.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	if err := c.Login(ctx, "alice", "secret"); err != nil { // loopback: no TLS needed
		fmt.Println(err)
		return
	}
	sel, _ := c.Select(ctx, "INBOX", true)
	fmt.Println(sel.Exists, "message")
	c.Fetch(ctx, false, imap.SeqSetOf(1), "(UID ENVELOPE BODY.PEEK[TEXT])", func(f *imap.FetchData) error {
		fmt.Printf("%d %s: %s %q\n", f.UID, f.From(), f.Subject(), f.Sections["BODY[TEXT]"])
		return nil
	})
	uids, _ := c.Search(ctx, true, "FROM bob")
	fmt.Println("from bob:", uids)
	c.Logout(ctx)
	// Output:
	// 1 message
	// 1 Bob <bob@example.org>: hello "Hi Alice.\r\n"
	// from bob: [1]
}
