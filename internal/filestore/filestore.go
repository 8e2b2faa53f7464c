// Package filestore is the one file tree behind ftp, httpfs and gopher.
// STUB: the file-transfer work replaces this file.
package filestore

// Store is the file tree.
type Store struct{}

// Open opens (creating if missing) the tree rooted at dir.
func Open(dir string) (*Store, error) { return &Store{}, nil }
