package ftp

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"io/fs"
	"net"
	"time"
)

// Backend authenticates users and gives each logged-in session its file
// tree. The server calls it from many goroutines at once.
type Backend interface {
	// Login checks user and password and returns the user's file tree.
	// An *Error chooses the reply; any other error is answered "530
	// Login incorrect". A session is
	// closed after Server.MaxLoginFailures. Slowing down a client that
	// keeps failing, across sessions, is Login's job (delay the answer,
	// honouring ctx): the server has no throttle of its own. Anonymous
	// logins ("anonymous" or "ftp", any password) reach Login like any
	// other.
	Login(ctx context.Context, info ConnInfo, user, password string) (FS, error)
}

// ConnInfo describes the control connection a login comes from: the
// shape every protocol package's ConnInfo has.
type ConnInfo struct {
	RemoteAddr net.Addr // the client (a PROXY header's source, behind a balancer)
	LocalAddr  net.Addr
	// TLS is the control connection's TLS state, nil when it is not TLS.
	TLS *tls.ConnectionState
}

// FS is one session's file tree. Names are slash-separated and relative
// to the tree's top ("." is the top); the server cleans them, so they
// never hold ".." or a leading "/". An *Error returned (wrapped is
// fine) chooses the reply. Other errors are matched with errors.Is
// against fs.ErrNotExist, fs.ErrExist, fs.ErrPermission, fs.ErrInvalid,
// errors.ErrUnsupported, ErrQuotaExceeded, ErrFileTooLarge and the
// system's errors (ENOSPC, ENAMETOOLONG, …) to choose the reply; any
// other error is logged and answered with a generic failure.
type FS interface {
	Stat(ctx context.Context, name string) (fs.FileInfo, error)
	// ReadDir lists a directory, sorted by name.
	ReadDir(ctx context.Context, name string) ([]fs.FileInfo, error)
	// Open opens a regular file for reading. An *os.File lets RETR on a
	// plain data connection use the kernel's zero-copy path.
	Open(ctx context.Context, name string) (io.ReadSeekCloser, error)
	// Create starts an upload (see Upload). offset 0 replaces the file;
	// offset > 0 keeps that many bytes of the existing file and writes
	// after them (REST + STOR); AppendOffset appends (APPE).
	Create(ctx context.Context, name string, offset int64) (Upload, error)
	Mkdir(ctx context.Context, name string) error
	// Remove deletes a file; RemoveDir deletes an empty directory.
	Remove(ctx context.Context, name string) error
	RemoveDir(ctx context.Context, name string) error
	Rename(ctx context.Context, from, to string) error
}

// AppendOffset passed to FS.Create as the offset appends to the file.
const AppendOffset int64 = -1

// Upload is a file being stored. The server writes the data, then calls
// Commit if the transfer completed or Abort if it did not; what was
// written must not be visible under the file's name before Commit.
type Upload interface {
	io.Writer
	Commit(ctx context.Context) error
	Abort() error
}

// Chmoder is an FS that supports SITE CHMOD.
type Chmoder interface {
	Chmod(ctx context.Context, name string, mode fs.FileMode) error
}

// ModTimeSetter is an FS that can set a file's modification time, for
// MFMT and SITE UTIME (mirroring clients keep file times with them).
type ModTimeSetter interface {
	SetModTime(ctx context.Context, name string, mtime time.Time) error
}

// ReadOnlyFS is an FS that can tell it refuses every change, so that
// listings show the right permissions (MLSx "perm" fact).
type ReadOnlyFS interface {
	ReadOnly() bool
}

// Errors an FS returns (wrapped is fine) to get the "552 exceeded
// storage allocation" reply; nothing of the upload is kept.
var (
	ErrQuotaExceeded = errors.New("ftp: storage quota exceeded")
	ErrFileTooLarge  = errors.New("ftp: file exceeds the maximum size")
)
