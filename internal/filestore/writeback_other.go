//go:build !linux

package filestore

import "os"

// startWriteback does nothing where sync_file_range(2) does not exist;
// the fsync at Commit does all the work.
func startWriteback(*os.File, int64, int64) {}
