package daemon

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/plumbnet/plumb/gopher"
	"github.com/plumbnet/plumb/internal/filestore"
)

// TestGopherUserDirIsItsOwnRoot: a symbolic link in user_dir that leads
// elsewhere in the home is neither served nor listed; one inside works.
func TestGopherUserDirIsItsOwnRoot(t *testing.T) {
	d, plain, _ := gopherDaemon(t)
	pub := filepath.Join(d.DataDir(), "files", "home", "alice", "public_gopher")
	if err := os.Symlink("../private.txt", filepath.Join(pub, "x.txt")); err != nil {
		t.Skipf("symlink: %v", err)
	}
	if err := os.Symlink("plan.txt", filepath.Join(pub, "y.txt")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := &gopher.Client{}
	var e *gopher.Error
	if _, err := c.Text(ctx, gopher.URL{Host: plain, Type: '0', Selector: "/~alice/x.txt"}, io.Discard); !errors.As(err, &e) {
		t.Errorf("/~alice/x.txt (a link to ../private.txt) = %v, want a type-3 error", err)
	}
	items, err := c.Menu(ctx, gopher.URL{Host: plain, Type: '1', Selector: "/~alice/"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, it := range items {
		names = append(names, it.Display)
		if it.Display == "x.txt" {
			t.Errorf("menu /~alice/ lists x.txt, a link out of public_gopher")
		}
	}
	if !slices.Contains(names, "y.txt") {
		t.Errorf("menu /~alice/ = %q, want y.txt (a link inside) listed", names)
	}
}

// TestGopherAnonymousRetried: when the anonymous tree cannot be opened,
// the next request tries again rather than failing until a restart.
func TestGopherAnonymousRetried(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "files")
	store, err := filestore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	anon := filepath.Join(dir, "anonymous")
	os.Remove(anon)
	if err := os.WriteFile(anon, []byte("in the way"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := &gopherBackend{store: store}
	defer b.Stop(context.Background())
	ctx := context.Background()
	if _, err := b.Tree(ctx, ""); err == nil {
		t.Fatal("Tree(\"\") with a file in the anonymous area's place succeeded")
	}
	os.Remove(anon)
	if err := os.Mkdir(anon, 0o750); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Tree(ctx, ""); err != nil {
		t.Errorf("Tree(\"\") once the area is back = %v, want it served", err)
	}
}
