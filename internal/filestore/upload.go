package filestore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sync"
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
	f        *os.File
	name     string // final name, relative to the tree
	tmp      string // temporary name beside it
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
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := path.Join(dir, tempPrefix+hex.EncodeToString(rnd[:]))
	f, err := t.root.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, err
	}
	u := &Upload{t: t, f: f, name: c, tmp: tmp, old: old}
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
// final name, fsync of the directory) and visible under its name.
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
	err := u.f.Sync()
	if cerr := u.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = ctx.Err() // cancelled while the data went to disk
	}
	var now int64
	if fi, serr := u.t.root.Stat(u.name); serr == nil && fi.Mode().IsRegular() {
		now = fi.Size()
	}
	if err == nil {
		err = u.t.root.Rename(u.tmp, u.name)
	}
	if err != nil {
		u.t.root.Remove(u.tmp)
		u.t.use.add(-u.reserved)
		return fmt.Errorf("filestore: committing %s: %w", u.name, err)
	}
	u.t.use.add(u.size - now - u.reserved)
	if d, err := u.t.root.Open(path.Dir(u.name)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

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
	u.f.Close()
	u.t.root.Remove(u.tmp)
	u.t.use.add(-u.reserved)
}
