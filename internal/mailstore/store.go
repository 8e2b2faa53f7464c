package mailstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/plumbnet/plumb/internal/atomicfile"
)

// Errors the store returns; match them with errors.Is.
var (
	ErrQuotaExceeded = errors.New("mailstore: quota exceeded")
	ErrNoSuchFolder  = errors.New("mailstore: no such folder")
	ErrFolderExists  = errors.New("mailstore: folder exists")
	ErrNoSuchMessage = errors.New("mailstore: no such message")
	ErrLocked        = errors.New("mailstore: mailbox is locked by another session")
	ErrBadName       = errors.New("mailstore: bad user or folder name")
)

var errLockBusy = errors.New("mailstore: lock busy")

// QuotaError is a delivery refused by a quota. It matches ErrQuotaExceeded.
type QuotaError struct {
	User  string
	Limit int64 // bytes
	Used  int64 // bytes in the account before this message
	Size  int64 // the message
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("mailstore: quota of %s exceeded: %d + %d > %d bytes", e.User, e.Used, e.Size, e.Limit)
}

// Is makes errors.Is(err, ErrQuotaExceeded) true.
func (e *QuotaError) Is(target error) bool { return target == ErrQuotaExceeded }

// Permanent reports whether the message alone is larger than the quota,
// so retrying cannot help (SMTP 552 5.2.2); otherwise the mailbox is
// full for now (SMTP 452 4.2.2).
func (e *QuotaError) Permanent() bool { return e.Size > e.Limit }

// Inbox is the name of every user's inbox; "" means it too.
const Inbox = "INBOX"

// quotaRefresh is how long a computed account usage is trusted before
// the Maildirs are walked again (files may change behind our back).
const quotaRefresh = time.Minute

// Store is every account's Maildir under one directory. Its methods
// are safe for concurrent use, also by several processes on one tree.
type Store struct {
	// Quota returns a user's limit in bytes over all folders; nil, or
	// a result <= 0, means no limit. Set it before the first delivery.
	Quota func(user string) int64
	// Logger receives what the store repairs (a corrupt UID list); nil
	// discards.
	Logger *slog.Logger

	dir   string
	hooks hooks

	mu       sync.Mutex
	folders  map[string]*folder    // by Maildir path
	watchers map[string][]*watcher // by Maildir path
	polling  bool                  // pollWatched runs
	scanMu   sync.Mutex            // held by pollWatched while it scans
	subMu    sync.Mutex            // the subscriptions files
	usage    map[string]*usage     // by user

	persisting sync.WaitGroup // listing caches being written (see listing.go)
}

type usage struct {
	bytes int64
	at    time.Time
}

// Open opens (creating if missing) the mail tree rooted at dir.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mailstore: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("mailstore: %w", err)
	}
	return &Store{dir: abs, folders: map[string]*folder{}, usage: map[string]*usage{}}, nil
}

// Close writes the listing cache of each folder whose snapshot is
// current and not written yet, and waits for the caches being written,
// so that the next process's first listing reads one file (see
// listing.go). The Store stays usable; closing is optional.
func (s *Store) Close() error {
	s.mu.Lock()
	folders := make([]*folder, 0, len(s.folders))
	for _, f := range s.folders {
		folders = append(folders, f)
	}
	s.mu.Unlock()
	for _, f := range folders {
		f.mu.Lock()
		if f.snapState.snap != nil {
			f.persistListing()
		}
		f.mu.Unlock()
	}
	s.persisting.Wait()
	return nil
}

// Dir returns the directory holding every user's Maildir.
func (s *Store) Dir() string { return s.dir }

func (s *Store) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// validUser reports whether user can name a directory of its own.
func validUser(user string) bool {
	if user == "" || len(user) > 255 || user[0] == '.' {
		return false
	}
	for _, c := range user {
		if c < ' ' || c == 0x7f || c == '/' || c == '\\' {
			return false
		}
	}
	return true
}

// folderDir maps a folder name to its Maildir's path; "/" in a name is
// the hierarchy separator, "." on disk (Maildir++).
func (s *Store) folderDir(user, name string) (string, error) {
	if !validUser(user) {
		return "", fmt.Errorf("%w: user %q", ErrBadName, user)
	}
	home := filepath.Join(s.dir, user)
	if isInbox(name) {
		return home, nil
	}
	if len(name) > 255 {
		return "", fmt.Errorf("%w: folder name too long", ErrBadName)
	}
	for part := range strings.SplitSeq(name, "/") {
		if part == "" || strings.ContainsAny(part, ".\\") || strings.EqualFold(part, Inbox) && part == name {
			return "", fmt.Errorf("%w: folder %q", ErrBadName, name)
		}
		for _, c := range part {
			if c < ' ' || c == 0x7f {
				return "", fmt.Errorf("%w: folder %q", ErrBadName, name)
			}
		}
	}
	return filepath.Join(home, "."+strings.ReplaceAll(name, "/", ".")), nil
}

