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
