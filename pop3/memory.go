package pop3

import (
	"context"
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
)

// MemoryBackend is an in-memory Backend for tests and examples, with
// APOP. Add users with AddUser and messages with Deliver.
type MemoryBackend struct {
	mu    sync.Mutex
	users map[string]*memUser
}

var _ APOPBackend = (*MemoryBackend)(nil)

type memUser struct {
	password string
	secret   string
	msgs     []memMessage
	nextUID  int
	locked   bool
}

type memMessage struct {
	uid  string
	body string
}

// NewMemoryBackend returns an empty MemoryBackend.
func NewMemoryBackend() *MemoryBackend { return &MemoryBackend{users: map[string]*memUser{}} }

// AddUser adds a user with a password and an APOP secret ("" for none).
func (b *MemoryBackend) AddUser(name, password, apopSecret string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.users[name] = &memUser{password: password, secret: apopSecret, nextUID: 1}
}

// Deliver appends a message to a user's maildrop and returns its UID.
func (b *MemoryBackend) Deliver(user, body string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	u := b.users[user]
	uid := fmt.Sprintf("m%d", u.nextUID)
	u.nextUID++
	u.msgs = append(u.msgs, memMessage{uid: uid, body: body})
	return uid
}

// Bodies returns a user's messages.
func (b *MemoryBackend) Bodies(user string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.users[user].msgs {
		out = append(out, m.body)
	}
	return out
}

// Login implements Backend.
func (b *MemoryBackend) Login(ctx context.Context, c ConnInfo, username, password string) (Maildrop, error) {
	b.mu.Lock()
	u := b.users[username]
	ok := u != nil && subtle.ConstantTimeCompare([]byte(u.password), []byte(password)) == 1
	b.mu.Unlock()
	if !ok {
		return nil, ErrAuthFailed
	}
	return b.lock(username)
}

// LoginAPOP implements APOPBackend.
func (b *MemoryBackend) LoginAPOP(ctx context.Context, c ConnInfo, username, timestamp, digest string) (Maildrop, error) {
	b.mu.Lock()
	u := b.users[username]
	ok := false
	if u != nil && u.secret != "" {
		sum := md5.Sum([]byte(timestamp + u.secret))
		ok = subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(digest)) == 1
	}
	b.mu.Unlock()
	if !ok {
		return nil, ErrAuthFailed
	}
	return b.lock(username)
}

func (b *MemoryBackend) lock(name string) (Maildrop, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	u := b.users[name]
	if u.locked {
		return nil, ErrLocked
	}
	u.locked = true
	return &memDrop{b: b, u: u}, nil
}

type memDrop struct {
	b      *MemoryBackend
	u      *memUser
	closed bool
}

func (d *memDrop) Messages(ctx context.Context) ([]Message, error) {
	d.b.mu.Lock()
	defer d.b.mu.Unlock()
	msgs := make([]Message, len(d.u.msgs))
	for i, m := range d.u.msgs {
		msgs[i] = Message{UID: m.uid, Size: wireSize(m.body)}
	}
	return msgs, nil
}

// wireSize is the size of body as the server sends it (see Message.Size).
func wireSize(body string) int64 {
	var n int64
	for i := 0; i < len(body); i++ {
		switch {
		case body[i] == '\r' && i+1 < len(body) && body[i+1] == '\n':
			i++
			n += 2
		case body[i] == '\r' || body[i] == '\n':
			n += 2
		default:
			n++
		}
	}
	if last := len(body) - 1; last >= 0 && body[last] != '\n' && body[last] != '\r' {
		n += 2 // the wire form ends with a line end
	}
	return n
}

func (d *memDrop) Open(ctx context.Context, uid string) (io.ReadCloser, error) {
	d.b.mu.Lock()
	defer d.b.mu.Unlock()
	for _, m := range d.u.msgs {
		if m.uid == uid {
			return io.NopCloser(strings.NewReader(m.body)), nil
		}
	}
	return nil, fmt.Errorf("pop3: no message %s", uid)
}

func (d *memDrop) Delete(ctx context.Context, uids []string) error {
	d.b.mu.Lock()
	defer d.b.mu.Unlock()
	gone := map[string]bool{}
	for _, u := range uids {
		gone[u] = true
	}
	kept := d.u.msgs[:0]
	for _, m := range d.u.msgs {
		if !gone[m.uid] {
			kept = append(kept, m)
		}
	}
	d.u.msgs = kept
	return nil
}

func (d *memDrop) Close() error {
	d.b.mu.Lock()
	defer d.b.mu.Unlock()
	if !d.closed {
		d.closed, d.u.locked = true, false
	}
	return nil
}
