package mailstore

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// A folder keeps its last listing, the snapshot, which every handle on
// it shares: a thousand IMAP sessions watching one folder list it once
// per change, not once each. What this process changes in the folder
// patches the snapshot (a delivery appends to it, a flag change or a
// deletion marks its UID to be read again from where the file is now);
// a change made behind the store (another program's file in new/, a
// rename in cur/, another process's UID) shows in the stamps of new/,
// cur/ and the UID list, and makes the next exact listing read the
// directories again.

// uncertainAge is how close to a listing a directory may have changed
// for that listing to be in doubt: a change made just after it, within
// the same tick of the file system's clock, leaves the directory's
// mtime as it was.
const uncertainAge = time.Second

// snapshotState is the folder's snapshot and what it was read from.
// Guarded by the folder's mutex.
type snapshotState struct {
	snap    []Message       // in UID order; shared: never modified, only appended to
	dirs    [2]fileStamp    // new/ and cur/ when the snapshot was read
	at      time.Time       // when it was read
	changed bool            // this process changed the folder since the read
	patch   map[uint32]bool // UIDs whose entry to read again from where
}

// dirStamps returns the stamps of new/ and cur/.
func (f *folder) dirStamps() [2]fileStamp {
	return [2]fileStamp{f.dirStamp(0), f.dirStamp(1)}
}

// dirStamp returns the stamp of new/ (0) or cur/ (1).
func (f *folder) dirStamp(i int) fileStamp {
	if fi, err := os.Stat(filepath.Join(f.path, [2]string{"new", "cur"}[i])); err == nil {
		return stampOf(fi)
	}
	return fileStamp{}
}

// dirOf returns which of new/ (0) and cur/ (1) holds rel ("new/..." or "cur/...").
func dirOf(rel string) int {
	if strings.HasPrefix(rel, "new/") {
		return 0
	}
	return 1
}

// current reports whether the snapshot still shows the files, as far
// as the directories' stamps can tell: nothing changed here since, no
// directory changed, and none had changed too shortly before the
// listing for a later change to show. Called with the folder held.
func (f *folder) current() bool {
	s := &f.snapState
	if s.snap == nil || s.changed || len(s.patch) > 0 {
		return false
	}
	if f.dirStamps() != s.dirs {
		return false
	}
	for _, st := range s.dirs {
		if s.at.Sub(time.Unix(0, st.mtime)) < uncertainAge {
			return false
		}
	}
	return true
}

// setSnapshot records a full listing just read; dirs are the stamps of
// the directories taken before they were read.
func (f *folder) setSnapshot(msgs []Message, dirs [2]fileStamp, at time.Time) {
	f.snapState = snapshotState{snap: msgs, dirs: dirs, at: at}
}

// dropSnapshot forgets the snapshot: the next listing reads the directories.
func (f *folder) dropSnapshot() { f.snapState = snapshotState{} }

// touched marks uid's entry of the snapshot to be read again from
// where (a flag change or a removal made here).
func (f *folder) touched(uid uint32) {
	s := &f.snapState
	if s.snap == nil {
		return
	}
	if s.patch == nil {
		s.patch = map[uint32]bool{}
	}
	s.patch[uid] = true
	s.changed = true
}

// appended adds a message this process just numbered to the snapshot.
func (f *folder) appended(uid uint32, key, rel string) {
	s := &f.snapState
	if s.snap == nil {
		return
	}
	if n := len(s.snap); n > 0 && s.snap[n-1].UID >= uid {
		f.dropSnapshot()
		return
	}
	fn, err := parseFileName(filepath.Base(rel))
	if err != nil {
		f.dropSnapshot()
		return
	}
	m := Message{UID: uid, Key: key, Flags: fn.flags, Size: fn.size, CRLFSize: fn.vsize,
		Path: filepath.Join(f.path, rel), Recent: rel[0] == 'n'}
	if m.Size < 0 {
		fi, err := os.Stat(m.Path)
		if err != nil {
			f.dropSnapshot()
			return
		}
		m.Size = fi.Size()
	}
	// Appending never writes below the length another holder sees.
	s.snap = append(s.snap, m)
	s.changed = true
}

// patched applies the pending patches to the snapshot, as a new slice.
// Called with the folder held.
func (f *folder) patched() []Message {
	s := &f.snapState
	if len(s.patch) == 0 {
		return s.snap
	}
	out := make([]Message, 0, len(s.snap)+len(s.snap)/8+16)
	for _, m := range s.snap {
		if s.patch[m.UID] {
			rel, ok := f.places()[m.UID]
			if !ok {
				continue // removed
			}
			fn, err := parseFileName(filepath.Base(rel))
			if err != nil {
				continue
			}
			m.Flags, m.Path, m.Recent = fn.flags, filepath.Join(f.path, rel), rel[0] == 'n'
		}
		out = append(out, m)
	}
	s.snap, s.patch = out, nil
	return out
}

// Snapshot lists the folder in UID order, as Messages does, but returns
// the listing every handle on the folder shares: the caller must not
// modify it (append to a copy). With exact it is what Messages would
// return; without, it shows every change made through this Store (as
// Watch signals them) and may miss, for a while, one made behind it,
// and it costs no system call when nothing changed here: it is for a
// session looking again because Watch signaled.
func (m *Mailbox) Snapshot(ctx context.Context, exact bool) ([]Message, error) {
	if !exact {
		// Nothing to look at on disk: the in-process mutex guards the
		// snapshot and the patches (a thousand sessions woken at once
		// take it in turn, without a system call each).
		m.f.mu.Lock()
		msgs := m.f.snapState.snap
		if msgs != nil {
			msgs = m.f.patched()
		}
		m.f.mu.Unlock()
		if msgs != nil {
			return msgs, nil
		}
	}
	// A first listing reads plumb-listing before it holds the folder
	// (at 100,000 messages that is tens of milliseconds), and takes
	// the UID list from it too when the list is the one it was
	// written for. One read at a time: a thousand sessions that list
	// at once wait for the first one's listing.
	m.f.mu.Lock()
	if m.f.snapState.snap == nil && m.f.early == nil {
		early := make(chan readListing, 1)
		m.f.early = early
		go func() { early <- m.f.readCachedListing() }()
	}
	m.f.mu.Unlock()
	// The read is taken (or dropped) with the folder held, by the UID
	// list's load if the list must be read, or else below.
	var read *readListing
	take := func() readListing {
		if read == nil {
			early := m.f.early // read for this listing or one just before
			m.f.early = nil
			r := readListing{}
			if early != nil {
				r = <-early
			} else {
				r = m.f.readCachedListing()
			}
			read = &r
		}
		return *read
	}
	var msgs []Message
	err := m.f.withLockListing(take, func() error {
		defer func() { m.f.early = nil }() // a read not taken is dropped
		if exact && m.f.current() || !exact && m.f.snapState.snap != nil {
			msgs = m.f.patched()
			return nil
		}
		if m.f.snapState.snap == nil {
			if cached, ok := m.f.useCachedListing(take()); ok {
				msgs = cached
				return nil
			}
		}
		var err error
		msgs, err = m.f.scan()
		return err
	})
	if err != nil { // perhaps before fn took the read: a later listing must not find it
		m.f.mu.Lock()
		m.f.early = nil
		m.f.mu.Unlock()
	}
	return msgs, err
}

// Messages lists the folder in UID order, first bringing the UID list
// up to date with the files (new ones get UIDs, vanished ones go). The
// slice is the caller's.
func (m *Mailbox) Messages(ctx context.Context) ([]Message, error) {
	msgs, err := m.Snapshot(ctx, true)
	return slices.Clone(msgs), err
}
