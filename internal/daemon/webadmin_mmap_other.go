//go:build !linux

package daemon

import "os"

// mapSummaryFile reads the summary file open as f into memory; only
// Linux maps it (webadmin_mmap_linux.go).
func mapSummaryFile(f *os.File) ([]byte, bool) { return readSummaryFile(f), false }

func unmapSummaryFile([]byte) {}
