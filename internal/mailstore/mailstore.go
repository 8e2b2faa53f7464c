// Package mailstore holds the Maildirs behind SMTP delivery, POP3 and IMAP.
// STUB: the mail work replaces this file.
package mailstore

// Store is every account's Maildir.
type Store struct{}

// Open opens (creating if missing) the mail tree rooted at dir.
func Open(dir string) (*Store, error) { return &Store{}, nil }
