// Package atomicfile writes files so that a crash leaves either the old
// content or the new, never a mix, and the new content is on disk when
// the call returns: a temporary file beside the target, fsynced, renamed
// over it, and the directory fsynced so the rename is durable too
// (the house rule: everything written is written atomically, and a client is
// told "done" only after that). Every store uses it, through a plain
// path ([WriteFile], [Write], [Create]) or inside an [os.Root]
// ([CreateIn]), so that there is one atomic-write code path.
package atomicfile

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// TempPrefix starts the name of every temporary file this package
// makes. A store may hide such names from listings and remove the ones
// a crash left behind ([IsTemp]).
const TempPrefix = ".plumb-tmp-"

// IsTemp reports whether base, a file's name without its directory, is
// one of this package's temporary files.
func IsTemp(base string) bool { return strings.HasPrefix(base, TempPrefix) }

// ErrNotDurable is wrapped by [File.Commit]'s error when the new content
// is in place under its name but the directory could not be fsynced: a
// crash may still bring the old content back, so the write must not be
// acknowledged as stored.
var ErrNotDurable = errors.New("atomicfile: in place but not durable")

// WriteFile replaces name with data, with permissions perm, atomically
// and durably.
func WriteFile(name string, data []byte, perm os.FileMode) error {
	return Write(name, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write replaces name, with permissions perm, with what write writes,
// atomically and durably. If write fails, name is left as it was and no
// temporary file remains.
func Write(name string, perm os.FileMode, write func(io.Writer) error) error {
	f, err := Create(name, perm)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Abort()
		return fmt.Errorf("atomicfile: writing %s: %w", f.tmp, err)
	}
	return f.Commit(context.Background())
}

// dirOps are the file system calls a [File] makes: [os.Root]'s methods,
// or the os package's own for plain paths.
type dirOps interface {
	OpenFile(name string, flag int, perm os.FileMode) (*os.File, error)
	Open(name string) (*os.File, error)
	Rename(oldname, newname string) error
	Remove(name string) error
}

// osDir is dirOps on plain paths.
type osDir struct{}

func (osDir) OpenFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(name, flag, perm)
}
func (osDir) Open(name string) (*os.File, error)   { return os.Open(name) }
func (osDir) Rename(oldname, newname string) error { return os.Rename(oldname, newname) }
func (osDir) Remove(name string) error             { return os.Remove(name) }

// A File is the new content of a name, written to a temporary file in
// the same directory until [File.Commit] puts it in place; [File.Abort]
// (or a crash) leaves the name as it was. Write and Commit are not safe
// for concurrent use; Abort may be called while a Write is in progress,
// to cancel it.
type File struct {
	f    *os.File
	ops  dirOps
	name string // the target
	dir  string // its directory
	tmp  string // the temporary file, in dir
	done bool
}

// Create starts new content for name with permissions perm.
func Create(name string, perm os.FileMode) (*File, error) {
	return create(osDir{}, name, filepath.Dir(name), filepath.Join, perm)
}

// CreateIn starts new content for name, a slash-separated name inside
// root, with permissions perm. Every step (the temporary file, the
// rename, the directory fsync) goes through root, so no name reaches
// outside it.
func CreateIn(root *os.Root, name string, perm os.FileMode) (*File, error) {
	return create(root, name, path.Dir(name), path.Join, perm)
}

func create(ops dirOps, name, dir string, join func(...string) string, perm os.FileMode) (*File, error) {
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := join(dir, TempPrefix+hex.EncodeToString(rnd[:]))
	f, err := ops.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm&^0o077)
	if err != nil {
		return nil, fmt.Errorf("atomicfile: %w", err)
	}
	// Set the mode before writing, so a secret is never readable under
	// a wider one, and exactly, whatever the umask.
	if err := f.Chmod(perm); err != nil {
		f.Close()
		ops.Remove(tmp)
		return nil, fmt.Errorf("atomicfile: %w", err)
	}
	return &File{f: f, ops: ops, name: name, dir: dir, tmp: tmp}, nil
}

// Write writes p to the temporary file.
func (f *File) Write(p []byte) (int, error) { return f.f.Write(p) }

// ReadFrom copies r into the temporary file, with copy_file_range(2)
// or sendfile(2) where the kernel and r allow it.
func (f *File) ReadFrom(r io.Reader) (int64, error) { return f.f.ReadFrom(r) }

// SyscallConn gives access to the temporary file's descriptor, for
// hints such as sync_file_range(2).
func (f *File) SyscallConn() (syscall.RawConn, error) { return f.f.SyscallConn() }

// Commit fsyncs the new content, renames it over the name and fsyncs
// the directory; when it returns nil, the new content is durable. If ctx
// is done once the data is on disk (the long step), nothing is renamed
// and ctx's error is returned. On any error but one wrapping
// [ErrNotDurable] the name is left as it was and no temporary file
// remains.
func (f *File) Commit(ctx context.Context) error {
	if f.done {
		return errors.New("atomicfile: commit of a finished file")
	}
	f.done = true
	err := f.f.Sync()
	if err != nil {
		err = fmt.Errorf("atomicfile: fsync %s: %w", f.tmp, err)
	}
	if cerr := f.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("atomicfile: %w", cerr)
	}
	if err == nil && ctx.Err() != nil {
		err = fmt.Errorf("atomicfile: %s: %w", f.name, ctx.Err())
	}
	if err == nil {
		if rerr := f.ops.Rename(f.tmp, f.name); rerr != nil {
			err = fmt.Errorf("atomicfile: %w", rerr)
		}
	}
	if err != nil {
		f.ops.Remove(f.tmp)
		return err
	}
	if err := syncDir(f.ops, f.dir); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrNotDurable, f.name, err)
	}
	return nil
}

// Abort discards the new content. It does nothing after Commit or a
// first Abort.
func (f *File) Abort() error {
	if f.done {
		return nil
	}
	f.done = true
	f.f.Close()
	if err := f.ops.Remove(f.tmp); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	return nil
}

// SyncDir fsyncs a directory, so that the names created, renamed or
// removed in it survive a crash. A file system that cannot sync a
// directory (errors.ErrUnsupported) is not an error.
func SyncDir(dir string) error { return syncDir(osDir{}, dir) }

// SyncDirIn is SyncDir for dir, a slash-separated name inside root.
func SyncDirIn(root *os.Root, dir string) error { return syncDir(root, dir) }

// fsyncDir fsyncs an open directory; tests replace it to make it fail.
var fsyncDir = (*os.File).Sync

func syncDir(ops dirOps, dir string) error {
	d, err := ops.Open(dir)
	if err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	defer d.Close()
	if err := fsyncDir(d); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("atomicfile: fsync %s: %w", dir, err)
	}
	return nil
}
