package nntp

import (
	"bytes"
	"context"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MemoryBackend keeps groups and articles in memory, for tests and
// examples. Users maps account names to passwords. Articles to a
// moderated group without an Approved header are kept in Held instead
// of being posted.
type MemoryBackend struct {
	Users map[string]string

	mu     sync.Mutex
	groups map[string]*memGroup
	byID   map[string]*memArticle
	held   []*Article
}

type memGroup struct {
	Group
	arts map[int64]*memArticle
	next int64
}

type memArticle struct {
	ov      Overview
	data    []byte
	arrived time.Time
	nums    map[string]int64
}

var _ Backend = (*MemoryBackend)(nil)

// NewMemoryBackend returns an empty backend with the given users.
func NewMemoryBackend(users map[string]string) *MemoryBackend {
	return &MemoryBackend{Users: users, groups: map[string]*memGroup{}, byID: map[string]*memArticle{}}
}

// AddGroup creates a group; status is 'y', 'n' or 'm'.
func (m *MemoryBackend) AddGroup(name string, status byte, moderators ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.groups[name] = &memGroup{Group: Group{Name: name, Status: status, Created: time.Now(), Moderators: moderators},
		arts: map[int64]*memArticle{}, next: 1}
}

// Held returns the articles held for a moderator.
func (m *MemoryBackend) Held() []*Article {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.held)
}

func (m *MemoryBackend) Authenticate(ctx context.Context, c ConnInfo, user, password string) error {
	if p, ok := m.Users[user]; ok && p == password {
		return nil
	}
	return ErrAuthFailed
}

func (g *memGroup) info() Group {
	out := g.Group
	out.Count = int64(len(g.arts))
	out.Low, out.High = g.next, g.next-1
	for n := range g.arts {
		out.Low = min(out.Low, n)
		out.High = max(out.High, n)
	}
	return out
}

func (m *MemoryBackend) Groups(ctx context.Context) ([]Group, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Group
	for _, g := range m.groups {
		out = append(out, g.info())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (m *MemoryBackend) Group(ctx context.Context, name string) (Group, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.groups[name]
	if !ok {
		return Group{}, ErrNoSuchGroup
	}
	return g.info(), nil
}

func (m *MemoryBackend) Numbers(ctx context.Context, group string, lo, hi int64) ([]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.groups[group]
	if !ok {
		return nil, ErrNoSuchGroup
	}
	var out []int64
	for n := range g.arts {
		if n >= lo && (hi < 0 || n <= hi) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (m *MemoryBackend) Overview(ctx context.Context, group string, lo, hi int64, fn func(Overview) error) error {
	nums, err := m.Numbers(ctx, group, lo, hi)
	if err != nil {
		return err
	}
	m.mu.Lock()
	ovs := make([]Overview, 0, len(nums))
	for _, n := range nums {
		ov := m.groups[group].arts[n].ov
		ov.Number = n
		ovs = append(ovs, ov)
	}
	m.mu.Unlock()
	for _, ov := range ovs {
		if err := fn(ov); err != nil {
			return err
		}
	}
	return nil
}

func (m *MemoryBackend) Article(ctx context.Context, group string, n int64) (Overview, io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.groups[group]
	if !ok {
		return Overview{}, nil, ErrNoSuchGroup
	}
	a, ok := g.arts[n]
	if !ok {
		return Overview{}, nil, ErrNoSuchNumber
	}
	ov := a.ov
	ov.Number = n
	return ov, io.NopCloser(bytes.NewReader(a.data)), nil
}

func (m *MemoryBackend) ArticleByID(ctx context.Context, id string) (Overview, io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.byID[id]
	if !ok {
		return Overview{}, nil, ErrNoSuchArticle
	}
	return a.ov, io.NopCloser(bytes.NewReader(a.data)), nil
}

func (m *MemoryBackend) NewNews(ctx context.Context, since time.Time, match func(string) bool) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var arts []*memArticle
	for _, a := range m.byID {
		if a.arrived.Before(since) {
			continue
		}
		for g := range a.nums {
			if match(g) {
				arts = append(arts, a)
				break
			}
		}
	}
	sort.Slice(arts, func(i, j int) bool { return arts[i].arrived.Before(arts[j].arrived) })
	ids := make([]string, len(arts))
	for i, a := range arts {
		ids[i] = a.ov.MessageID
	}
	return ids, nil
}

func (m *MemoryBackend) Have(ctx context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.byID[id]
	return ok, nil
}

func (m *MemoryBackend) Post(ctx context.Context, a *Article, user string, peer bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := a.Get("Message-ID")
	if _, ok := m.byID[id]; ok {
		return ErrNotWanted
	}
	var targets []*memGroup
	for _, name := range a.Newsgroups() {
		if g, ok := m.groups[name]; ok && !slices.Contains(targets, g) {
			if g.Status == 'm' && !a.Has("Approved") && !peer {
				m.held = append(m.held, a)
				return nil
			}
			targets = append(targets, g)
		}
	}
	if len(targets) == 0 {
		return ErrPostingFailed
	}
	ma := &memArticle{arrived: time.Now(), nums: map[string]int64{}}
	xref := "memory"
	for _, g := range targets {
		ma.nums[g.Name] = g.next
		g.arts[g.next] = ma
		xref += " " + g.Name + ":" + strconv.FormatInt(g.next, 10)
		g.next++
	}
	a.Set("Xref", xref)
	ma.data = a.Bytes()
	body := string(a.Body)
	ma.ov = Overview{Subject: a.Get("Subject"), From: a.Get("From"), Date: a.Get("Date"), MessageID: id,
		References: a.Get("References"), Bytes: int64(len(ma.data)), Lines: int64(strings.Count(body, "\n")), Xref: xref}
	m.byID[id] = ma
	return nil
}
