package ftp

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rootFS is an FS on a real directory through os.Root, for tests that
// need the errors (and the *os.File) a disk gives.
type rootFS struct{ root *os.Root }

var (
	_ FS            = rootFS{}
	_ Chmoder       = rootFS{}
	_ ModTimeSetter = rootFS{}
)

// newRootFS opens dir as a rootFS, closed when the test ends.
func newRootFS(t *testing.T, dir string) rootFS {
	t.Helper()
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return rootFS{r}
}

func (r rootFS) Stat(ctx context.Context, name string) (fs.FileInfo, error) { return r.root.Stat(name) }

func (r rootFS) ReadDir(ctx context.Context, name string) ([]fs.FileInfo, error) {
	f, err := r.root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	var out []fs.FileInfo
	for _, e := range ents {
		if fi, err := r.root.Stat(path.Join(name, e.Name())); err == nil {
			out = append(out, fi)
		}
	}
	slices.SortFunc(out, func(a, b fs.FileInfo) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

func (r rootFS) Open(ctx context.Context, name string) (io.ReadSeekCloser, error) {
	f, err := r.root.Open(name)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (r rootFS) Create(ctx context.Context, name string, offset int64) (Upload, error) {
	flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if offset != 0 {
		flag = os.O_WRONLY | os.O_CREATE
	}
	f, err := r.root.OpenFile(name, flag, 0o644)
	if err != nil {
		return nil, err
	}
	if offset == AppendOffset {
		_, err = f.Seek(0, io.SeekEnd)
	} else if offset > 0 {
		err = f.Truncate(offset)
		if err == nil {
			_, err = f.Seek(offset, io.SeekStart)
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return rootUpload{f}, nil
}

type rootUpload struct{ *os.File }

func (u rootUpload) Commit(ctx context.Context) error { return u.File.Close() }
func (u rootUpload) Abort() error                     { return u.File.Close() }

func (r rootFS) Mkdir(ctx context.Context, name string) error { return r.root.Mkdir(name, 0o755) }
func (r rootFS) Remove(ctx context.Context, name string) error {
	if fi, err := r.root.Lstat(name); err == nil && fi.IsDir() {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrInvalid}
	}
	return r.root.Remove(name)
}
func (r rootFS) RemoveDir(ctx context.Context, name string) error {
	if fi, err := r.root.Lstat(name); err == nil && !fi.IsDir() {
		return &fs.PathError{Op: "rmdir", Path: name, Err: syscall.ENOTDIR}
	}
	return r.root.Remove(name)
}
func (r rootFS) Rename(ctx context.Context, from, to string) error {
	return r.root.Rename(from, to)
}
func (r rootFS) Chmod(ctx context.Context, name string, mode fs.FileMode) error {
	return r.root.Chmod(name, mode)
}
func (r rootFS) SetModTime(ctx context.Context, name string, mtime time.Time) error {
	return r.root.Chtimes(name, mtime, mtime)
}

// rootBackend logs every user into one rootFS.
type rootBackend struct{ fs rootFS }

func (b rootBackend) Login(ctx context.Context, _ ConnInfo, user, password string) (FS, error) {
	if password != "secret" {
		return nil, fs.ErrPermission
	}
	return b.fs, nil
}
