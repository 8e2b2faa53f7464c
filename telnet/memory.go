package telnet

import (
	"context"
	"crypto/subtle"
	"sync"
)

// MemoryBackend is a Backend for tests and examples: accounts with
// passwords in memory, all running one Program.
type MemoryBackend struct {
	// Program runs for every account.
	Program Program

	mu    sync.Mutex
	users map[string]string
}

var _ Backend = (*MemoryBackend)(nil)

// AddUser adds or replaces an account.
func (b *MemoryBackend) AddUser(name, password string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.users == nil {
		b.users = map[string]string{}
	}
	b.users[name] = password
}

// Login checks the password.
func (b *MemoryBackend) Login(ctx context.Context, c ConnInfo, user, password string) (Program, error) {
	b.mu.Lock()
	want, ok := b.users[user]
	b.mu.Unlock()
	if !ok || subtle.ConstantTimeCompare([]byte(want), []byte(password)) != 1 {
		return nil, ErrAuthFailed
	}
	if b.Program == nil {
		return nil, ErrNotAllowed
	}
	return b.Program, nil
}
