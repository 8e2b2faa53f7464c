//go:build !linux

package filestore

import "syscall"

// startWriteback does nothing where sync_file_range(2) does not exist;
// the fsync at Commit does all the work.
func startWriteback(syscall.Conn, int64, int64) {}
