package plumbtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/plumbnet/plumb/internal/filestore"
)

// Files is the shared file tree that FTP, HTTP, WebDAV and gopher serve,
// or one account's home in it. Paths are slash-separated and relative
// ("pub/readme.txt"; a leading slash is ignored); none reaches outside
// the tree. Writes go through the daemon's own store, the way an FTP
// upload does: the file appears whole, under its name, and durably.
type Files struct {
	s    *Server
	home string // "" for the whole tree
}

// Files returns the whole tree, as the daemon lays it out: the
// anonymous area under "anonymous/" (what anonymous FTP and the HTTP
// root show) and each account's home under "home/<user>/" (what the
// account sees after an FTP login, and at /~user/ over HTTP).
func (s *Server) Files() *Files { return &Files{s: s} }

// Home returns the tree of the account user's home: the directory the
// account is in after an FTP login. An unknown user fails the test.
func (s *Server) Home(user string) *Files {
	if s.tb != nil {
		s.tb.Helper()
	}
	u, ok := s.d.Accounts().Lookup(user)
	if !ok {
		s.fail("plumbtest: Home(%q): no such account; there are %s", user, strings.Join(s.Users(), ", "))
	}
	return &Files{s: s, home: u.HomeName()}
}

// tree opens the filestore tree p is in and returns the path inside
// it; a nil tree means p names the whole tree's root or "home" itself,
// which only List may look at.
func (f *Files) tree(ctx context.Context, p string) (*filestore.Tree, string, error) {
	st, err := f.s.d.FileStore()
	if err != nil {
		return nil, "", fmt.Errorf("plumbtest: the file store: %w", err)
	}
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	if f.home != "" {
		t, err := st.Home(ctx, f.home, filestore.Limits{})
		return t, orDot(p), err
	}
	first, rest, _ := strings.Cut(p, "/")
	switch first {
	case "anonymous":
		t, err := st.Anonymous(ctx, filestore.Limits{})
		return t, orDot(rest), err
	case "home":
		if rest == "" {
			return nil, "home", nil
		}
		home, inside, _ := strings.Cut(rest, "/")
		t, err := st.Home(ctx, home, filestore.Limits{})
		return t, orDot(inside), err
	case "":
		return nil, ".", nil
	}
	return nil, "", fmt.Errorf("plumbtest: %q: the tree holds anonymous/ and home/<user>/ (or use Server.Home)", p)
}

func orDot(p string) string {
	if p == "" {
		return "."
	}
	return p
}

// Read returns the content of the file at p.
func (f *Files) Read(p string) ([]byte, error) {
	ctx := context.Background()
	t, rel, err := f.tree(ctx, p)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, fmt.Errorf("plumbtest: Read(%q): %w", p, filestore.ErrIsDir)
	}
	defer t.Close()
	r, err := t.Open(ctx, rel)
	if err != nil {
		return nil, fmt.Errorf("plumbtest: Read(%q): %w", p, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("plumbtest: Read(%q): %w", p, err)
	}
	return b, nil
}

// Write stores data as the file at p, replacing any file there, and
// makes the directories on the way. It returns once the file is durable.
func (f *Files) Write(p string, data []byte) error {
	ctx := context.Background()
	t, rel, err := f.tree(ctx, p)
	if err != nil {
		return err
	}
	if t == nil || rel == "." {
		return fmt.Errorf("plumbtest: Write(%q): %w", p, filestore.ErrIsDir)
	}
	defer t.Close()
	if err := mkdirAll(ctx, t, path.Dir(rel)); err != nil {
		return fmt.Errorf("plumbtest: Write(%q): %w", p, err)
	}
	up, err := t.Create(ctx, rel, 0)
	if err != nil {
		return fmt.Errorf("plumbtest: Write(%q): %w", p, err)
	}
	if _, err := up.Write(data); err != nil {
		up.Abort()
		return fmt.Errorf("plumbtest: Write(%q): %w", p, err)
	}
	if err := up.Commit(ctx); err != nil {
		return fmt.Errorf("plumbtest: Write(%q): %w", p, err)
	}
	return nil
}

func mkdirAll(ctx context.Context, t *filestore.Tree, dir string) error {
	if dir == "." {
		return nil
	}
	if err := mkdirAll(ctx, t, path.Dir(dir)); err != nil {
		return err
	}
	if err := t.Mkdir(ctx, dir); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}

// List returns the entries of the directory at p, sorted by name ("" or
// "/" is the tree's root).
func (f *Files) List(p string) ([]fs.FileInfo, error) {
	ctx := context.Background()
	t, rel, err := f.tree(ctx, p)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return f.listTop(rel)
	}
	defer t.Close()
	list, err := t.ReadDir(ctx, rel)
	if err != nil {
		return nil, fmt.Errorf("plumbtest: List(%q): %w", p, err)
	}
	return list, nil
}

// listTop lists the whole tree's root or its home directory, which are
// the store's layout rather than a tree of their own.
func (f *Files) listTop(rel string) ([]fs.FileInfo, error) {
	st, err := f.s.d.FileStore()
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(filepath.Join(st.Dir(), filepath.FromSlash(rel)))
	if err != nil {
		return nil, fmt.Errorf("plumbtest: List(%q): %w", rel, err)
	}
	var out []fs.FileInfo
	for _, e := range ents {
		if !e.IsDir() {
			continue // only the layout's directories belong here
		}
		if fi, err := e.Info(); err == nil {
			out = append(out, fi)
		}
	}
	slices.SortFunc(out, func(a, b fs.FileInfo) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// Remove deletes the file at p.
func (f *Files) Remove(p string) error {
	ctx := context.Background()
	t, rel, err := f.tree(ctx, p)
	if err != nil {
		return err
	}
	if t == nil {
		return fmt.Errorf("plumbtest: Remove(%q): %w", p, filestore.ErrIsDir)
	}
	defer t.Close()
	if err := t.Remove(ctx, rel); err != nil {
		return fmt.Errorf("plumbtest: Remove(%q): %w", p, err)
	}
	return nil
}
