package ftp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// MemoryBackend is an in-memory Backend for tests and examples: users
// with passwords, each with a MemoryFS of its own, and an optional
// read-only anonymous area.
type MemoryBackend struct {
	mu        sync.Mutex
	users     map[string]memUser
	anonymous *MemoryFS
}

type memUser struct {
	password string
	fs       *MemoryFS
}

var _ Backend = (*MemoryBackend)(nil)

// NewMemoryBackend returns a backend with no users and no anonymous login.
func NewMemoryBackend() *MemoryBackend { return &MemoryBackend{users: map[string]memUser{}} }

// AddUser adds a user and returns its (empty) file tree.
func (b *MemoryBackend) AddUser(name, password string) *MemoryFS {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := NewMemoryFS()
	b.users[name] = memUser{password, m}
	return m
}

// SetAnonymous lets "anonymous" and "ftp" log in to m (nil: refuse them).
func (b *MemoryBackend) SetAnonymous(m *MemoryFS) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.anonymous = m
}

// Login implements Backend.
func (b *MemoryBackend) Login(ctx context.Context, _ ConnInfo, user, password string) (FS, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if isAnonymous(user) && b.anonymous != nil {
		return b.anonymous, nil
	}
	u, ok := b.users[user]
	if !ok || u.password != password {
		return nil, fmt.Errorf("ftp: memory backend: wrong user or password")
	}
	return u.fs, nil
}

// MemoryFS is an in-memory FS. Its zero value is not usable; call NewMemoryFS.
type MemoryFS struct {
	mu       sync.RWMutex
	nodes    map[string]*memNode // cleaned name ("." is the top) -> node
	readOnly bool
	// Quota, when positive, bounds the bytes of all files together.
	Quota int64
}

type memNode struct {
	name string
	dir  bool
	data []byte
	mode fs.FileMode
	mod  time.Time
}

var (
	_ FS            = (*MemoryFS)(nil)
	_ Chmoder       = (*MemoryFS)(nil)
	_ ModTimeSetter = (*MemoryFS)(nil)
	_ ReadOnlyFS    = (*MemoryFS)(nil)
)

// NewMemoryFS returns an empty, writable tree.
func NewMemoryFS() *MemoryFS {
	return &MemoryFS{nodes: map[string]*memNode{".": {name: ".", dir: true, mode: fs.ModeDir | 0o755, mod: time.Now()}}}
}

// SetReadOnly makes the tree refuse (or accept again) every change.
func (m *MemoryFS) SetReadOnly(ro bool) {
	m.mu.Lock()
	m.readOnly = ro
	m.mu.Unlock()
}

// ReadOnly implements ReadOnlyFS.
func (m *MemoryFS) ReadOnly() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.readOnly
}

func memClean(name string) string {
	c := strings.TrimPrefix(path.Clean("/"+name), "/")
	if c == "" {
		return "."
	}
	return c
}

// WriteFile stores data under name, making missing parent directories.
func (m *MemoryFS) WriteFile(name string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := memClean(name)
	for d := path.Dir(c); d != "."; d = path.Dir(d) {
		if _, ok := m.nodes[d]; !ok {
			m.nodes[d] = &memNode{name: path.Base(d), dir: true, mode: fs.ModeDir | 0o755, mod: time.Now()}
		}
	}
	m.nodes[c] = &memNode{name: path.Base(c), data: bytes.Clone(data), mode: 0o644, mod: time.Now()}
}

