package accounts_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/plumbnet/plumb/internal/accounts"
)

func ExampleDB_Authenticate() {
	dir, _ := os.MkdirTemp("", "plumb-accounts-example")
	defer os.RemoveAll(dir)
	db, err := accounts.Open(filepath.Join(dir, accounts.FileName))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := db.Add("alice", "correct horse"); err != nil {
		fmt.Println(err)
		return
	}
	client := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 50000}
	u, err := db.Authenticate(context.Background(), "alice", "correct horse", client)
	fmt.Println(u.Name, u.Home, err)
	_, err = db.Authenticate(context.Background(), "alice", "wrong", client)
	fmt.Println(errors.Is(err, accounts.ErrAuthFailed))
	// Output:
	// alice alice <nil>
	// true
}

func ExampleDB_EnsureFirstUser() {
	dir, _ := os.MkdirTemp("", "plumb-accounts-example")
	defer os.RemoveAll(dir)
	db, _ := accounts.Open(filepath.Join(dir, accounts.FileName))
	password, created, _ := db.EnsureFirstUser("plumb")
	fmt.Println(created, len(password)) // print the password itself once, at first start
	_, created, _ = db.EnsureFirstUser("plumb")
	fmt.Println(created)
	// Output:
	// true 19
	// false
}
