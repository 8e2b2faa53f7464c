//go:build unix

package mailstore

import (
	"errors"
	"os"
	"syscall"
)

// flock takes an advisory lock on f: exclusive and waiting, or, with
// try, failing with errLockBusy at once.
func flock(f *os.File, try bool) error {
	how := syscall.LOCK_EX
	if try {
		how |= syscall.LOCK_NB
	}
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return errLockBusy
		}
		return err
	}
}

func funlock(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }

// sameFile reports whether two stats are of the same unchanged file.
func stampOf(fi os.FileInfo) fileStamp {
	st, _ := fi.Sys().(*syscall.Stat_t)
	s := fileStamp{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st != nil {
		s.ino = st.Ino
	}
	return s
}

// openRead opens a message file for reading. A plain open(2) and
// os.NewFile skip what os.Open does for files that might be pollable
// (two more system calls per message, which a POP3 session retrieving
// thousands of messages feels).
func openRead(path string) (*os.File, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return os.NewFile(uintptr(fd), path), nil
	}
}

// renameFile renames a message file: rename(2) alone, without the
// lstat of the target os.Rename adds (a file never replaces a
// directory: rename(2) refuses that itself), one system call of two
// for each of a STORE's thousand flag changes.
func renameFile(from, to string) error {
	for {
		err := syscall.Rename(from, to)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
		}
		return nil
	}
}
