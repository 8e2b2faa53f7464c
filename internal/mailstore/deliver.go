package mailstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/plumbnet/plumb/internal/atomicfile"
)

// Deliver stores the message r holds in user's folder ("" or "INBOX" is
// the inbox, created on first delivery) and returns its UID. It returns
// only when the message and its UID are durable: written, fsynced,
// moved into new/, new/ fsynced, the UID appended to the folder's UID
// list and the list fsynced. Over quota it returns a *QuotaError.
func (s *Store) Deliver(ctx context.Context, user, folder string, r io.Reader) (uint32, error) {
	uids, err := s.deliver(ctx, []string{user}, folder, r, "", time.Time{})
	if err != nil {
		return 0, err
	}
	return uids[0], nil
}

// DeliverMany stores one message in the inbox of each of users: it is
// written and fsynced once and hard-linked into every Maildir. uids[i]
// is the UID in users[i]'s inbox, or 0 if that user is over quota; err
// then joins each *QuotaError (errors.Is(err, ErrQuotaExceeded)), and
// the message was still delivered to every other user. Any other error
// means the delivery as a whole failed and no user has the message, so
// the sender may safely try again.
//
// A user may be given as "user/Folder" to deliver into that folder of
// the user's (a plus-address rule); if the folder does not exist the
// message goes to the inbox.
func (s *Store) DeliverMany(ctx context.Context, users []string, r io.Reader) (uids []uint32, err error) {
	return s.deliver(ctx, users, Inbox, r, "", time.Time{})
}

// SplitTarget splits a delivery target "user/Folder" into the user and
// the folder; a plain "user" is def, the folder the caller asked for.
func SplitTarget(target, def string) (user, folder string) {
	if u, f, ok := strings.Cut(target, "/"); ok && f != "" {
		return u, f
	}
	return target, def
}

// CheckQuota returns a *QuotaError if size more bytes would put user
// over quota (as SMTP's SIZE parameter allows asking before DATA).
func (s *Store) CheckQuota(user string, size int64) error {
	if s.Quota == nil {
		return nil
	}
	limit := s.Quota(user)
	if limit <= 0 {
		return nil
	}
	used, err := s.Usage(user)
	if err != nil {
		return err
	}
	if used+size > limit {
		return &QuotaError{User: user, Limit: limit, Used: used, Size: size}
	}
	return nil
}

// readyDir returns folder's Maildir path for user, creating the inbox.
func (s *Store) readyDir(user, folder string) (string, error) {
	dir, err := s.folderDir(user, folder)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(dir, "tmp")); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("mailstore: %w", err)
		}
		if !isInbox(folder) {
			return "", fmt.Errorf("%w: %s", ErrNoSuchFolder, folder)
		}
		if err := makeMaildir(dir, false); err != nil {
			return "", fmt.Errorf("mailstore: %w", err)
		}
	}
	return dir, nil
}

// deliver writes the message once and links it into every user's
// folder, all or nothing: a hard link is first staged in each Maildir's
// tmp/, and only when every one exists are they renamed into new/ (or
// cur/), so the usual failures (a full disk, a broken Maildir) leave no
// recipient with a copy, and a client retrying after a 4xx reply does
// not duplicate the message. A later failure (a rename, an fsync, the
// UID list) removes the copies already placed. Users over quota are
// skipped, not failed (see DeliverMany).
func (s *Store) deliver(ctx context.Context, users []string, folder string, r io.Reader, flags Flags, date time.Time) ([]uint32, error) {
	if len(users) == 0 {
		return nil, nil
	}
	dirs := make([]string, len(users))
	owners := make([]string, len(users))
	for i, u := range users {
		owner, f := SplitTarget(u, folder)
		d, err := s.readyDir(owner, f)
		if errors.Is(err, ErrNoSuchFolder) && f != folder {
			d, err = s.readyDir(owner, folder)
		}
		if err != nil {
			return nil, err
		}
		dirs[i], owners[i] = d, owner
	}
	unique := uniqueName(time.Now())
	tmpName := filepath.Join(dirs[0], "tmp", unique)
	size, vsize, err := s.writeTmp(ctx, tmpName, r, date)
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmpName) // gone already if dirs[0] took it
	key := unique + ",S=" + strconv.FormatInt(size, 10) + ",W=" + strconv.FormatInt(vsize, 10)
	rel := "new/" + key
	if flags != "" {
		rel = "cur/" + key + ":2," + string(flags)
	}

	d := delivery{s: s, tmpName: tmpName, rel: rel, size: size}
	first := make(map[string]int, len(users)) // Maildir -> index of its first user
	var quotaErrs []error
	for i, u := range owners {
		if _, dup := first[dirs[i]]; dup {
			continue
		}
		first[dirs[i]] = i
		if err := s.checkQuota(u, size); err != nil {
			quotaErrs = append(quotaErrs, err)
			continue
		}
		d.copies = append(d.copies, &copyOf{user: u, dir: dirs[i], index: i})
	}
	if err := d.run(unique, key); err != nil {
		return nil, err
	}
	for _, c := range d.copies {
		s.notify(c.dir, false)
	}
	uids := make([]uint32, len(users))
	for _, c := range d.copies {
		uids[c.index] = c.uid
	}
	for i := range users {
		uids[i] = uids[first[dirs[i]]]
	}
	return uids, errors.Join(quotaErrs...)
}

