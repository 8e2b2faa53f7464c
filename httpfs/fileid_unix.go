//go:build linux || darwin

package httpfs

import (
	"io/fs"
	"syscall"
)

// fileID is what changes whenever a file's content may have: its size,
// modification and change times, device and inode.
type fileID struct {
	size, mtime, ctime int64
	dev, ino           uint64
}

func fileIdentity(fi fs.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || !fi.Mode().IsRegular() {
		return fileID{}, false
	}
	return fileID{size: fi.Size(), mtime: fi.ModTime().UnixNano(),
		ctime: statCtime(st), dev: uint64(st.Dev), ino: uint64(st.Ino)}, true
}
