package newsstore

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/plumbnet/plumb/internal/atomicfile"
	"github.com/plumbnet/plumb/nntp"
)

// DefaultHistoryKeep is how long a Message-ID is remembered after its
// article expired, when Store.HistoryKeep is zero.
const DefaultHistoryKeep = 7 * 24 * time.Hour

// Errors of the store; match them with errors.Is.
var (
	ErrNoGroup    = errors.New("newsstore: no such group")
	ErrGroupExist = errors.New("newsstore: group exists")
	ErrDuplicate  = errors.New("newsstore: article already seen")
	ErrNoArticle  = errors.New("newsstore: no such article")
	ErrNoGroups   = errors.New("newsstore: article names no group carried here")
	ErrBadName    = errors.New("newsstore: bad group name")
)

// Group status, as LIST ACTIVE shows it (RFC 3977 section 7.6.3).
const (
	Posting   = 'y'
	ReadOnly  = 'n'
	Moderated = 'm'
)

// GroupConfig is what the operator sets for a group.
type GroupConfig struct {
	Name        string        `json:"name"`
	Status      byte          `json:"status"` // Posting, ReadOnly or Moderated
	Moderator   string        `json:"moderator,omitempty"`
	Description string        `json:"description,omitempty"`
	Created     time.Time     `json:"created"`
	Creator     string        `json:"creator,omitempty"`
	MaxAge      time.Duration `json:"max_age,omitempty"`   // 0: kept for ever
	MaxCount    int           `json:"max_count,omitempty"` // 0: no limit
}

// Group is a group as readers see it.
type Group struct {
	GroupConfig
	Low, High, Count int64
}

// Overview is an article's overview data (RFC 3977 section 8.3).
type Overview struct {
	Subject    string `json:"s,omitempty"`
	From       string `json:"f,omitempty"`
	Date       string `json:"d,omitempty"`
	MessageID  string `json:"m"`
	References string `json:"r,omitempty"`
	Bytes      int64  `json:"b"`
	Lines      int64  `json:"l"`
	Xref       string `json:"x,omitempty"`
}

// Number is an article's number in one group.
type Number struct {
	Group string `json:"g"`
	N     int64  `json:"n"`
}

// Article is one stored article's record.
type Article struct {
	Overview
	Arrived time.Time `json:"t"`
	Seq     int64     `json:"seq"` // arrival order, for feeds' cursors
	Numbers []Number  `json:"nums"`
	file    string
}

type group struct {
	cfg  GroupConfig
	nums []int64            // ascending
	arts map[int64]*Article // by number
	next int64              // the next number to give
}

// record is one journal line.
type record struct {
	Op      string       `json:"op"` // seq, group, delgroup, art, expire
	Group   *GroupConfig `json:"group,omitempty"`
	Name    string       `json:"name,omitempty"`
	Next    int64        `json:"next,omitempty"`
	Art     *Article     `json:"art,omitempty"`
	ID      string       `json:"id,omitempty"`
	Groups  []string     `json:"groups,omitempty"`
	Time    time.Time    `json:"time,omitzero"`
	History bool         `json:"history,omitempty"` // an expired id remembered since Time
}

// Store is an open news spool. It is safe for concurrent use by the
// goroutines of one process; two processes must not open one directory.
type Store struct {
	// HistoryKeep is how long an expired article's Message-ID is still
	// refused; 0 means DefaultHistoryKeep.
	HistoryKeep time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Host names this server in Xref headers; empty means "localhost".
	Host string

	dir     string
	mu      sync.RWMutex
	groups  map[string]*group
	byID    map[string]*Article
	history map[string]time.Time // expired ids, by expiry time
	journal *os.File
	notify  chan struct{} // closed and replaced at every arrival
	groupsV groupsVersion // of the groups file last applied
	seq     int64         // the last arrival's Seq

	// Group commit of arrivals: records join the open batch under mu;
	// one arrival at a time (syncMu) seals a batch, appends it, fsyncs
	// the journal once for all of it and applies it.
	syncMu  sync.Mutex
	batch   *batch
	pending map[string]bool // ids claimed by an Add and not applied yet
}

