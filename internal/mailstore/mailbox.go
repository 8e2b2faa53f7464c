package mailstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/plumbnet/plumb/internal/atomicfile"
)

// Message is one message of a folder as last listed.
type Message struct {
	UID      uint32
	Key      string // the unique part of the file name, stable across flag changes
	Flags    Flags
	Size     int64 // bytes in the file
	CRLFSize int64 // bytes in the wire form (see the function CRLFSize); -1 if not known yet (see Mailbox.CRLFSize)
	Path     string
	Recent   bool // still in new/: no reader has seen it
}

// InternalDate returns when the message arrived: the file's mtime, as
// Dovecot and other Maildir readers take it.
func (m Message) InternalDate() (time.Time, error) {
	fi, err := os.Stat(m.Path)
	if err != nil {
		return time.Time{}, fmt.Errorf("mailstore: %w", err)
	}
	return fi.ModTime(), nil
}

// Mailbox is a handle on one folder of one user. Several handles may be
// open on one folder; one taken with Store.Lock is exclusive.
type Mailbox struct {
	store *Store
	f     *folder
	user  string
	name  string
	lock  *os.File
}

// Mailbox opens user's folder. The inbox is created if missing; any
// other folder must exist (ErrNoSuchFolder).
func (s *Store) Mailbox(ctx context.Context, user, folder string) (*Mailbox, error) {
	dir, err := s.readyDir(user, folder)
	if err != nil {
		return nil, err
	}
	if isInbox(folder) {
		folder = Inbox
	}
	return &Mailbox{store: s, f: s.folder(dir), user: user, name: folder}, nil
}

// Lock opens user's folder exclusively, as POP3 holds a maildrop: a
// second Lock on the same folder, in this process or another, fails
// with ErrLocked until Close. The lock is a flock on plumb-pop3.lock
// that the kernel drops if the process dies.
func (s *Store) Lock(ctx context.Context, user, folder string) (*Mailbox, error) {
	m, err := s.Mailbox(ctx, user, folder)
	if err != nil {
		return nil, err
	}
	lf, err := os.OpenFile(filepath.Join(m.f.path, "plumb-pop3.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("mailstore: %w", err)
	}
	if err := flock(lf, true); err != nil {
		lf.Close()
		if errors.Is(err, errLockBusy) {
			return nil, ErrLocked
		}
		return nil, fmt.Errorf("mailstore: %w", err)
	}
	m.lock = lf
	return m, nil
}

// Name returns the folder's name ("INBOX" for the inbox).
func (m *Mailbox) Name() string { return m.name }

// Close releases the handle and its lock, if any.
func (m *Mailbox) Close() error {
	if m.lock == nil {
		return nil
	}
	funlock(m.lock)
	err := m.lock.Close()
	m.lock = nil
	return err
}

// UIDValidity returns the folder's UIDVALIDITY and the UID the next
// message will get.
func (m *Mailbox) UIDValidity() (validity, next uint32, err error) {
	err = m.f.withLock(func() error {
		validity, next = m.f.list.validity, m.f.list.next
		return nil
	})
	return validity, next, err
}

// Open opens message uid for reading.
func (m *Mailbox) Open(uid uint32) (*os.File, error) {
	m.f.mu.Lock()
	rel, ok := m.f.places()[uid]
	m.f.mu.Unlock()
	if ok {
		f, err := openRead(filepath.Join(m.f.path, rel))
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("mailstore: %w", err)
		}
	}
	// Moved (flags changed) or never listed: list again and retry once.
	var path string
	err := m.f.withLock(func() error {
		if _, err := m.f.scan(); err != nil {
			return err
		}
		rel, ok := m.f.places()[uid]
		if !ok {
			return fmt.Errorf("%w: UID %d", ErrNoSuchMessage, uid)
		}
		path = filepath.Join(m.f.path, rel)
		return nil
	})
	if err != nil {
		return nil, err
	}
	f, err := openRead(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: UID %d", ErrNoSuchMessage, uid)
		}
		return nil, fmt.Errorf("mailstore: %w", err)
	}
	return f, nil
}

// CRLFSize returns msg's wire size (see the function CRLFSize), reading the file
// once if its name does not carry it, and remembering the answer.
func (m *Mailbox) CRLFSize(msg Message) (int64, error) {
	if msg.CRLFSize >= 0 {
		return msg.CRLFSize, nil
	}
	m.f.mu.Lock()
	v, ok := m.f.vsizes[msg.Key]
	m.f.mu.Unlock()
	if ok {
		return v, nil
	}
	f, err := m.Open(msg.UID)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	v, err = CRLFSize(f)
	if err != nil {
		return 0, fmt.Errorf("mailstore: %w", err)
	}
	m.f.mu.Lock()
	if m.f.vsizes != nil {
		m.f.vsizes[msg.Key] = v
	}
	m.f.mu.Unlock()
	return v, nil
}

