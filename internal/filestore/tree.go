package filestore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/plumbnet/plumb/internal/atomicfile"
)

// Tree is one user's view of the store: a directory jailed with os.Root,
// with the user's limits. Names are slash-separated and relative to the
// tree's top ("." or "" is the top; a leading "/" is ignored); ".." never
// leads above the top. A Tree is safe for concurrent use.
type Tree struct {
	root *os.Root
	lim  Limits
	use  *usage
}

// Close releases the tree's directory handle.
func (t *Tree) Close() error { return t.root.Close() }

// ReadOnly reports whether the tree refuses changes.
func (t *Tree) ReadOnly() bool { return t.lim.ReadOnly }

// Used returns the bytes the tree's files use, as counted for its quota.
func (t *Tree) Used() int64 { return t.use.used() }

// Limits returns the tree's limits.
func (t *Tree) Limits() Limits { return t.lim }

// clean turns a user-supplied name into a name relative to the root.
func clean(name string) (string, error) {
	if c, ok := cleanFast(name); ok {
		return c, nil
	}
	return cleanSlow(name)
}

// cleanFast is clean without allocating, for the usual name: already
// clean ("/a/b" or "a/b": no empty, "." or ".." segment, no NUL), no
// temporary file on the way. It says false for everything else.
func cleanFast(name string) (string, bool) {
	c := strings.TrimPrefix(name, "/")
	if c == "" {
		return "", false
	}
	for rest := c; ; {
		el, more, found := strings.Cut(rest, "/")
		if el == "" || el == "." || el == ".." || strings.IndexByte(el, 0) >= 0 || isTemp(el) {
			return "", false
		}
		if !found {
			return c, true
		}
		rest = more
	}
}

// cleanSlow is clean for any name.
func cleanSlow(name string) (string, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return "", fmt.Errorf("%w: %q", ErrBadName, name)
	}
	c := strings.TrimPrefix(path.Clean("/"+name), "/")
	if c == "" {
		return ".", nil
	}
	for _, el := range strings.Split(c, "/") {
		if isTemp(el) {
			return "", &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
		}
	}
	return c, nil
}

func (t *Tree) writable(op, name string) error {
	if t.lim.ReadOnly {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrPermission}
	}
	return nil
}

// forWrite is what every change to the tree checks first: the context,
// that the tree is writable, and that name is a path inside it; it
// returns the cleaned path.
func (t *Tree) forWrite(ctx context.Context, op, name string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := t.writable(op, name); err != nil {
		return "", err
	}
	return clean(name)
}

// Stat describes name, following symbolic links inside the tree.
func (t *Tree) Stat(ctx context.Context, name string) (fs.FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := clean(name)
	if err != nil {
		return nil, err
	}
	return t.root.Stat(c)
}

// ReadDir lists directory name sorted by name, without uploads in
// progress. Entries are described as Stat would (symbolic links inside
// the tree followed; ones that lead nowhere or outside are left out).
func (t *Tree) ReadDir(ctx context.Context, name string) ([]fs.FileInfo, error) {
	return t.ReadDirN(ctx, name, 0)
}

// readDirBatch is how many entries ReadDirN asks the kernel for at once.
const readDirBatch = 256

