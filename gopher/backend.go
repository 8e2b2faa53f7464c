package gopher

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"slices"
	"strings"
)

// FS is a read-only file tree the server serves. Names are
// slash-separated and relative to the tree's top ("." is the top);
// the server has already refused "..", empty and hidden elements. The
// implementation keeps the names inside the tree (symbolic links too).
type FS interface {
	Stat(ctx context.Context, name string) (fs.FileInfo, error)
	// ReadDir lists a directory, sorted by name, reading at most n of
	// its entries (n <= 0: all; which ones is the directory's order).
	ReadDir(ctx context.Context, name string, n int) ([]fs.FileInfo, error)
	// Open opens a regular file.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
}

// Backend gives the server its trees.
type Backend interface {
	// Tree returns the tree served under "/" when user is "", or under
	// "/~user/". An error matching fs.ErrNotExist is "no such user"
	// (or a user without a tree to serve). When the FS is an
	// io.Closer, the server closes it after the request.
	Tree(ctx context.Context, user string) (FS, error)
}

// UserLister is a Backend that can list the users whose trees it
// serves, for the "~" line of a gophermap.
type UserLister interface {
	Users(ctx context.Context) ([]string, error)
}

// FSBackend serves Root under "/" and Homes[name] under "/~name/",
// each an io/fs.FS: (*os.Root).FS() for a directory (os.DirFS would
// follow symbolic links out of it), fstest.MapFS, an embed.FS. It is the
// package's backend for tests and examples; its trees are read-only.
type FSBackend struct {
	Root  fs.FS
	Homes map[string]fs.FS
}

var (
	_ Backend    = (*FSBackend)(nil)
	_ UserLister = (*FSBackend)(nil)
)

// Tree returns Root or Homes[user].
func (b *FSBackend) Tree(ctx context.Context, user string) (FS, error) {
	if user == "" {
		if b.Root == nil {
			return nil, fs.ErrNotExist
		}
		return DirFS(b.Root), nil
	}
	t, ok := b.Homes[user]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return DirFS(t), nil
}

// Users lists the names of Homes, sorted.
func (b *FSBackend) Users(context.Context) ([]string, error) {
	names := make([]string, 0, len(b.Homes))
	for n := range b.Homes {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

// DirFS makes an io/fs.FS a tree the server can serve.
func DirFS(fsys fs.FS) FS { return dirFS{fsys} }

type dirFS struct{ fsys fs.FS }

func (d dirFS) Stat(ctx context.Context, name string) (fs.FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return fs.Stat(d.fsys, name)
}

func (d dirFS) ReadDir(ctx context.Context, name string, n int) ([]fs.FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ents, err := readDirN(d.fsys, name, n)
	if err != nil {
		return nil, err
	}
	out := make([]fs.FileInfo, 0, len(ents))
	for _, e := range ents {
		fi, err := fs.Stat(d.fsys, strings.TrimPrefix(name+"/"+e.Name(), "./"))
		if err == nil {
			out = append(out, fi)
		}
	}
	slices.SortFunc(out, func(a, b fs.FileInfo) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// readDirN reads at most n entries of directory name (n <= 0: all),
// in the directory's order when it can read part of one.
func readDirN(fsys fs.FS, name string, n int) ([]fs.DirEntry, error) {
	if n <= 0 {
		return fs.ReadDir(fsys, name)
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dir, ok := f.(fs.ReadDirFile)
	if !ok {
		ents, err := fs.ReadDir(fsys, name) // reads it whole
		return ents[:min(len(ents), n)], err
	}
	var out []fs.DirEntry
	for len(out) < n {
		ents, err := dir.ReadDir(min(256, n-len(out)))
		out = append(out, ents...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func (d dirFS) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// A regular file only, looked at before the open: opening a FIFO
	// would wait for a writer.
	if fi, err := fs.Stat(d.fsys, name); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	f, err := d.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return f, nil
}