// writeTmp writes r to the new file name, with date as its mtime when
// set, and fsyncs it. The date is set before the fsync so that one
// fsync makes both durable.
func (s *Store) writeTmp(ctx context.Context, name string, r io.Reader, date time.Time) (size, vsize int64, err error) {
	tf, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, 0, fmt.Errorf("mailstore: %w", err)
	}
	size, vsize, err = copyCounting(ctx, tf, r)
	if err == nil && !date.IsZero() {
		err = os.Chtimes(name, date, date)
	}
	if err == nil {
		err = s.fsync(tf)
	}
	if cerr := tf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return 0, 0, fmt.Errorf("mailstore: writing %s: %w", name, err)
	}
	return size, vsize, nil
}

// delivery is one message on its way into several Maildirs.
type delivery struct {
	s       *Store
	tmpName string // the written file, in the first user's tmp/
	rel     string // where a copy goes in a Maildir: new/<key> or cur/<key>:2,<flags>
	size    int64
	copies  []*copyOf
}

// copyOf is one recipient Maildir's copy.
type copyOf struct {
	user   string
	dir    string
	index  int    // in the users given to deliver
	staged string // its link in dir/tmp/, until placed
	placed bool   // renamed into new/ or cur/
	uid    uint32
}

// run stages, places and numbers every copy; on failure it undoes what
// was done and returns the error.
func (d *delivery) run(unique, key string) error {
	defer func() { // placed, numbered or undone: the poller may look at the file
		for _, c := range d.copies {
			f := d.s.folder(c.dir)
			f.mu.Lock()
			f.ownChange(key)
			f.mu.Unlock()
		}
	}()
	err := d.stage(unique)
	if err == nil {
		err = d.place(key)
	}
	if err == nil {
		err = d.number(key)
	}
	if err == nil {
		err = d.s.step("done", d.tmpName)
	}
	if err != nil {
		d.undo()
	}
	return err
}

// stage makes every copy's link in its Maildir's tmp/; the first
// Maildir's is the written file itself.
func (d *delivery) stage(unique string) error {
	for _, c := range d.copies {
		c.staged = filepath.Join(c.dir, "tmp", unique)
		if c.staged == d.tmpName {
			continue
		}
		if err := d.s.step("stage", c.staged); err != nil {
			return fmt.Errorf("mailstore: delivering to %s: %w", c.user, err)
		}
		if err := os.Link(d.tmpName, c.staged); err != nil {
			c.staged = ""
			return fmt.Errorf("mailstore: delivering to %s: %w", c.user, err)
		}
	}
	return nil
}

// place renames every staged link into new/ (or cur/) and fsyncs those
// directories: from here on readers see the message.
func (d *delivery) place(key string) error {
	for _, c := range d.copies {
		to := filepath.Join(c.dir, d.rel)
		if err := d.s.step("place", to); err != nil {
			return fmt.Errorf("mailstore: delivering to %s: %w", c.user, err)
		}
		// The folder's poller tells this change from one made behind
		// the store, and leaves the file out until it has its UID.
		f := d.s.folder(c.dir)
		f.mu.Lock()
		var in [2]bool
		in[dirOf(d.rel)] = true
		err := f.changeFile(in, func() error { return os.Rename(c.staged, to) })
		f.placing(key)
		f.mu.Unlock()
		if err != nil {
			return fmt.Errorf("mailstore: delivering to %s: %w", c.user, err)
		}
		c.placed, c.staged = true, ""
	}
	for _, c := range d.copies {
		if err := atomicfile.SyncDir(filepath.Join(c.dir, filepath.Dir(d.rel))); err != nil {
			return fmt.Errorf("mailstore: delivering to %s: %w", c.user, err)
		}
	}
	return nil
}

// number gives every copy its UID, each made durable in its folder's
// UID list before any is returned.
func (d *delivery) number(key string) error {
	for _, c := range d.copies {
		if err := d.s.step("uid", c.dir); err != nil {
			return fmt.Errorf("mailstore: delivering to %s: %w", c.user, err)
		}
		f := d.s.folder(c.dir)
		err := f.withLock(func() error {
			uid, err := f.add(key, d.rel)
			c.uid = uid
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// undo removes every copy made so far and gives back the quota they
// took. A UID already given to a removed copy is dropped from its list
// at the next listing, as for a message another tool deleted.
func (d *delivery) undo() {
	synced := map[string]bool{}
	for _, c := range d.copies {
		d.s.uncount(c.user, d.size)
		var p string
		switch {
		case c.placed:
			p = filepath.Join(c.dir, d.rel)
		case c.staged != "" && c.staged != d.tmpName:
			p = c.staged
		default:
			continue
		}
		var err error
		if c.placed { // out of new/ or cur/: a change the poller tells from others'
			f := d.s.folder(c.dir)
			f.mu.Lock()
			var in [2]bool
			in[dirOf(d.rel)] = true
			err = f.changeFile(in, func() error { return os.Remove(p) })
			f.mu.Unlock()
		} else {
			err = os.Remove(p)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			d.s.logger().Error("mailstore: removing a copy of a failed delivery", "path", p, "err", err)
			continue
		}
		if dir := filepath.Dir(p); c.placed && !synced[dir] {
			synced[dir] = true
			if err := atomicfile.SyncDir(dir); err != nil {
				d.s.logger().Error("mailstore: removing a copy of a failed delivery", "path", p, "err", err)
			}
		}
	}
}
