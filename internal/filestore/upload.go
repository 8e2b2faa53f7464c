package filestore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sync"

	"github.com/plumbnet/plumb/internal/atomicfile"
)

// AppendOffset, passed to [Tree.Create] as the offset, appends to the
// existing file (or starts a new one).
const AppendOffset int64 = -1

// Upload is a file being written. Nothing shows under its name until
// Commit; Abort (or a crash) leaves the previous content, if any, as it
// was. Write is not safe for concurrent use; Abort may be called from
// another goroutine to cancel.
type Upload struct {
	t        *Tree
	f        *atomicfile.File
	name     string // final name, relative to the tree
	size     int64  // bytes in the temporary file
	old      int64  // size of the file it replaces when it was opened
	reserved int64  // quota bytes reserved for growth over old
	flushed  int64  // bytes handed to the kernel's writeback so far

	mu   sync.Mutex
	done bool
}

// Create starts an upload to name. offset 0 writes a new file; offset >
// 0 keeps the first offset bytes of the existing file and writes after
// them (a resumed upload); AppendOffset keeps all of it. The kept part
// is copied into the temporary file (with copy_file_range where the
// kernel has it), so the promise holds for appends and resumes too.
func (t *Tree) Create(ctx context.Context, name string, offset int64) (*Upload, error) {
	c, err := t.forWrite(ctx, "create", name)
	if err != nil {
		return nil, err
	}
	if c == "." {
		return nil, &fs.PathError{Op: "create", Path: name, Err: ErrIsDir}
	}
	dir := path.Dir(c)
	if fi, err := t.root.Stat(dir); err != nil {
		return nil, err
	} else if !fi.IsDir() {
		return nil, &fs.PathError{Op: "create", Path: name, Err: ErrNotDir}
	}
	var old int64
	exists := false
	if fi, err := t.root.Stat(c); err == nil {
		if fi.IsDir() {
			return nil, &fs.PathError{Op: "create", Path: name, Err: ErrIsDir}
		}
		if !fi.Mode().IsRegular() {
			return nil, &fs.PathError{Op: "create", Path: name, Err: fs.ErrPermission}
		}
		old, exists = fi.Size(), true
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	base := offset
	switch {
	case offset == AppendOffset:
		base = old
	case offset < 0:
		return nil, &fs.PathError{Op: "create", Path: name, Err: fs.ErrInvalid}
	case offset > old:
		return nil, &fs.PathError{Op: "create", Path: name, Err: fmt.Errorf("offset %d beyond the end of the file (%d bytes): %w", offset, old, fs.ErrInvalid)}
	}
	if t.lim.MaxFileSize > 0 && base > t.lim.MaxFileSize {
		return nil, ErrTooLarge
	}
	f, err := atomicfile.CreateIn(t.root, c, 0o640)
	if err != nil {
		return nil, err
	}
	u := &Upload{t: t, f: f, name: c, old: old}
	if base > 0 && exists {
		src, err := t.root.Open(c)
		if err == nil {
			_, err = io.CopyN(f, src, base)
			src.Close()
		}
		if err != nil {
			u.Abort()
			return nil, fmt.Errorf("filestore: copying the kept part of %s: %w", name, err)
		}
		u.size = base
	}
	return u, nil
}

// Name returns the name the upload will have, relative to the tree.
func (u *Upload) Name() string { return u.name }

// Size returns the bytes written so far, including a kept part.
func (u *Upload) Size() int64 { return u.size }

// Write appends p, refusing with ErrTooLarge or ErrQuota (writing none
// of p) when p would take the file over a limit.
func (u *Upload) Write(p []byte) (int, error) {
	size := u.size + int64(len(p))
	if max := u.t.lim.MaxFileSize; max > 0 && size > max {
		return 0, ErrTooLarge
	}
	if need := max(0, size-u.old) - u.reserved; need > 0 {
		if !u.t.use.reserve(need, u.t.lim.Quota) {
			return 0, ErrQuota
		}
		u.reserved += need
	}
	n, err := u.f.Write(p)
	u.size += int64(n)
	if u.size-u.flushed >= writebackChunk {
		// Start writing back what is written so far, so that the one
		// fsync at Commit finds most of the file on disk already.
		startWriteback(u.f, u.flushed, u.size-u.flushed)
		u.flushed = u.size
	}
	return n, err
}

// writebackChunk is how much an upload writes between writeback starts.
const writebackChunk = 8 << 20

// Commit makes the upload durable (fsync of the file, rename over the
// final name, fsync of the directory, by [atomicfile.File.Commit]) and
// visible under its name. Only a nil error means the file is stored: if
// the directory could not be fsynced the new content is in place but a
// crash could undo the rename, so the error (wrapping
// [atomicfile.ErrNotDurable]) must not be answered as success.
func (u *Upload) Commit(ctx context.Context) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return errors.New("filestore: upload already finished")
	}
	if err := ctx.Err(); err != nil {
		u.abortLocked()
		return err
	}
	u.done = true
	var now int64 // the size of the file replaced, for the quota
	if fi, serr := u.t.root.Stat(u.name); serr == nil && fi.Mode().IsRegular() {
		now = fi.Size()
	}
	err := commitFile(u.f, ctx)
	if err == nil || errors.Is(err, atomicfile.ErrNotDurable) {
		u.t.use.add(u.size - now - u.reserved) // in place, durable or not
	} else {
		u.t.use.add(-u.reserved)
	}
	if err != nil {
		return fmt.Errorf("filestore: committing %s: %w", u.name, err)
	}
	return nil
}

// commitFile is [atomicfile.File.Commit]; tests replace it to make a
// step of it fail.
var commitFile = (*atomicfile.File).Commit

// Abort discards the upload. It is safe to call more than once and after
// Commit (when it does nothing).
func (u *Upload) Abort() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return nil
	}
	u.abortLocked()
	return nil
}

func (u *Upload) abortLocked() {
	u.done = true
	u.f.Abort()
	u.t.use.add(-u.reserved)
}
