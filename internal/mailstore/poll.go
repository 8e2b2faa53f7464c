package mailstore

import "time"

// watchPoll is how often the folders someone watches are looked at for
// changes made behind the store; tests shorten it.
var watchPoll = time.Second

// ownRelist is how long a folder whose stamps the store's own changes
// keep moving goes unlisted at most (see pollWatched); tests shorten it.
var ownRelist = 10 * time.Second

// pollWatched finds, while any folder is watched, the changes other
// programs make to watched folders, and signals them as the store's
// own: every watchPoll it compares the stamps of each folder's new/ and
// cur/ with those it saw last, and where they moved (or moved too
// shortly before to be sure) it lists the folder (see changedBehind);
// only a listing that differs from the snapshot is signaled, so the
// store's own changes, already in the snapshot, are not signaled twice.
// Two stats a folder a second, where inotify would be Linux's alone.
//
// Stamps that moved by the store's own changes alone (see changeFile)
// are not listed for while they are recent: a folder that takes a
// delivery every few milliseconds is not read every second. Once they
// are a second old it is listed once, which finds what another program
// changed within the file system's clock tick of one of the store's
// changes, the one change the stamps cannot tell apart; while they go
// on, it is listed every ownRelist.
func (s *Store) pollWatched() {
	seen := map[string][2]fileStamp{}
	listed := map[string]time.Time{} // when each folder was last listed, or first watched
	t := time.NewTicker(watchPoll)
	defer t.Stop()
	for range t.C {
		s.scanMu.Lock()
		s.mu.Lock()
		if len(s.watchers) == 0 {
			s.polling = false
			s.mu.Unlock()
			s.scanMu.Unlock()
			return
		}
		var folders []*folder
		for dir := range s.watchers {
			if f := s.folders[dir]; f != nil {
				folders = append(folders, f)
			}
		}
		s.mu.Unlock()
		now := time.Now()
		live := map[string][2]fileStamp{}
		watched := map[string]time.Time{}
		for _, f := range folders {
			watched[f.path] = now
			if at, ok := listed[f.path]; ok {
				watched[f.path] = at
			}
			st := f.dirStamps()
			live[f.path] = st
			if old, ok := seen[f.path]; ok && old == st && !recent(st, now) {
				continue
			}
			if f.settled(st) {
				continue // a listing already saw these stamps, and no change of ours since: nothing to list
			}
			if f.ownStamps(st) && recent(st, now) && now.Sub(watched[f.path]) < ownRelist {
				delete(live, f.path) // listed once they settle
				continue
			}
			watched[f.path] = now
			if s.changedBehind(f) {
				s.notify(f.path, false)
			}
		}
		seen, listed = live, watched
		s.scanMu.Unlock()
	}
}

// recent reports whether a directory changed too shortly before now
// for a change right after to move its stamp.
func recent(st [2]fileStamp, now time.Time) bool {
	for _, d := range st {
		if now.Sub(time.Unix(0, d.mtime)) < uncertainAge {
			return true
		}
	}
	return false
}

// changeFile runs change, this process's placing, renaming or removal
// of message files in the directories dirs names (new/, cur/), and
// keeps the chain of their stamps: while each change finds them as the
// one before left them, they moved by this process's changes alone (as
// far as the stamps can tell, which is up to the file system's clock
// tick). The caller records the files' keys with ownChange or placing.
// Called with the folder's mutex held, which orders this process's
// changes.
func (f *folder) changeFile(dirs [2]bool, change func() error) error {
	if !f.chained && !(f.listing && f.trialOK) {
		return change() // no chain to keep: the next listing starts one
	}
	var pre [2]fileStamp
	for i, in := range dirs {
		if in {
			pre[i] = f.dirStamp(i)
		}
	}
	err := change()
	for i, in := range dirs {
		if !in {
			continue // a change another program makes there shows against the chain
		}
		post := f.dirStamp(i)
		f.chained = f.chained && pre[i] == f.chain[i]
		f.chain[i] = post
		if f.listing {
			f.trialOK = f.trialOK && pre[i] == f.trial[i]
			f.trial[i] = post
		}
	}
	return err
}

