package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/plumbnet/plumb/internal/filestore"
	"github.com/plumbnet/plumb/internal/webadmin"
)

// webFiles is the shared file tree as a webadmin.FileBackend, seen from
// the store's root: anonymous/ is the anonymous area, home/<name>/ each
// account's home. Writes go through filestore's Trees, with the
// [files] quota and size limits, and are durable before they return.
type webFiles struct {
	d      *Daemon
	store  *filestore.Store
	limits filestore.Limits
}

var _ webadmin.FileBackend = (*webFiles)(nil)

// tree opens the tree p is in and returns p's name inside it ("." for
// the tree's root). write creates a missing home; reading one does not.
func (f *webFiles) tree(ctx context.Context, p string, write bool) (*filestore.Tree, string, string, error) {
	p = strings.Trim(path.Clean("/"+p), "/")
	first, rest, _ := strings.Cut(p, "/")
	var prefix string
	var t *filestore.Tree
	var err error
	switch first {
	case "anonymous":
		prefix = "anonymous"
		t, err = f.store.Anonymous(ctx, f.limits)
	case "home":
		home, r, _ := strings.Cut(rest, "/")
		if home == "" {
			return nil, "", "", fmt.Errorf("%w: %s", webadmin.ErrBadRequest, p)
		}
		prefix, rest = "home/"+home, r
		if write {
			t, err = f.store.Home(ctx, home, f.limits)
		} else {
			t, err = f.store.HomeIfExists(ctx, home)
		}
	default:
		return nil, "", "", fmt.Errorf("%w: %s (the tree holds anonymous/ and home/)", webadmin.ErrNotFound, p)
	}
	if err != nil {
		return nil, "", "", fileError(err)
	}
	if rest == "" {
		rest = "."
	}
	return t, prefix, rest, nil
}

func fileInfo(p string, fi fs.FileInfo) webadmin.FileInfo {
	return webadmin.FileInfo{Path: p, Name: path.Base(p), Dir: fi.IsDir(), Size: fi.Size(), ModTime: fi.ModTime()}
}

// isTop reports whether p is the root or home/, which are not in a tree.
func isTop(p string) bool {
	p = strings.Trim(path.Clean("/"+p), "/")
	return p == "" || p == "home"
}

func (f *webFiles) Stat(ctx context.Context, p string) (webadmin.FileInfo, error) {
	if isTop(p) {
		p = strings.Trim(path.Clean("/"+p), "/")
		return webadmin.FileInfo{Path: p, Name: path.Base("/" + p), Dir: true}, nil
	}
	t, prefix, name, err := f.tree(ctx, p, false)
	if err != nil {
		return webadmin.FileInfo{}, err
	}
	defer t.Close()
	fi, err := t.Stat(ctx, name)
	if err != nil {
		return webadmin.FileInfo{}, fileError(err)
	}
	return fileInfo(path.Join(prefix, name), fi), nil
}