// Delete removes the messages uids for good (POP3's UPDATE state, IMAP's
// EXPUNGE). UIDs not in the folder are ignored.
func (m *Mailbox) Delete(ctx context.Context, uids ...uint32) error {
	if len(uids) == 0 {
		return nil
	}
	set := make(map[uint32]bool, len(uids))
	for _, u := range uids {
		set[u] = true
	}
	var freed int64
	err := m.f.withLock(func() error {
		for u := range set {
			if _, ok := m.f.places()[u]; !ok {
				if _, err := m.f.scan(); err != nil {
					return err
				}
				break
			}
		}
		var in [2]bool
		for u := range set {
			if rel, ok := m.f.places()[u]; ok {
				in[dirOf(rel)] = true
			}
		}
		err := m.f.changeFile(in, func() error {
			for u := range set {
				rel, ok := m.f.places()[u]
				if !ok {
					continue
				}
				p := filepath.Join(m.f.path, rel)
				if fi, err := os.Stat(p); err == nil {
					freed += fi.Size()
				}
				if fn, err := parseFileName(filepath.Base(rel)); err == nil {
					m.f.ownChange(fn.key)
				}
				if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("mailstore: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, d := range []string{"new", "cur"} {
			if err := atomicfile.SyncDir(filepath.Join(m.f.path, d)); err != nil {
				return fmt.Errorf("mailstore: %w", err)
			}
		}
		return m.f.remove(set)
	})
	if freed > 0 {
		m.store.uncount(m.user, freed)
	}
	m.store.notify(m.f.path, false)
	return err
}

// SetFlags replaces message uid's flags, moving it to cur/ as a reader
// that has seen it must.
func (m *Mailbox) SetFlags(ctx context.Context, uid uint32, flags Flags) error {
	flags = NewFlags(string(flags))
	_, err := m.changeFlags(uid, func(Flags) Flags { return flags })
	return err
}

// AddFlags adds letters to message uid's flags as the file's name has
// them now, under the folder's lock, and returns the flags it then has:
// a change another reader made meanwhile is kept, not overwritten from
// a stale listing.
func (m *Mailbox) AddFlags(ctx context.Context, uid uint32, letters Flags) (Flags, error) {
	return m.changeFlags(uid, func(f Flags) Flags { return f.With(string(letters)) })
}

// RemoveFlags removes letters from message uid's flags as AddFlags adds them.
func (m *Mailbox) RemoveFlags(ctx context.Context, uid uint32, letters Flags) (Flags, error) {
	return m.changeFlags(uid, func(f Flags) Flags { return f.Without(string(letters)) })
}

// SyncFlags makes the flag changes made so far durable: a flag change
// is a rename, in cur/ or from new/ to it, which a crash could undo
// until both directories are synced. SetFlags, AddFlags and RemoveFlags
// leave this to the caller, so that a thousand changes cost one sync.
func (m *Mailbox) SyncFlags() error {
	for _, d := range []string{"cur", "new"} {
		if err := atomicfile.SyncDir(filepath.Join(m.f.path, d)); err != nil {
			return fmt.Errorf("mailstore: %w", err)
		}
	}
	return nil
}

// changeFlags renames message uid from its current name to one with
// change(current flags), under the folder's lock.
func (m *Mailbox) changeFlags(uid uint32, change func(Flags) Flags) (Flags, error) {
	var flags Flags
	renamed := false
	err := m.f.withLock(func() error {
		for attempt := 0; ; attempt++ {
			rel, ok := m.f.places()[uid]
			if !ok && attempt == 0 {
				if _, err := m.f.scan(); err != nil {
					return err
				}
				continue
			}
			if !ok {
				return fmt.Errorf("%w: UID %d", ErrNoSuchMessage, uid)
			}
			fn, err := parseFileName(filepath.Base(rel))
			if err != nil {
				return fmt.Errorf("mailstore: %w", err)
			}
			flags = change(fn.flags)
			fn.flags = flags
			to := "cur/" + fn.name(true)
			if to == rel {
				// Nothing to rename if the name is still the file's:
				// another program may have renamed it since the scan.
				_, err = os.Lstat(filepath.Join(m.f.path, rel))
			} else {
				var in [2]bool
				in[dirOf(rel)], in[dirOf(to)] = true, true
				err = m.f.changeFile(in, func() error { return renameFile(filepath.Join(m.f.path, rel), filepath.Join(m.f.path, to)) })
			}
			if errors.Is(err, fs.ErrNotExist) && attempt == 0 {
				if _, err := m.f.scan(); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return fmt.Errorf("mailstore: %w", err)
			}
			m.f.places()[uid] = to
			renamed = to != rel
			if renamed {
				m.f.touched(uid)
				m.f.ownChange(fn.key)
			}
			return nil
		}
	})
	if renamed { // the watchers need not look again for nothing
		m.store.notify(m.f.path, false)
	}
	return flags, err
}

// Append stores a message in this folder with flags and an internal
// date (zero: now), as IMAP APPEND does, and returns its UID. It is as
// durable as Store.Deliver.
func (m *Mailbox) Append(ctx context.Context, r io.Reader, flags Flags, date time.Time) (uint32, error) {
	uids, err := m.store.deliver(ctx, []string{m.user}, m.name, r, NewFlags(string(flags)), date)
	if err != nil {
		return 0, err
	}
	return uids[0], nil
}
