package newsstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/plumbnet/plumb/internal/atomicfile"
)

// GroupsFile, in the store's directory, is the operator's list of
// groups: `plumb news group add|del` edits it (with the store open in
// a running daemon or not), and the store applies it when it changes.
const GroupsFile = "groups.json"

type groupsVersion struct {
	mod  time.Time
	size int64
}

// ReadGroups returns the groups file of the store in dir.
func ReadGroups(dir string) ([]GroupConfig, error) {
	b, err := os.ReadFile(filepath.Join(dir, GroupsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("newsstore: %w", err)
	}
	var gs []GroupConfig
	if err := json.Unmarshal(b, &gs); err != nil {
		return nil, fmt.Errorf("newsstore: %s: %w", GroupsFile, err)
	}
	return gs, nil
}

// EditGroups changes the groups file of the store in dir under a lock,
// atomically.
func EditGroups(dir string, edit func([]GroupConfig) ([]GroupConfig, error)) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("newsstore: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "groups.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("newsstore: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("newsstore: lock: %w", err)
	}
	gs, err := ReadGroups(dir)
	if err != nil {
		return err
	}
	if gs, err = edit(gs); err != nil {
		return err
	}
	slices.SortFunc(gs, func(a, b GroupConfig) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	b, err := json.MarshalIndent(gs, "", "  ")
	if err != nil {
		return fmt.Errorf("newsstore: %w", err)
	}
	return atomicfile.WriteFile(filepath.Join(dir, GroupsFile), append(b, '\n'), 0o600)
}

// AddGroup adds a group to the groups file of the store in dir.
func AddGroup(dir string, cfg GroupConfig) error {
	if !ValidGroupName(cfg.Name) {
		return fmt.Errorf("%w: %q", ErrBadName, cfg.Name)
	}
	switch cfg.Status {
	case 0:
		cfg.Status = Posting
	case Posting, ReadOnly, Moderated:
	default:
		return fmt.Errorf("newsstore: bad status %q (want y, n or m)", cfg.Status)
	}
	if cfg.Status == Moderated && cfg.Moderator == "" {
		return errors.New("newsstore: a moderated group needs a moderator")
	}
	if cfg.Created.IsZero() {
		cfg.Created = time.Now().UTC().Truncate(time.Second)
	}
	return EditGroups(dir, func(gs []GroupConfig) ([]GroupConfig, error) {
		if slices.ContainsFunc(gs, func(g GroupConfig) bool { return g.Name == cfg.Name }) {
			return nil, fmt.Errorf("%w: %s", ErrGroupExist, cfg.Name)
		}
		return append(gs, cfg), nil
	})
}

// DeleteGroup removes a group from the groups file of the store in dir.
func DeleteGroup(dir, name string) error {
	return EditGroups(dir, func(gs []GroupConfig) ([]GroupConfig, error) {
		i := slices.IndexFunc(gs, func(g GroupConfig) bool { return g.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("%w: %s", ErrNoGroup, name)
		}
		return slices.Delete(gs, i, i+1), nil
	})
}

// AddGroup adds a group to the store's groups file and applies it.
func (s *Store) AddGroup(cfg GroupConfig) error {
	if err := AddGroup(s.dir, cfg); err != nil {
		return err
	}
	return s.refresh()
}

// DeleteGroup removes a group from the store's groups file and applies it.
func (s *Store) DeleteGroup(name string) error {
	if err := DeleteGroup(s.dir, name); err != nil {
		return err
	}
	return s.refresh()
}

// refresh applies the groups file when it changed since last applied.
// A missing file changes nothing: it is never removed by EditGroups
// (no groups is "[]"), so its absence is an accident or a restore in
// progress, not an order to delete every group and its articles.
func (s *Store) refresh() error {
	st, err := os.Stat(filepath.Join(s.dir, GroupsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("newsstore: %w", err)
	}
	v := groupsVersion{st.ModTime(), st.Size()}
	s.mu.RLock()
	same := v == s.groupsV
	s.mu.RUnlock()
	if same {
		return nil
	}
	gs, err := ReadGroups(s.dir)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[string]bool{}
	for _, g := range gs {
		want[g.Name] = true
		if err := s.setGroup(g); err != nil {
			return err
		}
	}
	for name := range s.groups {
		if !want[name] {
			if err := s.deleteGroup(name); err != nil {
				return err
			}
		}
	}
	s.groupsV = v
	return nil
}

func (s *Store) refreshLogged() {
	if err := s.refresh(); err != nil {
		slog.Default().Error("newsstore: applying the groups file", "err", err)
	}
}