func (f *webFiles) ReadDir(ctx context.Context, p string) ([]webadmin.FileInfo, error) {
	switch strings.Trim(path.Clean("/"+p), "/") {
	case "":
		return []webadmin.FileInfo{{Path: "anonymous", Name: "anonymous", Dir: true}, {Path: "home", Name: "home", Dir: true}}, nil
	case "home":
		out := []webadmin.FileInfo{}
		for _, a := range f.d.Accounts().List() {
			t, err := f.store.HomeIfExists(ctx, a.HomeName())
			if err != nil {
				continue
			}
			if fi, err := t.Stat(ctx, "."); err == nil {
				out = append(out, fileInfo("home/"+a.HomeName(), fi))
			}
			t.Close()
		}
		return out, nil
	}
	t, prefix, name, err := f.tree(ctx, p, false)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	fis, err := t.ReadDir(ctx, name)
	if err != nil {
		return nil, fileError(err)
	}
	out := make([]webadmin.FileInfo, 0, len(fis))
	for _, fi := range fis {
		out = append(out, fileInfo(path.Join(prefix, name, fi.Name()), fi))
	}
	slices.SortFunc(out, func(a, b webadmin.FileInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// treeFile is an open file that closes its tree with it.
type treeFile struct {
	io.ReadSeekCloser
	t *filestore.Tree
}

func (f treeFile) Close() error {
	err := f.ReadSeekCloser.Close()
	f.t.Close()
	return err
}

func (f *webFiles) Open(ctx context.Context, p string) (io.ReadSeekCloser, webadmin.FileInfo, error) {
	if isTop(p) {
		return nil, webadmin.FileInfo{}, fmt.Errorf("%w: %s is a directory", webadmin.ErrBadRequest, p)
	}
	t, prefix, name, err := f.tree(ctx, p, false)
	if err != nil {
		return nil, webadmin.FileInfo{}, err
	}
	fh, err := t.Open(ctx, name)
	if err != nil {
		t.Close()
		return nil, webadmin.FileInfo{}, fileError(err)
	}
	fi, err := fh.Stat()
	if err != nil {
		fh.Close()
		t.Close()
		return nil, webadmin.FileInfo{}, err
	}
	return treeFile{fh, t}, fileInfo(path.Join(prefix, name), fi), nil
}

func (f *webFiles) Put(ctx context.Context, p string, r io.Reader) (webadmin.FileInfo, error) {
	t, prefix, name, err := f.tree(ctx, p, true)
	if err != nil {
		return webadmin.FileInfo{}, err
	}
	defer t.Close()
	if name == "." {
		return webadmin.FileInfo{}, fmt.Errorf("%w: %s is a directory", webadmin.ErrBadRequest, p)
	}
	if dir := path.Dir(name); dir != "." {
		if err := mkdirAll(ctx, t, dir); err != nil {
			return webadmin.FileInfo{}, fileError(err)
		}
	}
	up, err := t.Create(ctx, name, 0)
	if err != nil {
		return webadmin.FileInfo{}, fileError(err)
	}
	if _, err := io.Copy(up, r); err != nil {
		up.Abort()
		return webadmin.FileInfo{}, fileError(err)
	}
	if err := (uploadHook{f.d.events, "admin", prefix}).commit(ctx, up); err != nil {
		return webadmin.FileInfo{}, fileError(err)
	}
	fi, err := t.Stat(ctx, name)
	if err != nil {
		return webadmin.FileInfo{}, fileError(err)
	}
	return fileInfo(path.Join(prefix, name), fi), nil
}

// mkdirAll makes dir and its parents in t.
func mkdirAll(ctx context.Context, t *filestore.Tree, dir string) error {
	parts := strings.Split(dir, "/")
	for i := range parts {
		err := t.Mkdir(ctx, strings.Join(parts[:i+1], "/"))
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	return nil
}

func (f *webFiles) Delete(ctx context.Context, p string) error {
	if isTop(p) {
		return fmt.Errorf("%w: %s cannot be deleted", webadmin.ErrBadRequest, p)
	}
	t, _, name, err := f.tree(ctx, p, true)
	if err != nil {
		return err
	}
	defer t.Close()
	if name == "." {
		return fmt.Errorf("%w: a tree's root cannot be deleted", webadmin.ErrBadRequest)
	}
	fi, err := t.Stat(ctx, name)
	if err != nil {
		return fileError(err)
	}
	if fi.IsDir() {
		return fileError(t.RemoveDir(ctx, name))
	}
	return fileError(t.Remove(ctx, name))
}

// fileError gives the store's errors the API's names.
func fileError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, filestore.ErrQuota), errors.Is(err, filestore.ErrTooLarge):
		return fmt.Errorf("%w: %w", webadmin.ErrTooLarge, err)
	case errors.Is(err, filestore.ErrBadName), errors.Is(err, filestore.ErrIsDir), errors.Is(err, filestore.ErrNotDir):
		return fmt.Errorf("%w: %w", webadmin.ErrBadRequest, err)
	}
	return err
}