type batch struct {
	buf  bytes.Buffer
	recs []record
	done chan struct{}
	err  error
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Store) keep() time.Duration {
	if s.HistoryKeep > 0 {
		return s.HistoryKeep
	}
	return DefaultHistoryKeep
}

// Open opens (creating it if needed) the spool in dir.
func Open(dir string) (*Store, error) {
	if err := makeDirs(dir); err != nil {
		return nil, fmt.Errorf("newsstore: %w", err)
	}
	s := &Store{dir: dir, groups: map[string]*group{}, byID: map[string]*Article{},
		history: map[string]time.Time{}, notify: make(chan struct{}), pending: map[string]bool{}}
	if err := s.replay(); err != nil {
		return nil, err
	}
	if err := s.compact(); err != nil {
		return nil, err
	}
	if err := s.refresh(); err != nil {
		s.journal.Close()
		return nil, err
	}
	s.removeOrphans()
	return s, nil
}

// makeDirs creates articles/ and its 256 subdirectories, and fsyncs
// the parents of any it created, so that an article's directory entry
// never depends on an unsynced directory.
func makeDirs(dir string) error {
	root := filepath.Join(dir, "articles")
	created := false
	for _, d := range []string{dir, root} {
		if _, err := os.Stat(d); errors.Is(err, os.ErrNotExist) {
			if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
				return err
			}
			created = true
		}
	}
	sub := false
	for i := range 256 {
		err := os.Mkdir(filepath.Join(root, fmt.Sprintf("%02x", i)), 0o700)
		if err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		sub = sub || err == nil
	}
	if sub {
		if err := atomicfile.SyncDir(root); err != nil {
			return err
		}
	}
	if created {
		if err := atomicfile.SyncDir(dir); err != nil {
			return err
		}
		return atomicfile.SyncDir(filepath.Dir(dir))
	}
	return nil
}

// appendJournal appends p to the journal; after a failed or short
// write it cuts the journal back to its previous size, so that the
// next append does not follow a torn line. Called with mu held.
func (s *Store) appendJournal(p []byte) error {
	if s.journal == nil {
		return errors.New("newsstore: store closed")
	}
	fi, err := s.journal.Stat()
	if err != nil {
		return fmt.Errorf("newsstore: journal: %w", err)
	}
	if _, err := s.journal.Write(p); err != nil {
		if terr := s.journal.Truncate(fi.Size()); terr != nil {
			// The journal ends in a torn line: take no more appends.
			s.journal.Close()
			s.journal = nil
			return fmt.Errorf("newsstore: journal: %w (and truncating it back: %v)", err, terr)
		}
		return fmt.Errorf("newsstore: journal: %w", err)
	}
	return nil
}

// Close closes the journal.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.journal == nil {
		return nil
	}
	err := s.journal.Close()
	s.journal = nil
	return err
}

func (s *Store) journalPath() string { return filepath.Join(s.dir, "journal") }

func (s *Store) replay() error {
	f, err := os.Open(s.journalPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("newsstore: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if err == io.EOF {
			return nil // a last line without its newline was never acknowledged
		}
		if err != nil {
			return fmt.Errorf("newsstore: reading journal: %w", err)
		}
		var r record
		if uerr := json.Unmarshal(line, &r); uerr != nil {
			// Only the last line may be torn (a crash mid-append). One
			// in the middle is damage: refuse to open rather than
			// compact it away and delete the articles it named.
			if _, perr := br.Peek(1); perr == io.EOF {
				return nil
			}
			return fmt.Errorf("newsstore: journal line %d unreadable (%v): the spool needs repair", n, uerr)
		}
		s.apply(&r)
	}
}

