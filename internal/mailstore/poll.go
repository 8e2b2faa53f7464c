package mailstore

import (
	"context"
	"time"
)

// watchPoll is how often the folders someone watches are looked at for
// changes made behind the store; tests shorten it.
var watchPoll = time.Second

// pollWatched finds, while any folder is watched, the changes other
// programs make to watched folders, and signals them as the store's
// own: every watchPoll it compares the stamps of each folder's new/ and
// cur/ with those it saw last, and where they moved (or moved too
// shortly before to be sure) it lists the folder exactly; only a
// listing that differs from the snapshot is signaled, so the store's
// own changes, already in the snapshot, are not signaled twice. Two
// stats a folder a second, where inotify would be Linux's alone.
func (s *Store) pollWatched() {
	seen := map[string][2]fileStamp{}
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
		for _, f := range folders {
			st := f.dirStamps()
			live[f.path] = st
			if old, ok := seen[f.path]; ok && old == st && !recent(st, now) {
				continue
			}
			if s.changedBehind(f) {
				s.notify(f.path, false)
			}
		}
		seen = live
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

// changedBehind lists f exactly and reports whether that changed its
// snapshot, which a listing that finds nothing new keeps as it was.
func (s *Store) changedBehind(f *folder) bool {
	m := &Mailbox{store: s, f: f}
	f.mu.Lock()
	before := f.snapState.snap
	if before != nil {
		before = f.patched() // the store's own changes are in it, not behind it
	}
	f.mu.Unlock()
	if before == nil {
		return false // nobody listed it yet: nothing to tell apart
	}
	after, err := m.Snapshot(context.Background(), true)
	if err != nil {
		return false
	}
	return len(before) != len(after) || len(after) > 0 && &before[0] != &after[0]
}
