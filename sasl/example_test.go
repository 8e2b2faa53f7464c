package sasl_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/plumbnet/plumb/sasl"
)

// A server drives a mechanism from its own line framing: here SMTP's
// "AUTH LOGIN" with 334 continuation lines, reading the client from a
// string.
func ExampleRun() {
	check := func(_ context.Context, identity, user, pass string) error {
		if user == "alice" && pass == "secret" {
			return nil
		}
		return errors.New("535 5.7.8 authentication failed")
	}
	client := bufio.NewReader(strings.NewReader(
		sasl.Encode([]byte("alice")) + "\r\n" + sasl.Encode([]byte("secret")) + "\r\n"))

	srv, _ := sasl.NewServer("LOGIN", check)
	err := sasl.Run(context.Background(), srv, nil,
		func(challenge string) error { fmt.Printf("334 %s\n", challenge); return nil },
		func() (string, error) { return client.ReadString('\n') })
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("235 2.7.0 authenticated")
	// Output:
	// 334 VXNlcm5hbWU6
	// 334 UGFzc3dvcmQ6
	// 235 2.7.0 authenticated
}

// A client starts a mechanism and puts the initial response on the
// command line.
func ExampleNewPlainClient() {
	c := sasl.NewPlainClient("", "alice", "secret")
	mech, ir, _ := c.Start()
	fmt.Printf("AUTH %s %s\n", mech, sasl.EncodeInitialResponse(ir))
	// Output: AUTH PLAIN AGFsaWNlAHNlY3JldA==
}
