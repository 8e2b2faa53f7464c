package gopher

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"
)

// countingBackend counts the files opened and the users listed.
type countingBackend struct {
	FSBackend
	opens, users atomic.Int64
}

func (b *countingBackend) Tree(ctx context.Context, user string) (FS, error) {
	t, err := b.FSBackend.Tree(ctx, user)
	if err != nil {
		return nil, err
	}
	return countingFS{t, b}, nil
}

func (b *countingBackend) Users(ctx context.Context) ([]string, error) {
	b.users.Add(1)
	return b.FSBackend.Users(ctx)
}

type countingFS struct {
	FS
	b *countingBackend
}

func (c countingFS) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	c.b.opens.Add(1)
	return c.FS.Open(ctx, name)
}

// TestIncludeFanOutIsBounded: a map whose lines include itself, or a
// web of maps including each other, is read a bounded number of times,
// and its "~" lines list the users once.
func TestIncludeFanOutIsBounded(t *testing.T) {
	f := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s), Mode: 0o644} }
	self := strings.Repeat("=gophermap\n", 20) + strings.Repeat("~\n", 20)
	tree := fstest.MapFS{"self/gophermap": f(self)}
	var web strings.Builder
	for i := range 30 {
		fmt.Fprintf(&web, "=/web/m%d\n", i)
	}
	for i := range 30 {
		tree[fmt.Sprintf("web/m%d", i)] = f(web.String())
		tree[fmt.Sprintf("web/x%d.gophermap", i)] = f(web.String() + "*\n")
	}
	tree["web/gophermap"] = f(web.String())
	tree["inline/a.gophermap"] = f(web.String() + "*\n")
	b := &countingBackend{FSBackend: FSBackend{Root: tree, Homes: map[string]fs.FS{"alice": fstest.MapFS{}}}}
	ts := startServer(t, nil, func(s *Server) { s.Backend = b; s.MaxMapReads = 10 })

	got := fetch(t, ts.addr, "/self/")
	if n := b.opens.Load(); n != 1 {
		t.Errorf("/self/ opened %d files, want 1 (the map, once)", n)
	}
	if n := b.users.Load(); n != 1 {
		t.Errorf("/self/ listed the users %d times, want 1", n)
	}
	var lines []string
	for range 20 {
		lines = append(lines, ts.local('1', "~alice", "/~alice/"))
	}
	if want := menu(lines...); got != want {
		t.Errorf("/self/ =\n%s\nwant\n%s", got, want)
	}
	for _, sel := range []string{"/web/", "/inline/"} {
		b.opens.Store(0)
		if got := fetch(t, ts.addr, sel); !strings.HasSuffix(got, ".\r\n") {
			t.Errorf("%s = %q, want a menu", sel, got)
		}
		if n := b.opens.Load(); n > 10 {
			t.Errorf("%s opened %d files, want at most MaxMapReads (10)", sel, n)
		}
	}
}

// TestMapEntriesBounded: the lines expanded in all are bounded.
func TestMapEntriesBounded(t *testing.T) {
	f := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s), Mode: 0o644} }
	tree := fstest.MapFS{
		"gophermap": f("=a\n=b\n"),
		"a":         f(strings.Repeat("x\n", 100)),
		"b":         f(strings.Repeat("y\n", 100)),
	}
	ts := startServer(t, nil, func(s *Server) { s.Backend = &FSBackend{Root: tree}; s.MaxMapEntries = 50 })
	got := fetch(t, ts.addr, "/")
	if n := strings.Count(got, "\r\n") - 1; n != 49 || strings.Contains(got, "iy") { // 50 entries less the "=a" line
		t.Errorf("got %d lines, want 49 of a:\n%s", n, got)
	}
}

// stuckFS never finishes opening a file until its request ends.
type stuckFS struct{ FS }

func (s stuckFS) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

type stuckBackend struct{ Backend }

func (b stuckBackend) Tree(ctx context.Context, user string) (FS, error) {
	t, err := b.Backend.Tree(ctx, user)
	if err != nil {
		return nil, err
	}
	return stuckFS{t}, nil
}

// TestRequestTimeout: a request whose menu takes too long is answered
// with an error when RequestTimeout is over.
func TestRequestTimeout(t *testing.T) {
	ts := startServer(t, nil, func(s *Server) {
		s.Backend = stuckBackend{&FSBackend{Root: testTree()}}
		s.RequestTimeout = 50 * time.Millisecond
	})
	start := time.Now()
	if got, want := fetch(t, ts.addr, "/mapped/"), menu(errorItem("The request took too long").Line()); got != want {
		t.Errorf("/mapped/ = %q, want %q", got, want)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("answered after %v", d)
	}
}

// TestListingReadsOnlyWhatItShows: a directory's listing and a search
// read no more entries than the menu may hold or the search may visit.
func TestListingReadsOnlyWhatItShows(t *testing.T) {
	tree := fstest.MapFS{}
	for i := range 100 {
		tree[fmt.Sprintf("big/f%03d.txt", i)] = &fstest.MapFile{Data: []byte("x")}
	}
	if fis, err := DirFS(tree).ReadDir(context.Background(), "big", 10); err != nil || len(fis) != 10 {
		t.Errorf("DirFS ReadDir(big, 10) = %d entries, %v; want 10", len(fis), err)
	}
	rec := &recordingBackend{FSBackend: FSBackend{Root: tree}}
	ts := startServer(t, nil, func(s *Server) { s.Backend = rec; s.MaxMenuItems = 10; s.MaxSearchVisits = 7 })
	if got := fetch(t, ts.addr, "/big/"); strings.Count(got, "\r\n") != 11 {
		t.Errorf("/big/ = %q, want 10 items", got)
	}
	fetch(t, ts.addr, "/big/\tf0")
	if got := rec.asked(); !slices.Equal(got, []int{10, 7}) {
		t.Errorf("ReadDir asked for %v entries, want [10 7]", got)
	}
}

// recordingBackend records the n of each ReadDir.
type recordingBackend struct {
	FSBackend
	mu sync.Mutex
	ns []int
}

func (b *recordingBackend) asked() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.ns)
}

func (b *recordingBackend) Tree(ctx context.Context, user string) (FS, error) {
	t, err := b.FSBackend.Tree(ctx, user)
	return recordingFS{t, b}, err
}

type recordingFS struct {
	FS
	b *recordingBackend
}

func (r recordingFS) ReadDir(ctx context.Context, name string, n int) ([]fs.FileInfo, error) {
	r.b.mu.Lock()
	r.b.ns = append(r.b.ns, n)
	r.b.mu.Unlock()
	return r.FS.ReadDir(ctx, name, n)
}
