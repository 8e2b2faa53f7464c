package newsstore

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plumbnet/plumb/internal/atomicfile"
)

// Incoming is an article to store: its raw text (header, blank line,
// body, CRLF line ends, no Xref header: the store writes its own) and
// what the caller parsed from it.
type Incoming struct {
	Overview          // Bytes, Lines and Xref are computed by the store
	Groups   []string // the Newsgroups header's names
	Data     []byte
}

// Has reports whether id is stored or remembered by the history.
func (s *Store) Has(id string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.has(id)
}

func (s *Store) has(id string) bool {
	if s.pending[id] {
		return true
	}
	if _, ok := s.byID[id]; ok {
		return true
	}
	_, ok := s.history[id]
	return ok
}

func (s *Store) host() string {
	if s.Host != "" {
		return s.Host
	}
	return "localhost"
}

// Add stores an article in every group of in.Groups that is carried
// here, numbering it in each, and returns its record. It returns only
// when the article and its record are on disk. A Message-ID stored or
// remembered is ErrDuplicate; an article for no carried group is
// ErrNoGroups.
func (s *Store) Add(ctx context.Context, in Incoming) (Article, error) {
	s.refreshLogged()
	// The id is claimed (pending) before its file is written, so that a
	// second arrival of it is a duplicate at once and never renames
	// over the first one's file.
	s.mu.Lock()
	if s.has(in.MessageID) {
		s.mu.Unlock()
		return Article{}, fmt.Errorf("%w: %s", ErrDuplicate, in.MessageID)
	}
	s.pending[in.MessageID] = true
	s.mu.Unlock()
	a, err := s.add(ctx, in)
	if err != nil {
		s.mu.Lock()
		delete(s.pending, in.MessageID)
		s.mu.Unlock()
	}
	return a, err
}

// add writes a claimed article's file and commits its record.
func (s *Store) add(ctx context.Context, in Incoming) (Article, error) {
	// The file is written and fsynced outside the lock, so that
	// concurrent arrivals wait on their disks together; the numbers
	// are given under it, and the Xref header that names them is
	// added when the article is read.
	file := fileName(in.MessageID)
	path := filepath.Join(s.dir, "articles", file)
	f, err := atomicfile.Create(path, 0o600)
	if err != nil {
		return Article{}, fmt.Errorf("newsstore: %w", err)
	}
	if _, err := f.Write(in.Data); err != nil {
		f.Abort()
		return Article{}, fmt.Errorf("newsstore: %w", err)
	}
	if err := f.Commit(ctx); err != nil {
		return Article{}, fmt.Errorf("newsstore: %w", err)
	}
	s.mu.Lock()
	s.seq++ // reserved now, applied with the record
	a := &Article{Overview: in.Overview, Arrived: s.now().UTC(), Seq: s.seq, file: file}
	seen := map[string]bool{}
	xref := s.host()
	for _, name := range in.Groups {
		g := s.groups[name]
		if g == nil || seen[name] {
			continue
		}
		seen[name] = true
		a.Numbers = append(a.Numbers, Number{Group: name, N: g.next})
		xref += " " + name + ":" + strconv.FormatInt(g.next, 10)
		g.next++ // reserved: gaps are allowed, reuse is not
	}
	if len(a.Numbers) == 0 {
		s.mu.Unlock()
		os.Remove(path)
		return Article{}, ErrNoGroups
	}
	a.Xref = xref
	a.Bytes = int64(len(xrefLine(xref)) + len(in.Data))
	a.Lines = bodyLines(in.Data)
	out := a.clone()
	if err := s.commit(record{Op: "art", Art: a}); err != nil {
		os.Remove(path)
		return Article{}, err
	}
	return out, nil
}

// Pending reports whether an arrival of id is being stored now: it is
// neither refused nor taken yet (CHECK's 431).
func (s *Store) Pending(id string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.pending[id]
}

func xrefLine(xref string) string { return "Xref: " + xref + "\r\n" }

// bodyLines counts the lines of the body after the first blank line.
func bodyLines(data []byte) int64 {
	s := string(data)
	i := strings.Index(s, "\r\n\r\n")
	if i < 0 {
		return 0
	}
	body := s[i+4:]
	return int64(strings.Count(body, "\n"))
}

func (a *Article) clone() Article {
	c := *a
	c.Numbers = slices.Clone(a.Numbers)
	return c
}

// Number returns the article's number in group, 0 if it has none there.
func (a *Article) Number(group string) int64 {
	for _, n := range a.Numbers {
		if n.Group == group {
			return n.N
		}
	}
	return 0
}

// ByID returns the record of a stored article.
func (s *Store) ByID(id string) (Article, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.byID[id]
	if !ok {
		return Article{}, fmt.Errorf("%w: %s", ErrNoArticle, id)
	}
	return a.clone(), nil
}

