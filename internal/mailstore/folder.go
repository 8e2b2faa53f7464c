package mailstore

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/plumbnet/plumb/internal/atomicfile"
)

// fileStamp tells whether the UID list changed since it was read.
type fileStamp struct {
	size  int64
	mtime int64
	ino   uint64
}

// folder is the in-process state of one Maildir, shared by every
// handle on it: the cached UID list and where each message was last seen.
type folder struct {
	store *Store
	path  string

	mu       sync.Mutex
	lockFile *os.File // plumb-uidlist.lock, kept open while cached
	ready    bool     // cur/, new/, tmp/ exist

	loaded bool
	stamp  fileStamp
	list   uidList
	byKey  map[string]uint32 // key -> uid; nil until used after a list taken from plumb-listing (see keys)
	where  map[uint32]string // uid -> "cur/<name>" or "new/<name>" from the last scan (see places)
	// whereFrom, when not nil, is the listing where is to be made
	// from when first used, each Path whereCut bytes of prefix then
	// "new/..." or "cur/...": a restart's first listing, which most
	// often needs neither map, makes neither.
	whereFrom []Message
	whereCut  int
	vsizes    map[string]int64 // computed CRLF sizes of files without ",W="
	index     *index           // plumb-index, loaded when first asked

	snapState snapshotState    // the last listing, shared (see snapshot.go)
	cachedFor [3]fileStamp     // the stamps plumb-listing was last written or loaded for (see listing.go)
	early     chan readListing // plumb-listing being read for a first listing, before the folder is held (see Snapshot)

	// This process's changes to the files, which the poller tells from
	// changes made behind the store (see poll.go).
	gen     uint64            // counts them
	own     map[string]uint64 // key -> gen of its change while the poller lists; inFlight while a delivery places it
	listing bool              // the poller is listing the directories
	chain   [2]fileStamp      // new/ and cur/ after this process's latest change...
	chained bool              // ...and only its own changes since a listing
	trial   [2]fileStamp      // chain from when the poller began listing
	trialOK bool
}

// withLock runs fn holding the folder: the in-process mutex and flock
// on plumb-uidlist.lock for other processes, with the UID list loaded.
func (f *folder) withLock(fn func() error) error { return f.withLockListing(nil, fn) }

// withLockListing is withLock; a UID list to be loaded is taken from the
// plumb-listing read that listing returns, if that is of the list as it
// is (see loadFrom).
func (f *folder) withLockListing(listing func() readListing, fn func() error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.ready {
		if _, err := os.Stat(filepath.Join(f.path, "cur")); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return ErrNoSuchFolder
			}
			return fmt.Errorf("mailstore: %w", err)
		}
		f.ready = true
		f.removeStaleTmp()
		f.removeListingTemps()
	}
	if f.lockFile == nil {
		lf, err := os.OpenFile(filepath.Join(f.path, uidListFile+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return fmt.Errorf("mailstore: %w", err)
		}
		f.lockFile = lf
	}
	if err := flock(f.lockFile, false); err != nil {
		return fmt.Errorf("mailstore: locking %s: %w", f.path, err)
	}
	defer funlock(f.lockFile)
	if err := f.loadFrom(listing); err != nil {
		return err
	}
	return fn()
}

func (f *folder) closeLock() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lockFile != nil {
		f.lockFile.Close()
		f.lockFile = nil
	}
	f.loaded, f.ready = false, false
	f.dropSnapshot()
}

// load reads the UID list unless the cached one is current. A missing
// list starts a new one; a corrupt one is replaced with a new
// UIDVALIDITY, which tells IMAP clients to forget their cache.
func (f *folder) load() error { return f.loadFrom(nil) }

