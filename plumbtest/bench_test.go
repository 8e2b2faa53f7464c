package plumbtest_test

import (
	"context"
	"fmt"
	"net/smtp"
	"testing"

	"github.com/plumbnet/plumb/plumbtest"
)

// BenchmarkNewServer is what a test pays for its server: the default
// services up, then stopped.
func BenchmarkNewServer(b *testing.B) {
	for b.Loop() {
		srv, err := plumbtest.Start()
		if err != nil {
			b.Fatal(err)
		}
		srv.Close()
	}
}

// BenchmarkSendThenWaitFor is one round of the common test: net/smtp
// sends, WaitFor returns the message.
func BenchmarkSendThenWaitFor(b *testing.B) {
	srv := plumbtest.NewServer(b, plumbtest.With("smtp"))
	inbox := srv.Mail("alice")
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		subject := fmt.Sprintf("message %d.", i) // the dot: "1." is not in "10."
		msg := []byte("Subject: " + subject + "\r\n\r\nbody\r\n")
		if err := smtp.SendMail(srv.Addr("smtp"), nil, "a@example.org", []string{"alice@localhost"}, msg); err != nil {
			b.Fatal(err)
		}
		if _, err := inbox.WaitFor(ctx, plumbtest.Match{Subject: subject}); err != nil {
			b.Fatal(err)
		}
		if i%100 == 0 {
			inbox.Delete(ctx) // keep each round's scan the same size
		}
	}
}