// ReadDirN is ReadDir that reads at most n entries of the directory
// (n <= 0: all), in batches, so that a huge directory costs no more
// than n; which n, when it holds more, is the directory's own order.
func (t *Tree) ReadDirN(ctx context.Context, name string, n int) ([]fs.FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := clean(name)
	if err != nil {
		return nil, err
	}
	f, err := t.root.OpenFile(c, os.O_RDONLY|syscall.O_NONBLOCK, 0) // a FIFO must not block
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := []fs.FileInfo{}
	for read := 0; n <= 0 || read < n; {
		batch := readDirBatch
		if n > 0 {
			batch = min(batch, n-read)
		}
		ents, err := f.ReadDir(batch)
		read += len(ents)
		for _, e := range ents {
			if fi, ok := t.info(c, e); ok {
				out = append(out, fi)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b fs.FileInfo) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// info describes entry e of directory dir as Stat would; ok is false
// for an upload in progress and a link that leads nowhere or outside.
func (t *Tree) info(dir string, e fs.DirEntry) (fs.FileInfo, bool) {
	if isTemp(e.Name()) {
		return nil, false
	}
	var fi fs.FileInfo
	var err error
	if e.Type()&fs.ModeSymlink != 0 {
		fi, err = t.root.Stat(path.Join(dir, e.Name()))
	} else {
		fi, err = e.Info()
	}
	return fi, err == nil
}

// Open opens regular file name for reading. The *os.File lets a server
// use the kernel's zero-copy path (sendfile) to a socket.
func (t *Tree) Open(ctx context.Context, name string) (*os.File, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := clean(name)
	if err != nil {
		return nil, err
	}
	// O_NONBLOCK: opening a FIFO (or a device) for reading must not
	// wait for a writer and hold the session; the Stat below refuses it.
	// On a regular file the flag changes nothing.
	f, err := t.root.OpenFile(c, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		if fi.IsDir() {
			return nil, &fs.PathError{Op: "open", Path: name, Err: ErrIsDir}
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return f, nil
}

// Sub returns directory name of t as a read-only tree of its own: its
// own os.Root, so that a symbolic link in it cannot lead out of it into
// the rest of t. It is closed apart from t.
func (t *Tree) Sub(ctx context.Context, name string) (*Tree, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := clean(name)
	if err != nil {
		return nil, err
	}
	r, err := t.root.OpenRoot(c)
	if err != nil {
		return nil, err
	}
	return &Tree{root: r, lim: Limits{ReadOnly: true}, use: &usage{}}, nil
}

// Mkdir makes directory name.
func (t *Tree) Mkdir(ctx context.Context, name string) error {
	c, err := t.forWrite(ctx, "mkdir", name)
	if err != nil {
		return err
	}
	if c == "." {
		return &fs.PathError{Op: "mkdir", Path: name, Err: fs.ErrExist}
	}
	if err := t.root.Mkdir(c, 0o750); err != nil {
		return err
	}
	return syncDirIn(t.root, path.Dir(c))
}

// Remove deletes file name (not a directory).
func (t *Tree) Remove(ctx context.Context, name string) error {
	c, err := t.forWrite(ctx, "remove", name)
	if err != nil {
		return err
	}
	fi, err := t.root.Lstat(c)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return &fs.PathError{Op: "remove", Path: name, Err: ErrIsDir}
	}
	if err := t.root.Remove(c); err != nil {
		return err
	}
	if fi.Mode().IsRegular() {
		t.use.add(-fi.Size())
	}
	return syncDirIn(t.root, path.Dir(c))
}

// RemoveDir deletes empty directory name.
func (t *Tree) RemoveDir(ctx context.Context, name string) error {
	c, err := t.forWrite(ctx, "rmdir", name)
	if err != nil {
		return err
	}
	if c == "." {
		return &fs.PathError{Op: "rmdir", Path: name, Err: fs.ErrPermission}
	}
	fi, err := t.root.Lstat(c)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return &fs.PathError{Op: "rmdir", Path: name, Err: ErrNotDir}
	}
	if err := t.root.Remove(c); err != nil {
		return err
	}
	return syncDirIn(t.root, path.Dir(c))
}

// syncDirIn makes a directory's names durable, so that what a client is
// told was made, removed or renamed stays so after a crash; tests make
// it fail.
var syncDirIn = atomicfile.SyncDirIn

// Rename moves from to to, replacing a file at to. It returns once the
// directories involved are fsynced, so a rename reported done survives
// a crash.
func (t *Tree) Rename(ctx context.Context, from, to string) error {
	cf, err := t.forWrite(ctx, "rename", from)
	if err != nil {
		return err
	}
	ct, err := clean(to)
	if err != nil {
		return err
	}
	if cf == "." || ct == "." {
		return &fs.PathError{Op: "rename", Path: from, Err: fs.ErrPermission}
	}
	if _, err := t.root.Lstat(cf); err != nil {
		return err
	}
	var replaced int64
	if fi, err := t.root.Lstat(ct); err == nil && fi.Mode().IsRegular() && cf != ct {
		replaced = fi.Size()
	}
	if err := t.root.Rename(cf, ct); err != nil {
		return err
	}
	t.use.add(-replaced)
	// The client is told the rename is done: make it survive a crash.
	for _, dir := range slices.Compact([]string{path.Dir(cf), path.Dir(ct)}) {
		if err := syncDirIn(t.root, dir); err != nil {
			return err
		}
	}
	return nil
}

// Chmod sets the permission bits of name (only the 0o777 bits; a file
// stays readable and writable by its owner, the server).
func (t *Tree) Chmod(ctx context.Context, name string, mode fs.FileMode) error {
	c, err := t.forWrite(ctx, "chmod", name)
	if err != nil {
		return err
	}
	fi, err := t.root.Stat(c)
	if err != nil {
		return err
	}
	mode &= 0o777
	if fi.IsDir() {
		mode |= 0o700
	} else {
		mode |= 0o600
	}
	if err := t.root.Chmod(c, mode); err != nil {
		return err
	}
	return t.syncInode(c)
}

// syncInode makes a change to name's metadata (mode, times) durable
// before the caller replies that it is done.
func (t *Tree) syncInode(name string) error {
	f, err := t.root.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Chtimes sets the access and modification times of name, following a
// symbolic link only inside the tree, so that mirroring clients (FTP's
// MFMT and SITE UTIME) keep the times of the files they copy. A zero
// time leaves that time unchanged, as with os.Chtimes.
func (t *Tree) Chtimes(ctx context.Context, name string, atime, mtime time.Time) error {
	c, err := t.forWrite(ctx, "chtimes", name)
	if err != nil {
		return err
	}
	if err := t.root.Chtimes(c, atime, mtime); err != nil {
		return err
	}
	return t.syncInode(c)
}