// loadFrom is load; when the list is to be read and listing is not nil,
// it is first asked for a plumb-listing read, and a list of the stamp
// the file has now is taken from it instead of the file.
func (f *folder) loadFrom(listing func() readListing) error {
	name := filepath.Join(f.path, uidListFile)
	fi, err := os.Stat(name)
	if err == nil && f.loaded && stampOf(fi) == f.stamp {
		return nil
	}
	prevValidity := f.list.validity
	f.loaded = false
	f.dropSnapshot() // another process numbered messages, or the list is new
	f.byKey = map[string]uint32{}
	if f.vsizes == nil {
		f.vsizes = map[string]int64{}
	}
	if errors.Is(err, fs.ErrNotExist) {
		f.list = uidList{validity: newValidity(prevValidity), next: 1}
		return f.write()
	}
	if err != nil {
		return fmt.Errorf("mailstore: %w", err)
	}
	if listing != nil {
		if r := listing(); r.ok && r.c.stamps[2] == stampOf(fi) {
			f.list, f.byKey = r.c.uidList(), nil
			f.stamp, f.loaded = stampOf(fi), true
			return nil
		}
	}
	if h := f.store.hooks.uidListRead; h != nil {
		h(f.path)
	}
	b, err := readFileString(name)
	if err != nil {
		return fmt.Errorf("mailstore: %w", err)
	}
	l, byKey, err := parseUIDList(b)
	if err != nil {
		f.store.logger().Warn("mailstore: replacing a corrupt UID list", "folder", f.path, "err", err)
		// The new UIDVALIDITY must differ from the lost one, which may
		// have been taken from the clock this very second.
		base := max(prevValidity, salvageValidity(b), uint32(time.Now().Unix()))
		f.list = uidList{validity: newValidity(base), next: 1}
		return f.write()
	}
	f.list, f.byKey = l, byKey
	f.stamp = stampOf(fi)
	f.loaded = true
	return nil
}

// salvageValidity returns the UIDVALIDITY a damaged list's header
// still names, or 0.
func salvageValidity(b string) uint32 {
	header, _, _ := strings.Cut(b, "\n")
	for _, f := range strings.Fields(header) {
		if v, err := parseTagged(f, 'V'); err == nil {
			return v
		}
	}
	return 0
}

// newValidity returns a UIDVALIDITY from the clock, larger than prev.
func newValidity(prev uint32) uint32 {
	v := uint32(time.Now().Unix())
	if v <= prev {
		v = prev + 1
	}
	if v == 0 {
		v = 1
	}
	return v
}

// write replaces the UID list on disk atomically with the cached one.
func (f *folder) write() error {
	name := filepath.Join(f.path, uidListFile)
	if err := atomicfile.WriteFile(name, f.list.marshal(), 0o600); err != nil {
		return fmt.Errorf("mailstore: %w", err)
	}
	fi, err := os.Stat(name)
	if err != nil {
		return fmt.Errorf("mailstore: %w", err)
	}
	f.byKey = make(map[string]uint32, len(f.list.entries))
	for _, e := range f.list.entries {
		f.byKey[e.key] = e.uid
	}
	f.stamp, f.loaded = stampOf(fi), true
	return nil
}

// add gives key the next UID and appends it to the list, fsynced,
// unless a scan already gave it one. Called with the folder held.
func (f *folder) add(key, rel string) (uint32, error) {
	if uid, ok := f.keys()[key]; ok {
		return uid, nil
	}
	if f.list.next == ^uint32(0) {
		return 0, fmt.Errorf("mailstore: %s: UIDs exhausted", f.path)
	}
	uid := f.list.next
	line := entryLine(uid, key)
	name := filepath.Join(f.path, uidListFile)
	// Read-write: the check for a missing newline below reads.
	lf, err := os.OpenFile(name, os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return 0, fmt.Errorf("mailstore: %w", err)
	}
	defer lf.Close()
	// A list cut short by a crash may lack its last newline; the
	// cached stamp says how long the file is that we parsed.
	if f.stamp.size > 0 {
		var last [1]byte
		if _, err := lf.ReadAt(last[:], f.stamp.size-1); err == nil && last[0] != '\n' {
			line = append([]byte{'\n'}, line...)
		}
	}
	if _, err := lf.Write(line); err != nil {
		return 0, fmt.Errorf("mailstore: %w", err)
	}
	// The UID is about to be shown to a client: it must survive a
	// crash, or the message could come back under another UID. The
	// list exists (load made it, fsyncing the folder), so the file's
	// own fsync is enough.
	if err := f.store.fsync(lf); err != nil {
		return 0, fmt.Errorf("mailstore: %w", err)
	}
	fi, err := lf.Stat()
	if err != nil {
		return 0, fmt.Errorf("mailstore: %w", err)
	}
	f.stamp = stampOf(fi)
	f.list.next++
	f.list.entries = append(f.list.entries, uidEntry{uid: uid, key: key})
	f.byKey[key] = uid
	f.places()[uid] = rel
	f.appended(uid, key, rel)
	return uid, nil
}