// apply changes the in-memory state by one record.
func (s *Store) apply(r *record) {
	switch r.Op {
	case "seq":
		s.seq = max(s.seq, r.Next)
	case "group":
		g := s.groups[r.Group.Name]
		if g == nil {
			g = &group{arts: map[int64]*Article{}, next: 1}
			s.groups[r.Group.Name] = g
		}
		g.cfg = *r.Group
		if r.Next > g.next {
			g.next = r.Next
		}
	case "delgroup":
		if g := s.groups[r.Name]; g != nil {
			for _, a := range g.arts {
				a.Numbers = slices.DeleteFunc(a.Numbers, func(n Number) bool { return n.Group == r.Name })
			}
			delete(s.groups, r.Name)
		}
	case "art":
		a := r.Art
		a.file = fileName(a.MessageID)
		s.seq = max(s.seq, a.Seq)
		s.byID[a.MessageID] = a
		delete(s.history, a.MessageID)
		for _, n := range a.Numbers {
			g := s.groups[n.Group]
			if g == nil {
				continue
			}
			g.arts[n.N] = a
			if i, ok := slices.BinarySearch(g.nums, n.N); !ok {
				g.nums = slices.Insert(g.nums, i, n.N)
			}
			g.next = max(g.next, n.N+1)
		}
	case "expire":
		if r.History {
			s.history[r.ID] = r.Time
			return
		}
		a := s.byID[r.ID]
		if a == nil {
			return
		}
		for _, name := range r.Groups {
			if g := s.groups[name]; g != nil {
				for _, n := range a.Numbers {
					if n.Group == name {
						delete(g.arts, n.N)
						if i, ok := slices.BinarySearch(g.nums, n.N); ok {
							g.nums = slices.Delete(g.nums, i, i+1)
						}
					}
				}
			}
			a.Numbers = slices.DeleteFunc(a.Numbers, func(n Number) bool { return n.Group == name })
		}
		if len(a.Numbers) == 0 {
			delete(s.byID, r.ID)
			s.history[r.ID] = r.Time
		}
	}
}

// compact rewrites the journal with the live state only, and opens it
// for appending.
func (s *Store) compact() error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	names := make([]string, 0, len(s.groups))
	for n := range s.groups {
		names = append(names, n)
	}
	sort.Strings(names)
	// The last Seq given, which may be an expired article's: push
	// feeds' cursors point past it, so it must never be given again.
	enc.Encode(record{Op: "seq", Next: s.seq})
	for _, n := range names {
		g := s.groups[n]
		cfg := g.cfg
		enc.Encode(record{Op: "group", Group: &cfg, Next: g.next})
	}
	arts := make([]*Article, 0, len(s.byID))
	for _, a := range s.byID {
		if len(a.Numbers) > 0 {
			arts = append(arts, a)
		}
	}
	sort.Slice(arts, func(i, j int) bool { return arts[i].Seq < arts[j].Seq })
	// Numbers must replay in ascending order per group: sort by the
	// arrival, which gave the numbers in that order.
	for _, a := range arts {
		enc.Encode(record{Op: "art", Art: a})
	}
	// History past HistoryKeep is forgotten by Expire, whose clock and
	// keep time the caller sets after Open.
	for id, t := range s.history {
		enc.Encode(record{Op: "expire", ID: id, Time: t, History: true})
	}
	if err := atomicfile.WriteFile(s.journalPath(), buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("newsstore: %w", err)
	}
	f, err := os.OpenFile(s.journalPath(), os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("newsstore: %w", err)
	}
	s.journal = f
	return nil
}

// removeOrphans deletes article files that no record names: written
// by an Add that crashed before its journal record was on disk.
func (s *Store) removeOrphans() {
	live := map[string]bool{}
	for _, a := range s.byID {
		live[a.file] = true
	}
	root := filepath.Join(s.dir, "articles")
	subs, _ := os.ReadDir(root)
	for _, sub := range subs {
		files, _ := os.ReadDir(filepath.Join(root, sub.Name()))
		for _, f := range files {
			rel := sub.Name() + "/" + f.Name()
			if !live[rel] {
				os.Remove(filepath.Join(root, sub.Name(), f.Name()))
			}
		}
	}
}

// write appends records to the journal and fsyncs it. Called with mu held.
func (s *Store) write(rs ...record) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for i := range rs {
		if err := enc.Encode(&rs[i]); err != nil {
			return fmt.Errorf("newsstore: %w", err)
		}
	}
	if err := s.appendJournal(buf.Bytes()); err != nil {
		return err
	}
	if err := s.journal.Sync(); err != nil {
		return fmt.Errorf("newsstore: journal fsync: %w", err)
	}
	for i := range rs {
		s.apply(&rs[i])
	}
	return nil
}

