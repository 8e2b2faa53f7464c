// Package accounts is the one user database every plumb service
// authenticates against. STUB: the accounts work replaces this file.
package accounts

import (
	"context"
	"errors"
	"net"
)

// ErrAuthFailed is returned for a wrong user or password, without saying which.
var ErrAuthFailed = errors.New("accounts: authentication failed")

// User is one account.
type User struct {
	Name string
	Home string // relative home directory name used by the file tree and the mail store
}

// DB is the account file.
type DB struct{}

// Open opens (creating if missing) the account file at path.
func Open(path string) (*DB, error) { return &DB{}, nil }

// Authenticate checks name and password; remote is used to slow down repeated failures.
func (db *DB) Authenticate(ctx context.Context, name, password string, remote net.Addr) (User, error) {
	return User{}, ErrAuthFailed
}