// resetWhere empties f.where for n entries: it is made for n when it
// has none (100,000 entries grow a map slowly), and kept, with the room
// it has, when it has some.
func (f *folder) resetWhere(n int) {
	f.whereFrom = nil
	if len(f.where) == 0 {
		f.where = make(map[uint32]string, n)
		return
	}
	clear(f.where)
}

// whereLater makes f.where be msgs' places when first used: each Path
// is cut bytes of prefix, then "new/..." or "cur/...".
func (f *folder) whereLater(msgs []Message, cut int) {
	f.where, f.whereFrom, f.whereCut = nil, msgs, cut
}

// places returns f.where, made first if whereLater left it to be.
// Called with the folder held.
func (f *folder) places() map[uint32]string {
	if f.whereFrom != nil {
		msgs := f.whereFrom
		f.resetWhere(len(msgs))
		for _, m := range msgs {
			f.where[m.UID] = m.Path[f.whereCut:]
		}
	}
	if f.where == nil {
		f.where = map[uint32]string{}
	}
	return f.where
}

// keys returns f.byKey, made from the list's entries first if the
// list was taken from plumb-listing. Called with the folder held.
func (f *folder) keys() map[string]uint32 {
	if f.byKey == nil {
		f.byKey = make(map[string]uint32, len(f.list.entries))
		for _, e := range f.list.entries {
			f.byKey[e.key] = e.uid
		}
	}
	return f.byKey
}

// listing is what one reading of new/ and cur/ found: each message
// file by its key, and the stamps of the directories and the time,
// both taken before they were read.
type listing struct {
	files map[string]found
	dirs  [2]fileStamp
	at    time.Time
}

// found is one message file of a listing.
type found struct {
	rel string // "new/<name>" or "cur/<name>"
	fn  fileName
}

// listDirs reads new/ and cur/. It needs no lock: scan calls it with
// the folder held, and the poller without (see changedBehind).
func (f *folder) listDirs() (listing, error) {
	l := listing{at: time.Now(), dirs: f.dirStamps()} // before reading them: a change meanwhile shows next time
	var names [2][]string
	for i, sub := range []string{"new", "cur"} { // cur last: it wins a race with a move
		ents, err := readDirNames(filepath.Join(f.path, sub))
		if err != nil {
			return listing{}, fmt.Errorf("mailstore: %w", err)
		}
		names[i] = ents
	}
	l.files = make(map[string]found, len(names[0])+len(names[1])) // sized once: 100,000 names grow a map slowly
	for i, sub := range []string{"new", "cur"} {
		for _, n := range names[i] {
			fn, err := parseFileName(n)
			if err != nil || !validKey(fn.key) {
				continue
			}
			l.files[fn.key] = found{rel: sub + "/" + n, fn: fn}
		}
	}
	return l, nil
}

// scan lists new/ and cur/, gives UIDs to files the list does not
// know, drops entries whose file vanished, and returns the messages in
// UID order. Called with the folder held.
func (f *folder) scan() ([]Message, error) {
	if h := f.store.hooks.scanned; h != nil {
		h(f.path)
	}
	l, err := f.listDirs()
	if err != nil {
		return nil, err
	}
	return f.reconcile(l)
}

