package ftp_test

import (
	"context"
	"fmt"
	"log"
	"net"

	"github.com/plumbnet/plumb/ftp"
)

// A server with an in-memory tree: one user and a read-only anonymous area.
func ExampleServer() {
	be := ftp.NewMemoryBackend()
	home := be.AddUser("alice", "secret")
	home.WriteFile("hello.txt", []byte("Hello, FTP!\n"))
	pub := ftp.NewMemoryFS()
	pub.WriteFile("README", []byte("anonymous area\n"))
	pub.SetReadOnly(true)
	be.SetAnonymous(pub)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &ftp.Server{Backend: be, PassivePortMin: 30000, PassivePortMax: 30999}
	go srv.Serve(ln)
	defer srv.Close()

	c, err := ftp.Dial(context.Background(), ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Quit()
	if err := c.Login("alice", "secret"); err != nil {
		log.Fatal(err)
	}
	size, err := c.Size("hello.txt")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("hello.txt has", size, "bytes")
	// Output: hello.txt has 12 bytes
}