// settled reports whether the snapshot is of stamps st, listed when
// they were settled, with no change made here since: what a listing
// would find now.
func (f *folder) settled(st [2]fileStamp) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return st == f.snapState.dirs && f.current()
}

// ownStamps reports whether st are the stamps this process's latest
// change left, with only its own changes since a listing.
func (f *folder) ownStamps(st [2]fileStamp) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.chained && f.chain == st
}

// inFlight marks, in folder.own, a key a delivery is placing.
const inFlight = ^uint64(0)

// ownChange records that this process changed key's file (delivered,
// renamed or removed it). Called with the folder's mutex held.
func (f *folder) ownChange(key string) {
	f.gen++
	if f.listing {
		f.own[key] = f.gen
	} else {
		delete(f.own, key)
	}
}

// placing records that a delivery is about to place key's file, which
// ownChange ends. Called with the folder's mutex held.
func (f *folder) placing(key string) {
	f.gen++
	if f.own == nil {
		f.own = map[string]uint64{}
	}
	f.own[key] = inFlight
}

// changedBehind lists f and reports whether that changed its snapshot.
// The directories are read without holding the folder, so that no
// delivery, flag change or reader waits while 100,000 names are read;
// the store's own changes meanwhile are left out of the comparison with
// the snapshot, which has them already. Only a listing that shows a
// change made behind the store is taken in, under the folder's lock:
// as it is, when the store changed nothing meanwhile, or else by a
// listing under the lock. A listing that shows nothing new, with the
// store idle meanwhile, makes the snapshot current: the next exact
// Snapshot costs two stats, not a listing.
func (s *Store) changedBehind(f *folder) bool {
	f.mu.Lock()
	if f.snapState.snap == nil {
		f.mu.Unlock()
		return false // nobody listed it yet: nothing to tell apart
	}
	g0 := f.gen
	if f.own == nil {
		f.own = map[string]uint64{}
	}
	f.listing = true
	f.trial, f.trialOK = f.dirStamps(), true // before the listing: a change after shows in them
	f.mu.Unlock()

	l, err := f.listDirs()
	if s.hooks.listed != nil {
		s.hooks.listed(f.path)
	}

	f.mu.Lock()
	skip := make(map[string]bool, len(f.own))
	for k, g := range f.own {
		skip[k] = true
		if g != inFlight {
			delete(f.own, k)
		}
	}
	f.listing = false
	g1 := f.gen
	before := f.snapState.snap
	if before != nil {
		before = f.patched() // the store's own changes are in it, not behind it
	}
	f.mu.Unlock()
	if err != nil {
		return false
	}
	if before != nil && !l.differs(before, f.path, skip) {
		f.mu.Lock()
		if st := &f.snapState; f.gen == g0 && len(st.patch) == 0 && sameListing(st.snap, before) {
			st.dirs, st.at, st.changed = l.dirs, l.at, false
			f.persistListing()
		}
		if f.trialOK && f.gen == g1 {
			f.chain, f.chained = f.trial, true // every change since the listing began was ours
		}
		f.mu.Unlock()
		return false
	}
	var after []Message
	err = f.withLock(func() error {
		var err error
		if f.gen == g0 {
			after, err = f.reconcile(l)
		} else {
			after, err = f.scan()
		}
		return err
	})
	if err != nil {
		return false
	}
	return !sameListing(before, after)
}

// differs reports whether l shows a message file that snap, listed from
// the folder at base, does not have where l found it, or the other way
// round, leaving out the keys in skip.
func (l listing) differs(snap []Message, base string, skip map[string]bool) bool {
	n := 0
	for _, m := range snap {
		if skip[m.Key] {
			continue
		}
		fd, ok := l.files[m.Key]
		if !ok || len(m.Path) <= len(base) || m.Path[len(base)+1:] != fd.rel {
			return true
		}
		n++
	}
	for k := range l.files {
		if !skip[k] {
			n--
		}
	}
	return n != 0
}

// sameListing reports whether a and b are one listing (the store hands
// out the same slice while nothing changed).
func sameListing(a, b []Message) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