// ReadFile returns a copy of a file's content.
func (m *MemoryFS) ReadFile(name string) ([]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n, ok := m.nodes[memClean(name)]
	if !ok || n.dir {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	return bytes.Clone(n.data), nil
}

func (m *MemoryFS) used() int64 {
	var u int64
	for _, n := range m.nodes {
		u += int64(len(n.data))
	}
	return u
}

func (n *memNode) info() fs.FileInfo { return memInfo{n.name, int64(len(n.data)), n.mode, n.mod} }

type memInfo struct {
	name string
	size int64
	mode fs.FileMode
	mod  time.Time
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() fs.FileMode  { return i.mode }
func (i memInfo) ModTime() time.Time { return i.mod }
func (i memInfo) IsDir() bool        { return i.mode.IsDir() }
func (i memInfo) Sys() any           { return nil }

func (m *MemoryFS) Stat(ctx context.Context, name string) (fs.FileInfo, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n, ok := m.nodes[memClean(name)]
	if !ok {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	return n.info(), nil
}

func (m *MemoryFS) ReadDir(ctx context.Context, name string) ([]fs.FileInfo, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c := memClean(name)
	d, ok := m.nodes[c]
	if !ok || !d.dir {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	var out []fs.FileInfo
	for k, n := range m.nodes {
		if k != "." && path.Dir(k) == c {
			out = append(out, n.info())
		}
	}
	slices.SortFunc(out, func(a, b fs.FileInfo) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

type memReader struct{ *bytes.Reader }

func (memReader) Close() error { return nil }

func (m *MemoryFS) Open(ctx context.Context, name string) (io.ReadSeekCloser, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n, ok := m.nodes[memClean(name)]
	if !ok || n.dir {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return memReader{bytes.NewReader(n.data)}, nil
}

// change checks that name may be changed and its parent is a directory.
func (m *MemoryFS) change(op, name string) (string, error) {
	c := memClean(name)
	if m.readOnly {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrPermission}
	}
	if c == "." {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrPermission}
	}
	if p, ok := m.nodes[path.Dir(c)]; !ok || !p.dir {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return c, nil
}

func (m *MemoryFS) Create(ctx context.Context, name string, offset int64) (Upload, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.change("create", name)
	if err != nil {
		return nil, err
	}
	var kept []byte
	if n, ok := m.nodes[c]; ok {
		if n.dir {
			return nil, &fs.PathError{Op: "create", Path: name, Err: fs.ErrInvalid}
		}
		kept = n.data
	}
	switch {
	case offset == AppendOffset:
	case offset < 0 || offset > int64(len(kept)):
		return nil, &fs.PathError{Op: "create", Path: name, Err: fs.ErrInvalid}
	default:
		kept = kept[:offset]
	}
	return &memUpload{m: m, name: c, buf: bytes.NewBuffer(bytes.Clone(kept))}, nil
}

type memUpload struct {
	m    *MemoryFS
	name string
	buf  *bytes.Buffer
}

func (u *memUpload) Write(p []byte) (int, error) {
	if q := u.m.Quota; q > 0 {
		u.m.mu.RLock()
		over := u.m.used()+int64(u.buf.Len()+len(p)) > q
		u.m.mu.RUnlock()
		if over {
			return 0, ErrQuotaExceeded
		}
	}
	return u.buf.Write(p)
}

func (u *memUpload) Commit(ctx context.Context) error {
	u.m.mu.Lock()
	defer u.m.mu.Unlock()
	c, err := u.m.change("create", u.name)
	if err != nil {
		return err
	}
	u.m.nodes[c] = &memNode{name: path.Base(c), data: u.buf.Bytes(), mode: 0o644, mod: time.Now()}
	return nil
}

func (u *memUpload) Abort() error { return nil }

func (m *MemoryFS) Mkdir(ctx context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.change("mkdir", name)
	if err != nil {
		return err
	}
	if _, ok := m.nodes[c]; ok {
		return &fs.PathError{Op: "mkdir", Path: name, Err: fs.ErrExist}
	}
	m.nodes[c] = &memNode{name: path.Base(c), dir: true, mode: fs.ModeDir | 0o755, mod: time.Now()}
	return nil
}

func (m *MemoryFS) Remove(ctx context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.change("remove", name)
	if err != nil {
		return err
	}
	n, ok := m.nodes[c]
	if !ok || n.dir {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	delete(m.nodes, c)
	return nil
}

func (m *MemoryFS) RemoveDir(ctx context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.change("rmdir", name)
	if err != nil {
		return err
	}
	n, ok := m.nodes[c]
	if !ok || !n.dir {
		return &fs.PathError{Op: "rmdir", Path: name, Err: fs.ErrNotExist}
	}
	for k := range m.nodes {
		if strings.HasPrefix(k, c+"/") {
			return &fs.PathError{Op: "rmdir", Path: name, Err: fs.ErrExist}
		}
	}
	delete(m.nodes, c)
	return nil
}

func (m *MemoryFS) Rename(ctx context.Context, from, to string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cf, err := m.change("rename", from)
	if err != nil {
		return err
	}
	ct, err := m.change("rename", to)
	if err != nil {
		return err
	}
	n, ok := m.nodes[cf]
	if !ok {
		return &fs.PathError{Op: "rename", Path: from, Err: fs.ErrNotExist}
	}
	if ct == cf || strings.HasPrefix(ct, cf+"/") {
		return &fs.PathError{Op: "rename", Path: to, Err: fs.ErrInvalid}
	}
	if t, ok := m.nodes[ct]; ok && t.dir {
		return &fs.PathError{Op: "rename", Path: to, Err: fs.ErrExist}
	}
	for k, v := range m.nodes {
		if strings.HasPrefix(k, cf+"/") {
			delete(m.nodes, k)
			m.nodes[ct+k[len(cf):]] = v
		}
	}
	delete(m.nodes, cf)
	n.name = path.Base(ct)
	m.nodes[ct] = n
	return nil
}

// writableNode returns the node of name for a change op, refused on a
// read-only tree; the caller holds m.mu.
func (m *MemoryFS) writableNode(op, name string) (*memNode, error) {
	if m.readOnly {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrPermission}
	}
	n, ok := m.nodes[memClean(name)]
	if !ok {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return n, nil
}

func (m *MemoryFS) Chmod(ctx context.Context, name string, mode fs.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.writableNode("chmod", name)
	if err != nil {
		return err
	}
	n.mode = n.mode&fs.ModeType | mode&fs.ModePerm
	return nil
}

// SetModTime sets the modification time of a file or directory.
func (m *MemoryFS) SetModTime(ctx context.Context, name string, mtime time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.writableNode("chtimes", name)
	if err != nil {
		return err
	}
	n.mod = mtime
	return nil
}