// reconcile makes the UID list, where each message is, and the snapshot
// those of listing l, which must show every change this process made
// to the folder (scan's own, or the poller's when none was made since
// it began). Called with the folder held.
func (f *folder) reconcile(l listing) ([]Message, error) {
	files, dirs, at := l.files, l.dirs, l.at
	dirty := false
	kept := f.list.entries[:0:0]
	for _, e := range f.list.entries {
		if _, ok := files[e.key]; ok {
			kept = append(kept, e)
		} else {
			dirty = true
			delete(f.vsizes, e.key)
		}
	}
	var fresh []string
	for k := range files {
		if _, ok := f.keys()[k]; !ok {
			fresh = append(fresh, k)
		}
	}
	sortKeys(fresh)
	for _, k := range fresh {
		if f.list.next == ^uint32(0) {
			return nil, fmt.Errorf("mailstore: %s: UIDs exhausted", f.path)
		}
		kept = append(kept, uidEntry{uid: f.list.next, key: k})
		f.list.next++
		dirty = true
	}
	f.list.entries = kept
	if dirty {
		if err := f.write(); err != nil {
			return nil, err
		}
	}
	msgs := make([]Message, 0, len(kept)+len(kept)/8+16) // room for deliveries to append (see appended)
	f.resetWhere(len(kept))
	for _, e := range kept {
		fd := files[e.key]
		m := Message{UID: e.uid, Key: e.key, Flags: fd.fn.flags, Size: fd.fn.size, CRLFSize: fd.fn.vsize,
			Path: filepath.Join(f.path, fd.rel), Recent: fd.rel[0] == 'n'}
		if m.Size < 0 {
			fi, err := os.Stat(m.Path)
			if err != nil {
				continue // vanished since we listed it
			}
			m.Size = fi.Size()
		}
		if m.CRLFSize < 0 {
			if v, ok := f.vsizes[e.key]; ok {
				m.CRLFSize = v
			}
		}
		f.where[e.uid] = fd.rel // made by resetWhere above
		msgs = append(msgs, m)
	}
	sort.Slice(msgs, func(i, j int) bool { return msgs[i].UID < msgs[j].UID })
	if old := f.patched(); slices.Equal(old, msgs) {
		msgs = old // the listing its holders share, unchanged
	}
	f.setSnapshot(msgs, dirs, at)
	f.chain, f.chained = dirs, true // a later change, ours or not, moves them
	f.persistListing()
	return msgs, nil
}

// staleTmpAge is how long a file may sit in tmp/ before it is taken for
// what a crash left behind (the Maildir rule: 36 hours). A delivery's
// file there is being written, or was just written, so its mtime is
// recent; an IMAP APPEND's old internal date is set moments before the
// file leaves tmp/, and a cleanup that wins that race only makes the
// APPEND fail and be retried.
const staleTmpAge = 36 * time.Hour

// removeStaleTmp removes the files in tmp/ last modified more than
// staleTmpAge ago. It runs the first time this process uses the folder,
// rather than over the whole tree in Open, because Open's directory is
// not always plumb's own (plumb mail fetch --to-maildir opens a
// Maildir's parent, which may be a home directory).
func (f *folder) removeStaleTmp() {
	dir := filepath.Join(f.path, "tmp")
	names, err := readDirNames(dir)
	if err != nil {
		f.store.logger().Warn("mailstore: listing tmp/ for leftovers", "folder", f.path, "err", err)
		return
	}
	cutoff := time.Now().Add(-staleTmpAge)
	removed := 0
	for _, n := range names {
		p := filepath.Join(dir, n)
		fi, err := os.Lstat(p)
		if err != nil || !fi.Mode().IsRegular() || !fi.ModTime().Before(cutoff) {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			f.store.logger().Warn("mailstore: removing a leftover in tmp/", "path", p, "err", err)
			continue
		}
		removed++
	}
	if removed > 0 {
		f.store.logger().Info("mailstore: removed files a crash left in tmp/", "folder", f.path, "files", removed)
	}
}

func readDirNames(dir string) ([]string, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Readdirnames(-1)
}

// readFileString returns the named file's content as one string, as
// os.ReadFile does a []byte. Its length is read first, so that the
// string is the one allocation of its size unless the file grows
// meanwhile.
func readFileString(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var b strings.Builder
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 && int64(int(fi.Size())) == fi.Size() {
		b.Grow(int(fi.Size()))
	}
	_, err = io.Copy(&b, f)
	return b.String(), err
}

// remove drops uids from the list and rewrites it. Called with the folder held.
func (f *folder) remove(uids map[uint32]bool) error {
	kept := f.list.entries[:0:0]
	for _, e := range f.list.entries {
		if uids[e.uid] {
			f.touched(e.uid)
			delete(f.keys(), e.key)
			delete(f.places(), e.uid)
			delete(f.vsizes, e.key)
			continue
		}
		kept = append(kept, e)
	}
	f.list.entries = kept
	return f.write()
}