func isInbox(name string) bool { return name == "" || strings.EqualFold(name, Inbox) }

// folder returns the shared state of the Maildir at path.
func (s *Store) folder(path string) *folder {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.folders[path]
	if f == nil {
		f = &folder{store: s, path: path}
		s.folders[path] = f
	}
	return f
}

// forget drops the cached state of path and every folder under it.
func (s *Store) forget(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p, f := range s.folders {
		if p == path || strings.HasPrefix(p, path+".") {
			f.closeLock()
			delete(s.folders, p)
		}
	}
}

// makeMaildir creates cur/, new/ and tmp/ under dir; sub marks a
// Maildir++ subfolder.
func makeMaildir(dir string, sub bool) error {
	for _, d := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return err
		}
	}
	if sub {
		f, err := os.OpenFile(filepath.Join(dir, "maildirfolder"), os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		f.Close()
	}
	return atomicfile.SyncDir(filepath.Dir(dir))
}

// hooks let tests fail or interrupt a delivery at a chosen step and
// watch what is fsynced; the zero value is production.
type hooks struct {
	// step runs before each step of a delivery ("stage", "place",
	// "uid", with the path it works on, and "done" before returning);
	// an error fails that step.
	step func(step, path string) error
	// synced runs after each successful fsync of a file.
	synced func(f *os.File)
	// listed runs when the poller has listed a watched folder's
	// directories, before it compares them with the snapshot.
	listed func(path string)
	// scanned runs when a folder is listed with the folder held.
	scanned func(path string)
	// persisted runs when a folder's listing cache was written.
	persisted func(path string)
	// uidListRead runs when a folder's UID list is read from its file.
	uidListRead func(path string)
}

func (s *Store) step(name, path string) error {
	if s.hooks.step == nil {
		return nil
	}
	return s.hooks.step(name, path)
}

// fsync makes f's data durable.
func (s *Store) fsync(f *os.File) error {
	if err := f.Sync(); err != nil {
		return err
	}
	if s.hooks.synced != nil {
		s.hooks.synced(f)
	}
	return nil
}

// Folders returns the names of user's folders, INBOX first and the
// rest sorted. A user with no Maildir yet has just INBOX.
func (s *Store) Folders(user string) ([]string, error) {
	home, err := s.folderDir(user, Inbox)
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(home)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("mailstore: %w", err)
	}
	var names []string
	for _, e := range ents {
		n := e.Name()
		if !e.IsDir() || len(n) < 2 || n[0] != '.' || n == ".." {
			continue
		}
		if _, err := os.Stat(filepath.Join(home, n, "cur")); err != nil {
			continue
		}
		names = append(names, strings.ReplaceAll(n[1:], ".", "/"))
	}
	sort.Strings(names)
	return append([]string{Inbox}, names...), nil
}

// CreateFolder makes a new folder for user.
func (s *Store) CreateFolder(user, name string) error {
	if isInbox(name) {
		return fmt.Errorf("%w: INBOX", ErrFolderExists)
	}
	dir, err := s.folderDir(user, name)
	if err != nil {
		return err
	}
	if err := makeMaildir(filepath.Join(s.dir, user), false); err != nil {
		return fmt.Errorf("mailstore: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s", ErrFolderExists, name)
		}
		return fmt.Errorf("mailstore: %w", err)
	}
	if err := makeMaildir(dir, true); err != nil {
		return fmt.Errorf("mailstore: %w", err)
	}
	return nil
}

// DeleteFolder removes a folder and its messages (not its subfolders).
// The folder is first renamed away, so it vanishes at once.
func (s *Store) DeleteFolder(user, name string) error {
	if isInbox(name) {
		return fmt.Errorf("%w: INBOX cannot be deleted", ErrBadName)
	}
	dir, err := s.folderDir(user, name)
	if err != nil {
		return err
	}
	trash := filepath.Join(filepath.Dir(dir), "plumb-trash-"+uniqueName(time.Now()))
	if err := os.Rename(dir, trash); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %s", ErrNoSuchFolder, name)
		}
		return fmt.Errorf("mailstore: %w", err)
	}
	s.mu.Lock()
	if f := s.folders[dir]; f != nil {
		f.closeLock()
		delete(s.folders, dir)
	}
	delete(s.usage, user)
	s.mu.Unlock()
	s.notify(dir, false)
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Errorf("mailstore: %w", err)
	}
	return atomicfile.SyncDir(filepath.Dir(dir))
}

