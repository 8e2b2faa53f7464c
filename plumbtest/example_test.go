package plumbtest_test

import (
	"bytes"
	"context"
	"fmt"
	"net/smtp"
	"time"

	"github.com/plumbnet/plumb/ftp"
	"github.com/plumbnet/plumb/plumbtest"
	"github.com/plumbnet/plumb/pop3"
)

// An application's mail, sent with net/smtp, awaited without sleeping.
// In a test, plumbtest.NewServer(t, …) does the same and stops the
// server when the test ends; Start is for where there is no test.
func Example() {
	srv, err := plumbtest.Start(plumbtest.With("smtp"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// The application under test sends its mail.
	msg := "From: app@example.org\r\nTo: alice@localhost\r\nSubject: Welcome, Alice\r\n\r\nHello!\r\n"
	if err := smtp.SendMail(srv.Addr("smtp"), nil, "app@example.org", []string{"alice@localhost"}, []byte(msg)); err != nil {
		fmt.Println(err)
		return
	}

	// The test waits for it: WaitFor wakes at the delivery.
	got, err := srv.Mail("alice").WaitFor(ctx, plumbtest.Match{To: "alice@", Subject: "welcome"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s to %v: %s\n", got.From, got.To, got.Subject)
	// Output:
	// app@example.org to [alice@localhost]: Welcome, Alice
}

// A file put in place by the test, fetched by an FTP client.
func ExampleServer_Files() {
	srv, err := plumbtest.Start(plumbtest.With("ftp"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	if err := srv.Files().Write("anonymous/pub/motd.txt", []byte("all systems go\n")); err != nil {
		fmt.Println(err)
		return
	}

	c, err := ftp.Dial(context.Background(), srv.Addr("ftp"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	c.Login("anonymous", "guest@example.org")
	var buf bytes.Buffer
	c.Retr("pub/motd.txt", &buf)
	fmt.Print(buf.String())
	c.Quit()
	// Output:
	// all systems go
}

// A message put straight into an account's inbox, read over POP3.
func ExampleMailbox_Deliver() {
	srv, err := plumbtest.Start(plumbtest.With("pop3"), plumbtest.User("bob", "hunter2"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	ctx := context.Background()
	srv.Mail("bob").Deliver(ctx, []byte("Subject: invoice 42\r\n\r\nPlease pay.\r\n"))

	c, err := pop3.Dial(ctx, srv.Addr("pop3"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	c.Login("bob", "hunter2")
	n, _, _ := c.Stat()
	raw, _ := c.Retr(1)
	fmt.Printf("%d message, %q\n", n, raw)
	c.Quit()
	// Output:
	// 1 message, "Subject: invoice 42\r\n\r\nPlease pay.\r\n"
}
