package atomicfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileReplaces(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	if err := os.WriteFile(name, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(name, []byte("new"), 0o600); err != nil {
		t.Fatalf("WriteFile(%s) = %v, want nil", name, err)
	}
	b, err := os.ReadFile(name)
	if err != nil || string(b) != "new" {
		t.Errorf("ReadFile after WriteFile = %q, %v; want %q", b, err, "new")
	}
	fi, _ := os.Stat(name)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after WriteFile(0600) = %v, want 0600", fi.Mode().Perm())
	}
	assertOnly(t, dir, "f")
}

func TestWriteFailureLeavesOldFile(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	os.WriteFile(name, []byte("old"), 0o644)
	boom := errors.New("boom")
	err := Write(name, 0o644, func(w io.Writer) error {
		io.WriteString(w, "half")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write with a failing writer = %v, want it to wrap %v", err, boom)
	}
	if b, _ := os.ReadFile(name); string(b) != "old" {
		t.Errorf("file after a failed Write = %q, want %q", b, "old")
	}
	assertOnly(t, dir, "f")
}

func TestWriteFileMissingDir(t *testing.T) {
	name := filepath.Join(t.TempDir(), "no", "f")
	if err := WriteFile(name, nil, 0o600); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("WriteFile(%s) = %v, want ErrNotExist", name, err)
	}
}

// assertOnly checks that dir holds exactly names: no temporary file is left.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if len(got) != len(names) {
		t.Fatalf("ReadDir(%s) = %v, want %v", dir, got, names)
	}
	for i := range got {
		if got[i] != names[i] {
			t.Fatalf("ReadDir(%s) = %v, want %v", dir, got, names)
		}
	}
}

func TestCreateInRoot(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "f"), []byte("old"), 0o644)
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	f, err := CreateIn(root, "sub/f", 0o640)
	if err != nil {
		t.Fatalf("CreateIn(sub/f) = %v, want nil", err)
	}
	io.WriteString(f, "new")
	assertHasTemp(t, filepath.Join(dir, "sub"))
	if b, _ := os.ReadFile(filepath.Join(dir, "sub", "f")); string(b) != "old" {
		t.Errorf("sub/f before Commit = %q, want %q", b, "old")
	}
	if err := f.Commit(context.Background()); err != nil {
		t.Fatalf("Commit() = %v, want nil", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "sub", "f")); string(b) != "new" {
		t.Errorf("sub/f after Commit = %q, want %q", b, "new")
	}
	if fi, _ := os.Stat(filepath.Join(dir, "sub", "f")); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode after CreateIn(0640) = %v, want 0640", fi.Mode().Perm())
	}
	assertOnly(t, filepath.Join(dir, "sub"), "f")

	if _, err := CreateIn(root, "../outside", 0o600); err == nil {
		t.Errorf("CreateIn(../outside) = nil error, want a refusal to leave the root")
	}
}

func TestAbortAndCancelLeaveOldFile(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	os.WriteFile(name, []byte("old"), 0o644)

	f, err := Create(name, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(f, "aborted")
	if err := f.Abort(); err != nil {
		t.Fatalf("Abort() = %v, want nil", err)
	}
	if err := f.Commit(context.Background()); err == nil {
		t.Errorf("Commit() after Abort = nil, want an error")
	}
	assertOnly(t, dir, "f")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f, _ = Create(name, 0o644)
	io.WriteString(f, "cancelled")
	if err := f.Commit(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Commit(cancelled) = %v, want context.Canceled", err)
	}
	if b, _ := os.ReadFile(name); string(b) != "old" {
		t.Errorf("file after an abort and a cancelled commit = %q, want %q", b, "old")
	}
	assertOnly(t, dir, "f")
}

// TestDirSyncFailureCounts: if the directory cannot be fsynced, the
// rename may not survive a crash, so the write is not reported done.
func TestDirSyncFailureCounts(t *testing.T) {
	boom := errors.New("injected EIO")
	fsyncDir = func(*os.File) error { return boom }
	defer func() { fsyncDir = (*os.File).Sync }()
	dir := t.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	f, err := CreateIn(root, "f", 0o600)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(f, "new")
	if err := f.Commit(context.Background()); !errors.Is(err, ErrNotDurable) || !errors.Is(err, boom) {
		t.Errorf("Commit() with a failing directory fsync = %v, want ErrNotDurable wrapping %v", err, boom)
	}
	if err := WriteFile(filepath.Join(dir, "g"), []byte("x"), 0o600); !errors.Is(err, ErrNotDurable) {
		t.Errorf("WriteFile() with a failing directory fsync = %v, want ErrNotDurable", err)
	}
	if err := SyncDir(dir); !errors.Is(err, boom) {
		t.Errorf("SyncDir(%s) = %v, want %v", dir, err, boom)
	}
	fsyncDir = func(*os.File) error { return fmt.Errorf("tmpfs: %w", errors.ErrUnsupported) }
	if err := SyncDir(dir); err != nil {
		t.Errorf("SyncDir(%s) on a file system that cannot sync directories = %v, want nil", dir, err)
	}
}

// assertHasTemp checks that dir holds a temporary file IsTemp knows.
func assertHasTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if IsTemp(e.Name()) {
			return
		}
	}
	t.Errorf("ReadDir(%s) = %v, want a temporary file starting with %q", dir, ents, TempPrefix)
}