// RenameFolder renames a folder and its subfolders.
func (s *Store) RenameFolder(user, from, to string) error {
	if isInbox(from) || isInbox(to) {
		return fmt.Errorf("%w: INBOX cannot be renamed", ErrBadName)
	}
	src, err := s.folderDir(user, from)
	if err != nil {
		return err
	}
	dst, err := s.folderDir(user, to)
	if err != nil {
		return err
	}
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("%w: %s", ErrNoSuchFolder, from)
	}
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("%w: %s", ErrFolderExists, to)
	}
	home := filepath.Dir(src)
	ents, err := os.ReadDir(home)
	if err != nil {
		return fmt.Errorf("mailstore: %w", err)
	}
	s.forget(src)
	defer s.notify(src, true)
	srcBase, dstBase := filepath.Base(src), filepath.Base(dst)
	for _, e := range ents {
		n := e.Name()
		if n != srcBase && !strings.HasPrefix(n, srcBase+".") {
			continue
		}
		if err := os.Rename(filepath.Join(home, n), filepath.Join(home, dstBase+n[len(srcBase):])); err != nil {
			return fmt.Errorf("mailstore: %w", err)
		}
	}
	return atomicfile.SyncDir(home)
}

// Usage returns the bytes user's messages take over all folders.
func (s *Store) Usage(user string) (int64, error) {
	home, err := s.folderDir(user, Inbox)
	if err != nil {
		return 0, err
	}
	var total int64
	err = filepath.WalkDir(home, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || !(strings.HasSuffix(filepath.Dir(p), "/cur") || strings.HasSuffix(filepath.Dir(p), "/new")) {
			return nil
		}
		fn, err := parseFileName(d.Name())
		if err != nil {
			return nil
		}
		if fn.size < 0 {
			fi, err := d.Info()
			if err != nil {
				return nil // vanished while we walked
			}
			fn.size = fi.Size()
		}
		total += fn.size
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("mailstore: %w", err)
	}
	return total, nil
}

// checkQuota returns a *QuotaError if size more bytes would put user
// over quota, and otherwise counts them.
func (s *Store) checkQuota(user string, size int64) error {
	if s.Quota == nil {
		return nil
	}
	limit := s.Quota(user)
	if limit <= 0 {
		return nil
	}
	s.mu.Lock()
	u := s.usage[user]
	s.mu.Unlock()
	if u == nil || time.Since(u.at) > quotaRefresh {
		n, err := s.Usage(user)
		if err != nil {
			return err
		}
		u = &usage{bytes: n, at: time.Now()}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.usage[user]; cur != nil && !cur.at.Before(u.at) {
		u = cur
	}
	if u.bytes+size > limit {
		s.usage[user] = u
		return &QuotaError{User: user, Limit: limit, Used: u.bytes, Size: size}
	}
	u.bytes += size
	s.usage[user] = u
	return nil
}

// uncount gives back bytes deleted from user's mailboxes.
func (s *Store) uncount(user string, size int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.usage[user]; u != nil {
		u.bytes = max(0, u.bytes-size)
	}
}

// userOf returns the user whose Maildir path is.
func (s *Store) userOf(path string) string {
	rel, err := filepath.Rel(s.dir, path)
	if err != nil {
		return ""
	}
	user, _, _ := strings.Cut(rel, string(filepath.Separator))
	return user
}

// copyCounting copies r to w and returns the bytes copied and the
// message's wire size (see CRLFSize).
func copyCounting(ctx context.Context, w io.Writer, r io.Reader) (size, vsize int64, err error) {
	buf := make([]byte, 64<<10)
	var prevCR, lastLF bool
	for {
		if err := ctx.Err(); err != nil {
			return size, vsize, err
		}
		n, rerr := r.Read(buf)
		if n > 0 {
			p := buf[:n]
			size += int64(n)
			vsize += int64(n)
			for i, c := range p {
				afterCR := i == 0 && prevCR || i > 0 && p[i-1] == '\r'
				if c == '\n' && !afterCR || c != '\n' && afterCR {
					vsize++ // a bare LF gets its CR, a lone CR its LF
				}
			}
			prevCR = p[n-1] == '\r'
			lastLF = p[n-1] == '\n'
			if _, err := w.Write(p); err != nil {
				return size, vsize, err
			}
		}
		if rerr == io.EOF {
			if prevCR {
				vsize++ // a lone CR at the end is a line end too
			} else if size > 0 && !lastLF {
				vsize += 2 // the CRLF the wire form ends with
			}
			return size, vsize, nil
		}
		if rerr != nil {
			return size, vsize, rerr
		}
	}
}

// CRLFSize returns the size of the message r holds in its wire form,
// as POP3 sends it through wire's dot writer and IMAP should: every bare
// LF and every lone CR made CRLF, and a CRLF added to a non-empty message
// that does not end with a line end.
func CRLFSize(r io.Reader) (int64, error) {
	_, v, err := copyCounting(context.Background(), io.Discard, r)
	return v, err
}
