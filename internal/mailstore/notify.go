package mailstore

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/plumbnet/plumb/internal/atomicfile"
)

// A watcher is one subscriber to a folder's changes.
type watcher struct{ ch chan struct{} }

// Watch returns a channel that receives a value soon after user's
// folder changes through this Store: a delivery, an APPEND, a flag
// change, a deletion, the folder renamed or deleted. Signals coalesce:
// a reader that was busy finds one value for many changes, and then
// looks at the folder itself. Changes other programs make to the
// Maildir (a file dropped into new/) are signaled too, within about
// watchPoll (see pollWatched). stop ends the subscription.
func (s *Store) Watch(user, folder string) (ch <-chan struct{}, stop func(), err error) {
	dir, err := s.folderDir(user, folder)
	if err != nil {
		return nil, nil, err
	}
	w := &watcher{ch: make(chan struct{}, 1)}
	s.mu.Lock()
	if s.watchers == nil {
		s.watchers = map[string][]*watcher{}
	}
	s.watchers[dir] = append(s.watchers[dir], w)
	if !s.polling {
		s.polling = true
		go s.pollWatched()
	}
	s.mu.Unlock()
	return w.ch, func() {
		s.mu.Lock()
		s.watchers[dir] = slices.DeleteFunc(s.watchers[dir], func(x *watcher) bool { return x == w })
		if len(s.watchers[dir]) == 0 {
			delete(s.watchers, dir)
		}
		s.mu.Unlock()
		// A scan of the poller's that began before is over when stop
		// returns: nothing is written to the folder for this watcher
		// after (a caller may remove the Maildir next).
		s.scanMu.Lock()
		s.scanMu.Unlock()
	}, nil
}

// notify signals the watchers of the folder at dir (and, for a rename
// or deletion, of the folders under it).
func (s *Store) notify(dir string, subtree bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	signal := func(ws []*watcher) {
		for _, w := range ws {
			select {
			case w.ch <- struct{}{}:
			default:
			}
		}
	}
	if !subtree { // a message's change: the folder's own watchers alone
		signal(s.watchers[dir])
		return
	}
	for d, ws := range s.watchers {
		if d == dir || strings.HasPrefix(d, dir+".") {
			signal(ws)
		}
	}
}

// subscriptionsFile lists a user's subscribed folders, one a line, in
// the Maildir's root, as Dovecot and Courier keep it.
const subscriptionsFile = "subscriptions"

// Subscriptions returns the folders user is subscribed to.
func (s *Store) Subscriptions(user string) ([]string, error) {
	home, err := s.folderDir(user, Inbox)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(home, subscriptionsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("mailstore: %w", err)
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		// Dovecot 2.3 starts the file with a version line "V\t2".
		if line == "" || strings.HasPrefix(line, "V\t") {
			continue
		}
		names = append(names, strings.ReplaceAll(line, "\t", "/"))
	}
	return names, nil
}

// SetSubscribed subscribes user to folder or unsubscribes, atomically.
func (s *Store) SetSubscribed(user, folder string, on bool) error {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	names, err := s.Subscriptions(user)
	if err != nil {
		return err
	}
	names = slices.DeleteFunc(names, func(n string) bool { return n == folder })
	if on {
		names = append(names, folder)
	}
	home, _ := s.folderDir(user, Inbox)
	if err := os.MkdirAll(home, 0o700); err != nil {
		return fmt.Errorf("mailstore: %w", err)
	}
	var b bytes.Buffer
	for _, n := range names {
		b.WriteString(n + "\n")
	}
	if err := atomicfile.WriteFile(filepath.Join(home, subscriptionsFile), b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("mailstore: %w", err)
	}
	return nil
}
