package smtp_test

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/plumbnet/plumb/smtp"
)

// A server with the in-memory backend, and the client sending to it.
func Example() {
	be := &smtp.MemoryBackend{}
	srv := &smtp.Server{Backend: be, Hostname: "mx.example"}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go srv.Serve(ln)
	defer srv.Close()

	c, err := smtp.Dial(context.Background(), ln.Addr().String())
	if err != nil {
		panic(err)
	}
	err = c.SendMail("alice@example.org", []string{"bob@mx.example"},
		strings.NewReader("Subject: hello\r\n\r\nHi Bob.\r\n"), nil)
	if err != nil {
		panic(err)
	}
	c.Quit()

	m := be.Messages()[0]
	fmt.Println(m.From, "->", m.To)
	fmt.Println(strings.HasSuffix(string(m.Data), "Subject: hello\r\n\r\nHi Bob.\r\n"))
	// Output:
	// alice@example.org -> [bob@mx.example]
	// true
}
