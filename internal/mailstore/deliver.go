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
	"time"
)

// Deliver stores the message r holds in user's folder ("" or "INBOX" is
// the inbox, created on first delivery) and returns its UID. It returns
// only when the message is durable: written, fsynced, linked into new/
// and new/ fsynced. Over quota it returns a *QuotaError.
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
// means the delivery as a whole failed.
func (s *Store) DeliverMany(ctx context.Context, users []string, r io.Reader) (uids []uint32, err error) {
	return s.deliver(ctx, users, Inbox, r, "", time.Time{})
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

func (s *Store) deliver(ctx context.Context, users []string, folder string, r io.Reader, flags Flags, date time.Time) ([]uint32, error) {
	if len(users) == 0 {
		return nil, nil
	}
	dirs := make([]string, len(users))
	seen := make(map[string]int, len(users))
	for i, u := range users {
		d, err := s.readyDir(u, folder)
		if err != nil {
			return nil, err
		}
		dirs[i] = d
	}
	now := time.Now()
	unique := uniqueName(now)
	tmpName := filepath.Join(dirs[0], "tmp", unique)
	tf, err := os.OpenFile(tmpName, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("mailstore: %w", err)
	}
	defer os.Remove(tmpName)
	size, vsize, err := copyCounting(ctx, tf, r)
	if err == nil {
		err = tf.Sync()
	}
	if cerr := tf.Close(); err == nil {
		err = cerr
	}
	if err == nil && !date.IsZero() {
		err = os.Chtimes(tmpName, date, date)
	}
	if err != nil {
		return nil, fmt.Errorf("mailstore: writing %s: %w", tmpName, err)
	}
	key := unique + ",S=" + strconv.FormatInt(size, 10) + ",W=" + strconv.FormatInt(vsize, 10)
	rel := "new/" + key
	if flags != "" {
		rel = "cur/" + key + ":2," + string(flags)
	}
	uids := make([]uint32, len(users))
	var quotaErrs []error
	var linked []int
	for i, u := range users {
		if j, dup := seen[dirs[i]]; dup {
			uids[i] = uids[j] // filled in below from the first occurrence
			continue
		}
		seen[dirs[i]] = i
		if err := s.checkQuota(u, size); err != nil {
			quotaErrs = append(quotaErrs, err)
			continue
		}
		if err := os.Link(tmpName, filepath.Join(dirs[i], rel)); err != nil {
			return nil, fmt.Errorf("mailstore: delivering to %s: %w", u, err)
		}
		linked = append(linked, i)
	}
	for _, i := range linked {
		if err := syncDir(filepath.Join(dirs[i], filepath.Dir(rel))); err != nil {
			return nil, fmt.Errorf("mailstore: %w", err)
		}
	}
	for _, i := range linked {
		f := s.folder(dirs[i])
		err := f.withLock(func() error {
			uid, err := f.add(key, rel)
			uids[i] = uid
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	for i := range users {
		uids[i] = uids[seen[dirs[i]]]
	}
	return uids, errors.Join(quotaErrs...)
}
