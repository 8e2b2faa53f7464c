package telnet_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"strings"

	"github.com/plumbnet/plumb/telnet"
)

// A server whose accounts run a small program on their terminal, and a
// client that logs in to it.
func Example() {
	be := &telnet.MemoryBackend{Program: telnet.ProgramFunc(func(ctx context.Context, t *telnet.Terminal) error {
		fmt.Fprintf(t.TTY, "hello %s on a %s terminal\n", t.User, t.Type)
		return nil
	})}
	be.AddUser("alice", "secret")
	srv := &telnet.Server{Backend: be, Logger: slog.New(slog.DiscardHandler)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()

	c, err := telnet.Dial(context.Background(), ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.TermType = "xterm"
	c.Negotiate()
	readUntil(c, "login: ")
	c.Write([]byte("alice\r\n"))
	readUntil(c, "Password: ")
	c.Write([]byte("secret\r\n"))
	out, _ := io.ReadAll(c)
	fmt.Println(strings.TrimSpace(string(out)))
	// Output: hello alice on a xterm terminal
}

func readUntil(r io.Reader, text string) {
	var got []byte
	b := make([]byte, 1)
	for !strings.HasSuffix(string(got), text) {
		if _, err := r.Read(b); err != nil {
			return
		}
		got = append(got, b[0])
	}
}
