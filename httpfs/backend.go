package httpfs

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"time"
)

// Errors an [Upload] returns to choose the status of a refused PUT.
var (
	// ErrQuota is a write over the tree's quota: 507 Insufficient Storage.
	ErrQuota = errors.New("httpfs: quota exceeded")
	// ErrTooLarge is a file over the maximum size: 413 Content Too Large.
	ErrTooLarge = errors.New("httpfs: file too large")
)

// ErrAuthFailed is what [Backend.Login] returns for a wrong user or
// password: 401.
var ErrAuthFailed = errors.New("httpfs: authentication failed")

// Backend gives the server the trees it serves.
type Backend interface {
	// Anonymous returns the tree served at "/".
	Anonymous(ctx context.Context) (FS, error)
	// Login checks user's password (remote is the client, for the
	// throttle shared with every other service) and returns the user's
	// home tree, or an error wrapping ErrAuthFailed.
	Login(ctx context.Context, user, password string, remote net.Addr) (FS, error)
}

// FS is one tree. Names are slash-separated, relative to the tree's
// top ("." is the top); the FS keeps them inside the tree (symbolic
// links included). Errors wrap fs.ErrNotExist, fs.ErrExist and
// fs.ErrPermission where those apply.
type FS interface {
	Stat(ctx context.Context, name string) (fs.FileInfo, error)
	// ReadDir lists a directory, sorted by name.
	ReadDir(ctx context.Context, name string) ([]fs.FileInfo, error)
	// Open opens a regular file for reading; an *os.File lets
	// responses go out with sendfile(2).
	Open(ctx context.Context, name string) (File, error)
	// Create starts writing a new version of file name.
	Create(ctx context.Context, name string) (Upload, error)
	Mkdir(ctx context.Context, name string) error
	// Remove deletes a file; RemoveDir an empty directory.
	Remove(ctx context.Context, name string) error
	RemoveDir(ctx context.Context, name string) error
	// Rename moves a file or directory, replacing a file at to.
	Rename(ctx context.Context, from, to string) error
	// ReadOnly reports that the tree refuses every change.
	ReadOnly() bool
}

// ModTimeSetter is an FS that can set a file's modification time
// (PUT with X-OC-Mtime, as rclone and ownCloud clients send it).
type ModTimeSetter interface {
	SetModTime(ctx context.Context, name string, mtime time.Time) error
}

// File is an open regular file.
type File interface {
	io.ReadSeekCloser
	Stat() (fs.FileInfo, error)
}

// Upload is a file being written: nothing shows under its name until
// Commit returns nil, which means the bytes are durable. Write returns
// an error wrapping ErrQuota or ErrTooLarge at a limit.
type Upload interface {
	io.Writer
	Commit(ctx context.Context) error
	Abort() error
}
