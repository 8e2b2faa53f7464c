package imap

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// MemoryBackend is an in-memory Backend for tests and examples: users
// with passwords, each with an INBOX and the mailboxes they create.
// Several sessions of one user see each other's changes.
type MemoryBackend struct {
	mu    sync.Mutex
	users map[string]*memUser
}

var (
	_ Backend      = (*MemoryBackend)(nil)
	_ Session      = (*memSession)(nil)
	_ Mailbox      = (*memHandle)(nil)
	_ QuotaSession = (*memSession)(nil)
	_ FlagChanger  = (*memHandle)(nil)
)

type memUser struct {
	password  string
	mailboxes map[string]*memMailbox
}

type memMailbox struct {
	validity, next uint32
	modseq         uint64 // the highest
	msgs           []*memMessage
	subscribed     bool
	attrs          []string
	watchers       map[*memHandle]bool
}

type memMessage struct {
	modseq uint64
	uid    uint32
	flags  []string
	date   time.Time
	body   []byte
	recent bool
}

// NewMemoryBackend returns an empty MemoryBackend.
func NewMemoryBackend() *MemoryBackend { return &MemoryBackend{users: map[string]*memUser{}} }

// AddUser adds a user with an INBOX and the special-use mailboxes.
func (b *MemoryBackend) AddUser(name, password string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	u := &memUser{password: password, mailboxes: map[string]*memMailbox{}}
	u.mailboxes["INBOX"] = newMemMailbox(nil)
	for _, a := range []string{AttrSent, AttrDrafts, AttrTrash, AttrJunk, AttrArchive} {
		u.mailboxes[strings.TrimPrefix(a, `\`)] = newMemMailbox([]string{a})
	}
	b.users[name] = u
}

var memValidity uint32 = 1

func newMemMailbox(attrs []string) *memMailbox {
	memValidity++
	return &memMailbox{validity: memValidity, next: 1, attrs: attrs, subscribed: true, watchers: map[*memHandle]bool{}}
}

// Deliver adds a message to a user's mailbox as a delivery would.
func (b *MemoryBackend) Deliver(user, mailbox string, body []byte) (uint32, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	u := b.users[user]
	if u == nil {
		return 0, ErrAuthFailed
	}
	mb := u.mailboxes[mailbox]
	if mb == nil {
		return 0, ErrTryCreate
	}
	return mb.add(body, nil, time.Now(), true), nil
}

func (mb *memMailbox) add(body []byte, flags []string, date time.Time, recent bool) uint32 {
	uid := mb.next
	mb.next++
	mb.modseq++
	mb.msgs = append(mb.msgs, &memMessage{uid: uid, flags: normFlags(flags), date: date, body: body, recent: recent, modseq: mb.modseq})
	mb.notify()
	return uid
}

func (mb *memMailbox) notify() {
	for h := range mb.watchers {
		select {
		case h.updates <- struct{}{}:
		default:
		}
	}
}

func (b *MemoryBackend) Login(ctx context.Context, c ConnInfo, username, password string) (Session, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	u := b.users[username]
	if u == nil || u.password != password {
		return nil, ErrAuthFailed
	}
	return &memSession{b: b, u: u}, nil
}

type memSession struct {
	b *MemoryBackend
	u *memUser
}

func (s *memSession) mailbox(name string) (*memMailbox, error) {
	mb := s.u.mailboxes[name]
	if mb == nil {
		return nil, ErrNoSuchMailbox
	}
	return mb, nil
}

func (s *memSession) List(ctx context.Context, w func(MailboxInfo) error) error {
	s.b.mu.Lock()
	var infos []MailboxInfo
	for name, mb := range s.u.mailboxes {
		infos = append(infos, MailboxInfo{Name: name, Attrs: slices.Clone(mb.attrs), Subscribed: mb.subscribed})
	}
	s.b.mu.Unlock()
	for _, i := range infos {
		if err := w(i); err != nil {
			return err
		}
	}
	return nil
}

func (s *memSession) Create(ctx context.Context, name string) error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	if s.u.mailboxes[name] != nil {
		return ErrMailboxExists
	}
	s.u.mailboxes[name] = newMemMailbox(nil)
	return nil
}

func (s *memSession) Delete(ctx context.Context, name string) error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	mb, err := s.mailbox(name)
	if err != nil {
		return err
	}
	delete(s.u.mailboxes, name)
	mb.msgs = nil
	mb.notify()
	return nil
}

func (s *memSession) Rename(ctx context.Context, from, to string) error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	mb, err := s.mailbox(from)
	if err != nil {
		return err
	}
	if s.u.mailboxes[to] != nil {
		return ErrMailboxExists
	}
	if from == "INBOX" {
		nb := newMemMailbox(nil)
		for _, m := range mb.msgs {
			nb.add(m.body, m.flags, m.date, false)
		}
		mb.msgs = nil
		mb.notify()
		s.u.mailboxes[to] = nb
		return nil
	}
	for name, m := range s.u.mailboxes {
		if name == from || strings.HasPrefix(name, from+"/") {
			delete(s.u.mailboxes, name)
			s.u.mailboxes[to+strings.TrimPrefix(name, from)] = m
		}
	}
	return nil
}

func (s *memSession) SetSubscribed(ctx context.Context, name string, on bool) error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	mb, err := s.mailbox(name)
	if err != nil {
		return err
	}
	mb.subscribed = on
	return nil
}

func (s *memSession) Status(ctx context.Context, name string) (MailboxStatus, error) {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	mb, err := s.mailbox(name)
	if err != nil {
		return MailboxStatus{}, err
	}
	st := MailboxStatus{Messages: uint32(len(mb.msgs)), UIDNext: mb.next, UIDValidity: mb.validity, HighestModSeq: mb.modseq}
	for _, m := range mb.msgs {
		if !slices.Contains(m.flags, FlagSeen) {
			st.Unseen++
		}
		if slices.Contains(m.flags, FlagDeleted) {
			st.Deleted++
		}
		if m.recent {
			st.Recent++
		}
		st.Size += int64(len(toCRLF(m.body)))
	}
	return st, nil
}

func (s *memSession) Append(ctx context.Context, name string, r io.Reader, flags []string, date time.Time) (uint32, uint32, error) {
	body, err := io.ReadAll(r)
	if err != nil {
		return 0, 0, err
	}
	if date.IsZero() {
		date = time.Now()
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	mb := s.u.mailboxes[name]
	if mb == nil {
		return 0, 0, ErrTryCreate
	}
	return mb.validity, mb.add(body, flags, date, true), nil
}

func (s *memSession) Quota(ctx context.Context) (int64, int64, error) {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	var used int64
	for _, mb := range s.u.mailboxes {
		for _, m := range mb.msgs {
			used += int64(len(m.body))
		}
	}
	return used, 0, nil
}

func (s *memSession) Select(ctx context.Context, name string) (Mailbox, error) {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	mb, err := s.mailbox(name)
	if err != nil {
		return nil, err
	}
	h := &memHandle{s: s, mb: mb, updates: make(chan struct{}, 1)}
	mb.watchers[h] = true
	return h, nil
}

func (s *memSession) Logout() error { return nil }

// memHandle is one selection of a memMailbox.
type memHandle struct {
	s       *memSession
	mb      *memMailbox
	updates chan struct{}
}

func (h *memHandle) Status(ctx context.Context) (MailboxStatus, error) {
	h.s.b.mu.Lock()
	defer h.s.b.mu.Unlock()
	return MailboxStatus{UIDNext: h.mb.next, UIDValidity: h.mb.validity, Messages: uint32(len(h.mb.msgs)), HighestModSeq: h.mb.modseq}, nil
}

func (h *memHandle) Messages(ctx context.Context) ([]MessageInfo, error) {
	h.s.b.mu.Lock()
	defer h.s.b.mu.Unlock()
	out := make([]MessageInfo, len(h.mb.msgs))
	for i, m := range h.mb.msgs {
		out[i] = MessageInfo{UID: m.uid, Flags: slices.Clone(m.flags), Size: int64(len(toCRLF(m.body))), InternalDate: m.date, Recent: m.recent, ModSeq: m.modseq}
	}
	return out, nil
}

func (h *memHandle) find(uid uint32) *memMessage {
	for _, m := range h.mb.msgs {
		if m.uid == uid {
			return m
		}
	}
	return nil
}

func (h *memHandle) Open(ctx context.Context, uid uint32) (io.ReadCloser, error) {
	h.s.b.mu.Lock()
	defer h.s.b.mu.Unlock()
	m := h.find(uid)
	if m == nil {
		return nil, &Error{Code: "EXPUNGEISSUED", Text: "Message was expunged"}
	}
	return io.NopCloser(bytes.NewReader(m.body)), nil
}

func (h *memHandle) SetFlags(ctx context.Context, uid uint32, flags []string) error {
	h.s.b.mu.Lock()
	defer h.s.b.mu.Unlock()
	m := h.find(uid)
	if m == nil {
		return &Error{Code: "EXPUNGEISSUED", Text: "Message was expunged"}
	}
	m.flags = normFlags(flags)
	h.mb.modseq++
	m.modseq = h.mb.modseq
	h.mb.notify()
	return nil
}

func (h *memHandle) AddFlags(ctx context.Context, uid uint32, flags []string) ([]string, error) {
	return h.changeFlags(uid, func(old []string) []string { return append(slices.Clone(old), flags...) })
}

func (h *memHandle) RemoveFlags(ctx context.Context, uid uint32, flags []string) ([]string, error) {
	return h.changeFlags(uid, func(old []string) []string {
		return slices.DeleteFunc(slices.Clone(old), func(f string) bool {
			return slices.ContainsFunc(flags, func(g string) bool { return strings.EqualFold(f, g) })
		})
	})
}

func (h *memHandle) changeFlags(uid uint32, change func([]string) []string) ([]string, error) {
	h.s.b.mu.Lock()
	defer h.s.b.mu.Unlock()
	m := h.find(uid)
	if m == nil {
		return nil, &Error{Code: "EXPUNGEISSUED", Text: "Message was expunged"}
	}
	next := normFlags(change(m.flags))
	if !slices.Equal(next, m.flags) {
		m.flags = next
		h.mb.modseq++
		m.modseq = h.mb.modseq
		h.mb.notify()
	}
	return slices.Clone(next), nil
}

func (h *memHandle) Expunge(ctx context.Context, uids []uint32) error {
	h.s.b.mu.Lock()
	defer h.s.b.mu.Unlock()
	h.mb.msgs = slices.DeleteFunc(h.mb.msgs, func(m *memMessage) bool { return slices.Contains(uids, m.uid) })
	h.mb.modseq++
	h.mb.notify()
	return nil
}

func (h *memHandle) Copy(ctx context.Context, uids []uint32, dest string) (uint32, []uint32, []uint32, error) {
	h.s.b.mu.Lock()
	defer h.s.b.mu.Unlock()
	to := h.s.u.mailboxes[dest]
	if to == nil {
		return 0, nil, nil, ErrTryCreate
	}
	var copied, out []uint32
	for _, u := range uids {
		if m := h.find(u); m != nil {
			copied, out = append(copied, u), append(out, to.add(m.body, m.flags, m.date, true))
		}
	}
	return to.validity, copied, out, nil
}

func (h *memHandle) Updates() <-chan struct{} { return h.updates }

func (h *memHandle) Close() error {
	h.s.b.mu.Lock()
	defer h.s.b.mu.Unlock()
	delete(h.mb.watchers, h)
	return nil
}
