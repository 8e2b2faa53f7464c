package ftp_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/plumbnet/plumb/ftp"
)

// Download a file over explicit FTPS, resuming a partial local copy.
func ExampleClient_RetrFrom() {
	c, err := ftp.Dial(context.Background(), "ftp.example.org:21")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.AuthTLS(&tls.Config{ServerName: "ftp.example.org"}); err != nil {
		log.Fatal(err)
	}
	if err := c.Login("anonymous", "guest@example.org"); err != nil {
		log.Fatal(err)
	}
	f, err := os.OpenFile("big.iso", os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	have, _ := f.Seek(0, 2)
	if _, err := c.RetrFrom("pub/big.iso", f, have); err != nil {
		log.Fatal(err) // the file is incomplete; run again to resume
	}
	c.Quit()
}

// List a directory: MLSD where the server offers it, LIST otherwise.
func ExampleClient_ReadDir() {
	c, err := ftp.Dial(context.Background(), "localhost:10021")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("anonymous", "guest@"); err != nil {
		log.Fatal(err)
	}
	entries, err := c.ReadDir("")
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		fmt.Printf("%-4s %10d %s %s\n", e.Type, e.Size, e.ModTime.Format("2006-01-02"), e.Name)
	}
	if _, err := c.Stor("hello.txt", strings.NewReader("hello\n")); err != nil {
		log.Fatal(err)
	}
	var buf bytes.Buffer
	c.Retr("hello.txt", &buf)
	c.Quit()
}