// fileName is the article file of a Message-ID, relative to articles/.
func fileName(id string) string {
	h := sha256.Sum256([]byte(id))
	x := hex.EncodeToString(h[:])
	return x[:2] + "/" + x[2:]
}

// ValidGroupName reports whether name is a newsgroup name: the same
// rule as nntp.ValidGroupName, which serves these groups.
func ValidGroupName(name string) bool { return nntp.ValidGroupName(name) }

// setGroup creates a group or changes its settings. Called with mu held.
func (s *Store) setGroup(cfg GroupConfig) error {
	if g, ok := s.groups[cfg.Name]; ok && g.cfg == cfg {
		return nil
	}
	return s.write(record{Op: "group", Group: &cfg})
}

// deleteGroup removes a group; its articles stay in the other groups
// they were posted to, and expire when they are in none. Called with
// mu held.
func (s *Store) deleteGroup(name string) error {
	g, ok := s.groups[name]
	if !ok {
		return fmt.Errorf("%w: %s", ErrNoGroup, name)
	}
	var orphans []string
	for _, a := range g.arts {
		if len(a.Numbers) == 1 {
			orphans = append(orphans, a.MessageID)
		}
	}
	recs := []record{}
	now := s.now().UTC()
	for _, id := range orphans {
		recs = append(recs, record{Op: "expire", ID: id, Groups: []string{name}, Time: now})
	}
	recs = append(recs, record{Op: "delgroup", Name: name})
	files := make([]string, 0, len(orphans))
	for _, id := range orphans {
		files = append(files, s.byID[id].file)
	}
	if err := s.write(recs...); err != nil {
		return err
	}
	for _, f := range files {
		os.Remove(filepath.Join(s.dir, "articles", f))
	}
	return nil
}

// Groups lists every group, sorted by name.
func (s *Store) Groups() []Group {
	s.refreshLogged()
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Group, 0, len(s.groups))
	for _, g := range s.groups {
		out = append(out, g.info())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Group returns one group.
func (s *Store) Group(name string) (Group, error) {
	s.refreshLogged()
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, ok := s.groups[name]
	if !ok {
		return Group{}, fmt.Errorf("%w: %s", ErrNoGroup, name)
	}
	return g.info(), nil
}

// info is the group's numbers as RFC 3977 section 6.1.1 reports them:
// an empty group has low = high + 1.
func (g *group) info() Group {
	gi := Group{GroupConfig: g.cfg, Count: int64(len(g.nums))}
	if len(g.nums) == 0 {
		gi.Low, gi.High = g.next, g.next-1
	} else {
		gi.Low, gi.High = g.nums[0], g.nums[len(g.nums)-1]
	}
	return gi
}

// Changed returns a channel closed at the next arrival, for readers
// waiting for news.
func (s *Store) Changed() <-chan struct{} {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.notify
}

// commit appends r to the open batch and returns once that batch is
// in the journal, fsynced, and applied. Called with mu held; returns
// with it released.
func (s *Store) commit(r record) error {
	b := s.batch
	if b == nil {
		b = &batch{done: make(chan struct{})}
		s.batch = b
	}
	if err := json.NewEncoder(&b.buf).Encode(&r); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("newsstore: %w", err)
	}
	b.recs = append(b.recs, r)
	s.pending[r.Art.MessageID] = true
	s.mu.Unlock()

	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	select {
	case <-b.done:
		return b.err // a batch-mate committed it
	default:
	}
	s.mu.Lock()
	if s.batch == b {
		s.batch = nil
	}
	err := s.appendJournal(b.buf.Bytes())
	j := s.journal
	s.mu.Unlock()
	if err == nil {
		if err = j.Sync(); err != nil {
			err = fmt.Errorf("newsstore: journal fsync: %w", err)
		}
	}
	s.mu.Lock()
	for i := range b.recs {
		if err == nil {
			s.apply(&b.recs[i])
		}
		delete(s.pending, b.recs[i].Art.MessageID)
	}
	if err == nil {
		close(s.notify)
		s.notify = make(chan struct{})
	}
	s.mu.Unlock()
	b.err = err
	close(b.done)
	return err
}
