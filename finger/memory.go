package finger

import (
	"context"
	"slices"
	"strings"
	"sync"
)

// MemoryBackend keeps entries in memory, for tests and examples. It
// lists every session of every entry for the empty query.
type MemoryBackend struct {
	mu      sync.Mutex
	entries map[string]Entry // by lowercased login
}

var (
	_ Backend = (*MemoryBackend)(nil)
	_ Lister  = (*MemoryBackend)(nil)
)

// Set adds or replaces the entry for e.Login.
func (m *MemoryBackend) Set(e Entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries == nil {
		m.entries = map[string]Entry{}
	}
	m.entries[strings.ToLower(e.Login)] = e
}

// User returns the entry of name in any ASCII case; in the short form
// it leaves out the sessions and the project.
func (m *MemoryBackend) User(ctx context.Context, c ConnInfo, name string, verbose bool) (*Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[strings.ToLower(name)]
	if !ok {
		return nil, ErrNoSuchUser
	}
	if !verbose {
		e.Sessions, e.Project = nil, nil
	}
	return &e, nil
}

// LoggedIn returns every entry's sessions, by user then time.
func (m *MemoryBackend) LoggedIn(ctx context.Context, c ConnInfo) ([]Login, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Login
	for _, e := range m.entries {
		out = append(out, e.Sessions...)
	}
	slices.SortFunc(out, func(a, b Login) int {
		if c := strings.Compare(a.User, b.User); c != 0 {
			return c
		}
		return a.Since.Compare(b.Since)
	})
	return out, nil
}
