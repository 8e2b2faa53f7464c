//go:build !linux && !darwin

package httpfs

import "io/fs"

type fileID struct{}

// fileIdentity has no change time or inode to go by here: no caching.
func fileIdentity(fs.FileInfo) (fileID, bool) { return fileID{}, false }
