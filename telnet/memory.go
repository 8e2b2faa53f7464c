package telnet

import (
	"context"
	"crypto/subtle"
	"strings"
	"sync"
)

// MemoryBackend is a Backend for tests and examples: accounts with
// passwords in memory, all running one Program. Names match without
// regard to case, as plumb's accounts do.
type MemoryBackend struct {
	// Program runs for every account.
	Program Program

	mu    sync.Mutex
	users map[string]memoryUser // by lowercased name
}

type memoryUser struct{ name, password string }

var _ Backend = (*MemoryBackend)(nil)

// AddUser adds or replaces an account.
func (b *MemoryBackend) AddUser(name, password string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.users == nil {
		b.users = map[string]memoryUser{}
	}
	b.users[strings.ToLower(name)] = memoryUser{name, password}
}

// Login checks the password.
func (b *MemoryBackend) Login(ctx context.Context, c ConnInfo, user, password string) (Program, error) {
	b.mu.Lock()
	u, ok := b.users[strings.ToLower(user)]
	b.mu.Unlock()
	if !ok || subtle.ConstantTimeCompare([]byte(u.password), []byte(password)) != 1 {
		return nil, ErrAuthFailed
	}
	if b.Program == nil {
		return nil, ErrNotAllowed
	}
	return Account{Name: u.name, Program: b.Program}, nil
}
