// Package atomicfile writes files so that a crash leaves either the old
// content or the new, never a mix, and the new content is on disk when
// the call returns: a temporary file beside the target, fsynced, renamed
// over it, and the directory fsynced so the rename is durable too
// (DESIGN.md: everything written is written atomically, and a client is
// told "done" only after that). Every store uses it.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

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
func Write(name string, perm os.FileMode, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	// Chmod before writing, so a secret is never readable under the
	// temporary file's default mode.
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	if err := write(f); err != nil {
		return fmt.Errorf("atomicfile: writing %s: %w", f.Name(), err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("atomicfile: fsync %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	if err := os.Rename(f.Name(), name); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	return SyncDir(dir)
}

// SyncDir fsyncs a directory, so that the names created, renamed or
// removed in it survive a crash. A file system that cannot sync a
// directory (errors.ErrUnsupported) is not an error.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("atomicfile: fsync %s: %w", dir, err)
	}
	return nil
}