// At returns the record of article n of group.
func (s *Store) At(group string, n int64) (Article, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, ok := s.groups[group]
	if !ok {
		return Article{}, fmt.Errorf("%w: %s", ErrNoGroup, group)
	}
	a, ok := g.arts[n]
	if !ok {
		return Article{}, fmt.Errorf("%w: %s %d", ErrNoArticle, group, n)
	}
	return a.clone(), nil
}

// Open returns the text of a stored article.
func (s *Store) Open(id string) (io.ReadCloser, error) {
	s.mu.RLock()
	a, ok := s.byID[id]
	if !ok {
		s.mu.RUnlock()
		return nil, fmt.Errorf("%w: %s", ErrNoArticle, id)
	}
	xref := a.Xref
	s.mu.RUnlock()
	f, err := os.Open(filepath.Join(s.dir, "articles", a.file))
	if err != nil {
		return nil, fmt.Errorf("newsstore: %w", err) // expired meanwhile
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(strings.NewReader(xrefLine(xref)), f), f}, nil
}

// Numbers returns the article numbers of group in [lo, hi], ascending;
// hi < 0 means no upper bound.
func (s *Store) Numbers(group string, lo, hi int64) ([]int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, ok := s.groups[group]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoGroup, group)
	}
	return slices.Clone(g.span(lo, hi)), nil
}

func (g *group) span(lo, hi int64) []int64 {
	i, _ := slices.BinarySearch(g.nums, lo)
	j := len(g.nums)
	if hi >= 0 {
		j, _ = slices.BinarySearch(g.nums, hi+1)
	}
	if i > j {
		return nil
	}
	return g.nums[i:j]
}

// Range calls fn for each article of group numbered in [lo, hi]
// (hi < 0: no upper bound), in order, with its number there; fn runs
// without the store's lock held, on a snapshot.
func (s *Store) Range(group string, lo, hi int64, fn func(n int64, a Article) error) error {
	s.mu.RLock()
	g, ok := s.groups[group]
	if !ok {
		s.mu.RUnlock()
		return fmt.Errorf("%w: %s", ErrNoGroup, group)
	}
	nums := g.span(lo, hi)
	snap := make([]Article, len(nums))
	for i, n := range nums {
		snap[i] = *g.arts[n] // Numbers shared read-only; fn must not change them
	}
	nums = slices.Clone(nums)
	s.mu.RUnlock()
	for i, n := range nums {
		if err := fn(n, snap[i]); err != nil {
			return err
		}
	}
	return nil
}

// NewNews returns the Message-IDs of articles that arrived at or after
// since in a group match accepts, oldest first.
func (s *Store) NewNews(since time.Time, match func(group string) bool) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var arts []*Article
	for _, a := range s.byID {
		if a.Arrived.Before(since) {
			continue
		}
		if slices.ContainsFunc(a.Numbers, func(n Number) bool { return match(n.Group) }) {
			arts = append(arts, a)
		}
	}
	slices.SortFunc(arts, func(x, y *Article) int { return x.Arrived.Compare(y.Arrived) })
	ids := make([]string, len(arts))
	for i, a := range arts {
		ids[i] = a.MessageID
	}
	return ids
}

// Expire applies each group's retention (MaxAge, MaxCount) and forgets
// history older than HistoryKeep. It returns how many article copies
// it removed from groups.
func (s *Store) Expire() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UTC()
	drop := map[string][]string{} // id -> groups
	for name, g := range s.groups {
		over := 0
		if g.cfg.MaxCount > 0 && len(g.nums) > g.cfg.MaxCount {
			over = len(g.nums) - g.cfg.MaxCount
		}
		for i, n := range g.nums {
			a := g.arts[n]
			old := g.cfg.MaxAge > 0 && now.Sub(a.Arrived) > g.cfg.MaxAge
			if i < over || old {
				drop[a.MessageID] = append(drop[a.MessageID], name)
			}
		}
	}
	var recs []record
	var files []string
	count := 0
	for id, gs := range drop {
		recs = append(recs, record{Op: "expire", ID: id, Groups: gs, Time: now})
		count += len(gs)
		if len(gs) == len(s.byID[id].Numbers) {
			files = append(files, s.byID[id].file)
		}
	}
	cut := now.Add(-s.keep())
	for id, t := range s.history {
		if t.Before(cut) {
			delete(s.history, id) // the compacted journal drops it at the next Open
		}
	}
	if len(recs) == 0 {
		return 0, nil
	}
	if err := s.write(recs...); err != nil {
		return 0, err
	}
	for _, f := range files {
		os.Remove(filepath.Join(s.dir, "articles", f))
	}
	return count, nil
}

// After returns up to limit articles that arrived after the one whose
// Seq is seq, in arrival order: a feed's outgoing queue is the spool
// itself and a cursor.
func (s *Store) After(seq int64, limit int) []Article {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Article
	for _, a := range s.byID {
		if a.Seq > seq {
			out = append(out, a.clone())
		}
	}
	slices.SortFunc(out, func(x, y Article) int { return int(x.Seq - y.Seq) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}
