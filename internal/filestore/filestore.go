// Package filestore is the one file tree behind the ftp service:
// plain files in a directory of the data directory, every access jailed
// with os.Root so that no name (with "..", an absolute path or a
// symbolic link) reaches outside it.
//
// Layout under the store's directory:
//
//	home/<user>/   one home per account
//	anonymous/     the anonymous area (read-only unless a Tree says otherwise)
//
// Uploads are written to a hidden temporary file beside their target,
// fsynced, and renamed into place only when complete (see [Upload]), so
// an interrupted upload never shows under its final name. Per-tree
// quotas and a maximum file size are enforced while bytes are written.
package filestore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/plumbnet/plumb/internal/atomicfile"
)

// Errors a Tree returns besides the fs.Err* ones (fs.ErrNotExist,
// fs.ErrExist, fs.ErrPermission, which callers test with errors.Is).
var (
	// ErrQuota is returned by Upload.Write and Commit when the tree's quota
	// would be exceeded; the upload is then left uncommitted.
	ErrQuota = errors.New("filestore: quota exceeded")
	// ErrTooLarge is returned by Upload.Write when the file would exceed
	// the maximum file size.
	ErrTooLarge = errors.New("filestore: file exceeds the maximum size")
	// ErrNotDir and ErrIsDir report an operation on the wrong kind of entry.
	ErrNotDir = errors.New("filestore: not a directory")
	ErrIsDir  = errors.New("filestore: is a directory")
	// ErrBadName is returned for a name that no tree may hold.
	ErrBadName = errors.New("filestore: invalid name")
)

// legacyTempPrefix started the name of an upload in progress before
// uploads went through atomicfile; a crash may have left some.
const legacyTempPrefix = ".plumb-upload-"

// isTemp reports whether base names an upload in progress (or one a
// crash left). Such names are hidden from listings, refused as
// user-supplied names, and removed when a tree's usage is first counted.
func isTemp(base string) bool {
	return atomicfile.IsTemp(base) || strings.HasPrefix(base, legacyTempPrefix)
}

// Directory names inside the store.
const (
	homesDir     = "home"
	anonymousDir = "anonymous"
)

// Store is the file tree of one data directory.
type Store struct {
	dir  string
	root *os.Root

	mu    sync.Mutex
	usage map[string]*usage // tree directory (relative to root) -> bytes used
}

// Open opens (creating if missing) the tree rooted at dir.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	for _, d := range []string{homesDir, anonymousDir} {
		if err := root.MkdirAll(d, 0o750); err != nil {
			root.Close()
			return nil, fmt.Errorf("filestore: %w", err)
		}
	}
	return &Store{dir: dir, root: root, usage: map[string]*usage{}}, nil
}

// Dir returns the directory the store lives in.
func (s *Store) Dir() string { return s.dir }

// Close releases the store's directory handle. Trees already opened
// stay usable until they are closed.
func (s *Store) Close() error { return s.root.Close() }

// Limits bound what a Tree may write. Zero values mean no limit and
// writable.
type Limits struct {
	Quota       int64 // bytes all files of the tree may use together; 0: no quota
	MaxFileSize int64 // bytes one file may have; 0: no limit
	ReadOnly    bool  // refuse every change
}

// Home returns the tree of the account's home directory home (the
// account's home name, one path element), creating it if missing.
func (s *Store) Home(ctx context.Context, home string, l Limits) (*Tree, error) {
	if err := checkHome(home); err != nil {
		return nil, err
	}
	return s.tree(ctx, path.Join(homesDir, home), l)
}

// checkHome refuses a home name that is not one path element.
func checkHome(home string) error {
	if home == "" || home == "." || home == ".." || strings.ContainsAny(home, "/\\\x00") {
		return fmt.Errorf("%w: home %q", ErrBadName, home)
	}
	return nil
}

// HomeIfExists returns the read-only tree of the account's home
// directory home, as Home does, but never creates it nor counts its
// usage (a read-only tree has no quota): for services that only look,
// such as finger and gopher, whose anonymous clients must not make
// homes appear or the tree be walked. A missing home is fs.ErrNotExist.
func (s *Store) HomeIfExists(ctx context.Context, home string) (*Tree, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkHome(home); err != nil {
		return nil, err
	}
	r, err := s.root.OpenRoot(path.Join(homesDir, home))
	if err != nil {
		return nil, err
	}
	return &Tree{root: r, lim: Limits{ReadOnly: true}, use: &usage{}}, nil
}

// Anonymous returns the anonymous area's tree.
func (s *Store) Anonymous(ctx context.Context, l Limits) (*Tree, error) {
	return s.tree(ctx, anonymousDir, l)
}

func (s *Store) tree(ctx context.Context, dir string, l Limits) (*Tree, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := s.root.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	r, err := s.root.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	u, err := s.usageOf(dir, r)
	if err != nil {
		r.Close()
		return nil, err
	}
	return &Tree{root: r, lim: l, use: u}, nil
}

// usage counts the bytes of a tree's files for its quota. It is counted
// once per process by walking the tree (which also removes uploads left
// behind by a crash: none can be in progress before the first count)
// and then kept up to date by every change made through a Tree.
type usage struct {
	mu    sync.Mutex
	bytes int64
}

func (u *usage) add(n int64) {
	u.mu.Lock()
	u.bytes += n
	u.mu.Unlock()
}

// reserve adds n if the total stays within quota (0: no quota).
func (u *usage) reserve(n, quota int64) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if quota > 0 && n > 0 && u.bytes+n > quota {
		return false
	}
	u.bytes += n
	return true
}

func (u *usage) used() int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.bytes
}

func (s *Store) usageOf(dir string, r *os.Root) (*usage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.usage[dir]; ok {
		return u, nil
	}
	u := &usage{}
	err := fs.WalkDir(r.FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable parts count as empty
		}
		if isTemp(d.Name()) {
			r.Remove(name)
			return nil
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				u.bytes += fi.Size()
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("filestore: counting usage of %s: %w", dir, err)
	}
	s.usage[dir] = u
	return u, nil
}
