package httpfs

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/plumbnet/plumb/internal/atomicfile"
)

// DirFS is an FS on a directory, jailed with os.Root: the tree a
// standalone server or a test serves. Uploads go through a temporary
// file, fsync and rename. MaxFileSize (0: none) bounds one file.
type DirFS struct {
	Root        *os.Root
	MaxFileSize int64
	Read        bool // read-only
}

var (
	_ FS            = (*DirFS)(nil)
	_ ModTimeSetter = (*DirFS)(nil)
)

func dirName(name string) (string, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return "", &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	c := strings.TrimPrefix(path.Clean("/"+name), "/")
	if c == "" {
		return ".", nil
	}
	for _, el := range strings.Split(c, "/") {
		if atomicfile.IsTemp(el) {
			return "", &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
		}
	}
	return c, nil
}

func (d *DirFS) write(op, name string) (string, error) {
	if d.Read {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrPermission}
	}
	return dirName(name)
}

func (d *DirFS) ReadOnly() bool { return d.Read }

func (d *DirFS) Stat(ctx context.Context, name string) (fs.FileInfo, error) {
	c, err := dirName(name)
	if err != nil {
		return nil, err
	}
	return d.Root.Stat(c)
}

func (d *DirFS) ReadDir(ctx context.Context, name string) ([]fs.FileInfo, error) {
	c, err := dirName(name)
	if err != nil {
		return nil, err
	}
	f, err := d.Root.Open(c)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	out := make([]fs.FileInfo, 0, len(ents))
	for _, e := range ents {
		if atomicfile.IsTemp(e.Name()) {
			continue
		}
		// A symbolic link is followed inside the root (one that leads
		// nowhere or out is left out); anything else is described from
		// the directory (one fstatat, not a walk from the root).
		var fi fs.FileInfo
		if e.Type()&fs.ModeSymlink != 0 {
			fi, err = d.Root.Stat(path.Join(c, e.Name()))
		} else {
			fi, err = e.Info()
		}
		if err == nil {
			out = append(out, fi)
		}
	}
	slices.SortFunc(out, func(a, b fs.FileInfo) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

func (d *DirFS) Open(ctx context.Context, name string) (File, error) {
	c, err := dirName(name)
	if err != nil {
		return nil, err
	}
	f, err := d.Root.Open(c)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return f, nil
}

func (d *DirFS) Create(ctx context.Context, name string) (Upload, error) {
	c, err := d.write("create", name)
	if err != nil {
		return nil, err
	}
	if c == "." {
		return nil, &fs.PathError{Op: "create", Path: name, Err: fs.ErrInvalid}
	}
	f, err := atomicfile.CreateIn(d.Root, c, 0o640)
	if err != nil {
		return nil, err
	}
	return &dirUpload{f: f, max: d.MaxFileSize}, nil
}

type dirUpload struct {
	f    *atomicfile.File
	n    int64
	max  int64
	done bool
}

func (u *dirUpload) Write(p []byte) (int, error) {
	if u.max > 0 && u.n+int64(len(p)) > u.max {
		return 0, fmt.Errorf("%w (%d bytes at most)", ErrTooLarge, u.max)
	}
	n, err := u.f.Write(p)
	u.n += int64(n)
	return n, err
}

func (u *dirUpload) Commit(ctx context.Context) error { u.done = true; return u.f.Commit(ctx) }

func (u *dirUpload) Abort() error {
	if u.done {
		return nil
	}
	u.done = true
	return u.f.Abort()
}

func (d *DirFS) Mkdir(ctx context.Context, name string) error {
	c, err := d.write("mkdir", name)
	if err != nil {
		return err
	}
	return d.Root.Mkdir(c, 0o750)
}

func (d *DirFS) Remove(ctx context.Context, name string) error {
	c, err := d.write("remove", name)
	if err != nil {
		return err
	}
	if fi, err := d.Root.Lstat(c); err != nil {
		return err
	} else if fi.IsDir() {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrInvalid}
	}
	return d.Root.Remove(c)
}

func (d *DirFS) RemoveDir(ctx context.Context, name string) error {
	c, err := d.write("rmdir", name)
	if err != nil {
		return err
	}
	if c == "." {
		return &fs.PathError{Op: "rmdir", Path: name, Err: fs.ErrPermission}
	}
	return d.Root.Remove(c)
}

func (d *DirFS) Rename(ctx context.Context, from, to string) error {
	cf, err := d.write("rename", from)
	if err != nil {
		return err
	}
	ct, err := dirName(to)
	if err != nil {
		return err
	}
	return d.Root.Rename(cf, ct)
}

func (d *DirFS) SetModTime(ctx context.Context, name string, mtime time.Time) error {
	c, err := d.write("chtimes", name)
	if err != nil {
		return err
	}
	return d.Root.Chtimes(c, mtime, mtime)
}
