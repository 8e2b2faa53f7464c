package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plumbnet/plumb/imap"
	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/mailstore"
)

// imapBackend adapts the account database and the mail store to imap.Backend.
type imapBackend struct {
	accounts *accounts.DB
	store    *mailstore.Store
	presence *presence // finger's last logins and open sessions
	log      *slog.Logger
	// index opens a folder's index; nil means the store's own, the
	// plumb-index file beside the Maildir. A shared database serving
	// several nodes is another implementation of mailIndex.
	index  func(*mailstore.Mailbox) mailIndex
	events *eventHub // mail-change events; nil publishes none

	viewsMu sync.Mutex
	views   map[string]*folderView // by user and folder, while selected
}

// mailIndex is what the IMAP adapter keeps of a folder's messages beyond
// the Maildir: dates, sizes, IMAP structures and mod-sequences, by
// message key (see mailstore's Mailbox.Cached, CacheBatch, ModSeqs,
// CacheAndNumber).
type mailIndex interface {
	Cached(mailstore.Message) (mailstore.IndexEntry, bool)
	CachedAll([]mailstore.Message) []mailstore.IndexEntry
	CacheBatch([]mailstore.Message, []mailstore.IndexEntry) error
	ModSeqs([]mailstore.Message) ([]uint64, uint64, error)
	// CacheAndNumber is CacheBatch(fresh, entries) and ModSeqs(msgs) at once.
	CacheAndNumber(msgs, fresh []mailstore.Message, entries []mailstore.IndexEntry) ([]uint64, uint64, error)
}

var _ mailIndex = (*mailstore.Mailbox)(nil)

func (b *imapBackend) indexOf(mb *mailstore.Mailbox) mailIndex {
	if b.index != nil {
		return b.index(mb)
	}
	return mb
}

var (
	_ imap.Backend      = (*imapBackend)(nil)
	_ imap.QuotaSession = (*imapSession)(nil)
)

// specialUse are the folders every account gets, with their attribute (RFC 6154).
var specialUse = []struct{ name, attr string }{
	{"Sent", imap.AttrSent}, {"Drafts", imap.AttrDrafts}, {"Trash", imap.AttrTrash},
	{"Junk", imap.AttrJunk}, {"Archive", imap.AttrArchive},
}

func (b *imapBackend) Login(ctx context.Context, c imap.ConnInfo, username, password string) (imap.Session, error) {
	u, err := b.accounts.Authenticate(ctx, username, password, c.RemoteAddr)
	if err != nil {
		if errors.Is(err, accounts.ErrAuthFailed) {
			return nil, fmt.Errorf("%w: %w", imap.ErrAuthFailed, err)
		}
		return nil, err
	}
	for _, su := range specialUse {
		err := b.store.CreateFolder(u.Home, su.name)
		if err == nil {
			err = b.store.SetSubscribed(u.Home, su.name, true)
		}
		if err != nil && !errors.Is(err, mailstore.ErrFolderExists) {
			return nil, err
		}
	}
	return &imapSession{b: b, user: u.Home, end: b.presence.LoginConn(u.Name, "imap", c.LocalAddr, c.RemoteAddr)}, nil
}

// imapSession is one logged-in user.
type imapSession struct {
	b    *imapBackend
	user string
	end  func() // ends the session in the presence record
}

// storeError maps the store's refusals to IMAP's response codes.
func storeError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mailstore.ErrNoSuchFolder):
		return fmt.Errorf("%w: %w", imap.ErrTryCreate, err)
	case errors.Is(err, mailstore.ErrFolderExists):
		return fmt.Errorf("%w: %w", imap.ErrMailboxExists, err)
	case errors.Is(err, mailstore.ErrBadName):
		return fmt.Errorf("%w: %w", &imap.Error{Code: "CANNOT", Text: "Invalid mailbox name"}, err)
	case errors.Is(err, mailstore.ErrTooManyKeywords):
		return fmt.Errorf("%w: %w", &imap.Error{Code: "LIMIT", Text: "No room for another keyword in this mailbox"}, err)
	case errors.Is(err, mailstore.ErrBadKeyword):
		return fmt.Errorf("%w: %w", &imap.Error{Type: "BAD", Text: "Invalid keyword"}, err)
	case errors.Is(err, mailstore.ErrQuotaExceeded):
		return fmt.Errorf("%w: %w", imap.ErrOverQuota, err)
	case errors.Is(err, mailstore.ErrNoSuchMessage):
		return fmt.Errorf("%w: %w", &imap.Error{Code: "EXPUNGEISSUED", Text: "Message was expunged"}, err)
	}
	return err
}

func (s *imapSession) List(ctx context.Context, w func(imap.MailboxInfo) error) error {
	names, err := s.b.store.Folders(s.user)
	if err != nil {
		return err
	}
	subs, err := s.b.store.Subscriptions(s.user)
	if err != nil {
		return err
	}
	for _, n := range names {
		info := imap.MailboxInfo{Name: n, Subscribed: n == mailstore.Inbox || slices.Contains(subs, n)}
		for _, su := range specialUse {
			if n == su.name {
				info.Attrs = []string{su.attr}
			}
		}
		if err := w(info); err != nil {
			return err
		}
	}
	return nil
}

func (s *imapSession) Create(ctx context.Context, name string) error {
	// Parents are made too, so every level exists (RFC 9051 section 6.3.4).
	parts := strings.Split(name, "/")
	for i := 1; i < len(parts); i++ {
		if err := s.b.store.CreateFolder(s.user, strings.Join(parts[:i], "/")); err != nil && !errors.Is(err, mailstore.ErrFolderExists) {
			return storeError(err)
		}
	}
	return storeError(s.b.store.CreateFolder(s.user, name))
}

func (s *imapSession) Delete(ctx context.Context, name string) error {
	return storeError(s.b.store.DeleteFolder(s.user, name))
}

func (s *imapSession) Rename(ctx context.Context, from, to string) error {
	if from != mailstore.Inbox {
		return storeError(s.b.store.RenameFolder(s.user, from, to))
	}
	// Renaming INBOX moves its messages to a new folder and leaves it empty.
	if err := s.Create(ctx, to); err != nil {
		return err
	}
	in, err := s.b.store.Mailbox(ctx, s.user, mailstore.Inbox)
	if err != nil {
		return storeError(err)
	}
	defer in.Close()
	msgs, err := in.Messages(ctx)
	if err != nil {
		return err
	}
	h := &imapMailbox{s: s, mb: in, idx: s.b.indexOf(in)}
	uids := make([]uint32, len(msgs))
	for i, m := range msgs {
		uids[i] = m.UID
	}
	_, copied, _, err := h.Copy(ctx, uids, to)
	if err != nil {
		return err
	}
	// Only what was copied goes: a message delivered meanwhile stays.
	return storeError(in.Delete(ctx, copied...))
}

func (s *imapSession) SetSubscribed(ctx context.Context, name string, on bool) error {
	return storeError(s.b.store.SetSubscribed(s.user, name, on))
}

func (s *imapSession) Status(ctx context.Context, name string) (imap.MailboxStatus, error) {
	return s.status(ctx, name, true, true)
}

// StatusItems reads every message's size only for SIZE, and numbers
// the mod-sequences only for HIGHESTMODSEQ.
func (s *imapSession) StatusItems(ctx context.Context, name string, items []string) (imap.MailboxStatus, error) {
	return s.status(ctx, name, slices.Contains(items, "SIZE"), slices.Contains(items, "HIGHESTMODSEQ"))
}

func (s *imapSession) status(ctx context.Context, name string, sizes, modseqs bool) (imap.MailboxStatus, error) {
	mb, err := s.b.store.Mailbox(ctx, s.user, name)
	if err != nil {
		return imap.MailboxStatus{}, storeError(err)
	}
	defer mb.Close()
	msgs, err := mb.Messages(ctx)
	if err != nil {
		return imap.MailboxStatus{}, err
	}
	validity, next, err := mb.UIDValidity()
	if err != nil {
		return imap.MailboxStatus{}, err
	}
	idx := s.b.indexOf(mb)
	st := imap.MailboxStatus{Messages: uint32(len(msgs)), UIDNext: next, UIDValidity: validity}
	if modseqs {
		if _, st.HighestModSeq, err = idx.ModSeqs(msgs); err != nil {
			return imap.MailboxStatus{}, err
		}
	}
	for _, m := range msgs {
		if m.Recent {
			st.Recent++
		}
		if !m.Flags.Has(mailstore.FlagSeen) {
			st.Unseen++
		}
		if m.Flags.Has(mailstore.FlagTrashed) {
			st.Deleted++
		}
		if !sizes {
			continue
		}
		if e, ok := idx.Cached(m); ok && e.Size > 0 && m.CRLFSize < 0 {
			st.Size += e.Size
			continue
		}
		size, err := mb.CRLFSize(m)
		if err != nil {
			return imap.MailboxStatus{}, err
		}
		st.Size += size
	}
	return st, nil
}

func (s *imapSession) Append(ctx context.Context, name string, r io.Reader, flags []string, date time.Time) (uint32, uint32, error) {
	mb, err := s.b.store.Mailbox(ctx, s.user, name)
	if err != nil {
		return 0, 0, storeError(err)
	}
	defer mb.Close()
	// The client was told the message is stored only after this returns,
	// and mailstore fsyncs before it does.
	l, err := letters(mb, flags, true)
	if err != nil {
		return 0, 0, storeError(err)
	}
	uid, err := mb.Append(context.WithoutCancel(ctx), r, l, date)
	if err != nil {
		return 0, 0, storeError(err)
	}
	s.b.events.mailChangedUIDs("imap", s.user, mb.Name(), uid)
	validity, _, err := mb.UIDValidity()
	return validity, uid, err
}

func (s *imapSession) Quota(ctx context.Context) (int64, int64, error) {
	used, err := s.b.store.Usage(s.user)
	if err != nil {
		return 0, 0, err
	}
	var limit int64
	if s.b.store.Quota != nil {
		limit = s.b.store.Quota(s.user)
	}
	return used, limit, nil
}

func (s *imapSession) Select(ctx context.Context, name string) (imap.Mailbox, error) {
	mb, err := s.b.store.Mailbox(ctx, s.user, name)
	if err != nil {
		return nil, storeError(err)
	}
	ch, stop, err := s.b.store.Watch(s.user, name)
	if err != nil {
		mb.Close()
		return nil, err
	}
	return &imapMailbox{s: s, mb: mb, idx: s.b.indexOf(mb), updates: ch, stop: stop, view: s.b.openView(s.user, mb.Name())}, nil
}

func (s *imapSession) Logout() error {
	if s.end != nil {
		s.end()
	}
	return nil
}

// imapMailbox is a selected folder.
type imapMailbox struct {
	s       *imapSession
	mb      *mailstore.Mailbox
	idx     mailIndex
	updates <-chan struct{}
	stop    func()

	view *folderView // shared by the sessions on the folder; nil for a handle of the backend's own
}

var (
	_ imap.StructureCache     = (*imapMailbox)(nil)
	_ imap.StructureFlusher   = (*imapMailbox)(nil)
	_ imap.SnapshotLister     = (*imapMailbox)(nil)
	_ imap.DateLoader         = (*imapMailbox)(nil)
	_ imap.FlagChanger        = (*imapMailbox)(nil)
	_ imap.FlagSyncer         = (*imapMailbox)(nil)
	_ imap.StatusItemsSession = (*imapSession)(nil)
)

// flagLetters maps IMAP's system flags to Maildir's letters.
var flagLetters = []struct {
	flag   string
	letter byte
}{
	{imap.FlagAnswered, mailstore.FlagReplied}, {imap.FlagDeleted, mailstore.FlagTrashed},
	{imap.FlagDraft, mailstore.FlagDraft}, {imap.FlagFlagged, mailstore.FlagFlagged}, {imap.FlagSeen, mailstore.FlagSeen},
}

// letterFlags caches fromLetters: listings share one slice per set of
// letters rather than make one per message. Bounded: letters are few.
var letterFlags sync.Map

// fromLetters maps the system flags' letters of f (keywords: see flagsWith).
func fromLetters(f mailstore.Flags) []string {
	if v, ok := letterFlags.Load(f); ok {
		return v.([]string)
	}
	out := flagsOfLetters(f)
	if !hasKeywords(f) && len(f) <= 8 { // the system flags' letters: a few sets
		letterFlags.Store(f, slices.Clip(out))
	}
	return out
}

func flagsOfLetters(f mailstore.Flags) []string {
	var out []string
	for _, fl := range flagLetters {
		if f.Has(fl.letter) {
			out = append(out, fl.flag)
		}
	}
	slices.Sort(out)
	return out
}

// internalDate is msg's file time, from the file under its current
// name when another session renamed it (changed its flags) since the
// listing: only a message gone is left out of a listing, since a UID
// left out once is never announced later.
func (m *imapMailbox) internalDate(msg mailstore.Message) (time.Time, error) {
	if d, err := msg.InternalDate(); err == nil {
		return d, nil
	}
	f, err := m.mb.Open(msg.UID)
	if err != nil {
		return time.Time{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return time.Time{}, err
	}
	return fi.ModTime(), nil
}

func (m *imapMailbox) Open(ctx context.Context, uid uint32) (io.ReadCloser, error) {
	f, err := m.mb.Open(uid)
	if err != nil {
		return nil, storeError(err)
	}
	return f, nil
}

func (m *imapMailbox) SetFlags(ctx context.Context, uid uint32, flags []string) error {
	defer m.changed(uid)
	l, err := letters(m.mb, flags, true)
	if err != nil {
		return storeError(err)
	}
	return storeError(m.mb.SetFlags(ctx, uid, l))
}

// SyncFlags makes a STORE's renames durable before the client is told (imap.FlagSyncer).
func (m *imapMailbox) SyncFlags(ctx context.Context) error { return m.mb.SyncFlags() }

func (m *imapMailbox) AddFlags(ctx context.Context, uid uint32, flags []string) ([]string, error) {
	defer m.changed(uid)
	l, err := letters(m.mb, flags, true)
	if err != nil {
		return nil, storeError(err)
	}
	f, err := m.mb.AddFlags(ctx, uid, l)
	return flagsWith(f, keywordsOf(m.mb, f)), storeError(err)
}

func (m *imapMailbox) RemoveFlags(ctx context.Context, uid uint32, flags []string) ([]string, error) {
	defer m.changed(uid)
	l, err := letters(m.mb, flags, false)
	if err != nil {
		return nil, storeError(err)
	}
	f, err := m.mb.RemoveFlags(ctx, uid, l)
	return flagsWith(f, keywordsOf(m.mb, f)), storeError(err)
}

func (m *imapMailbox) Expunge(ctx context.Context, uids []uint32) error {
	defer m.changed(uids...)
	return storeError(m.mb.Delete(context.WithoutCancel(ctx), uids...))
}

func (m *imapMailbox) Copy(ctx context.Context, uids []uint32, dest string) (uint32, []uint32, []uint32, error) {
	to, err := m.s.b.store.Mailbox(ctx, m.s.user, dest)
	if err != nil {
		return 0, nil, nil, storeError(err)
	}
	defer to.Close()
	msgs, err := m.mb.Messages(ctx)
	if err != nil {
		return 0, nil, nil, err
	}
	byUID := make(map[uint32]mailstore.Message, len(msgs))
	for _, msg := range msgs {
		byUID[msg.UID] = msg
	}
	ctx = context.WithoutCancel(ctx) // a copy half made is undone, not left
	var copied, out []uint32
	undo := func(err error) (uint32, []uint32, []uint32, error) {
		// RFC 3501 section 6.4.7: a COPY that fails leaves the
		// destination as it was.
		if len(out) > 0 {
			if derr := to.Delete(ctx, out...); derr != nil {
				m.s.b.log.Warn("imap: undoing a failed COPY", "user", m.s.user, "folder", dest, "err", derr)
			}
		}
		return 0, nil, nil, storeError(err)
	}
	for _, uid := range uids {
		msg, ok := byUID[uid]
		if !ok {
			continue // expunged meanwhile
		}
		f, err := m.mb.Open(uid)
		if errors.Is(err, mailstore.ErrNoSuchMessage) {
			continue
		}
		if err != nil {
			return undo(err)
		}
		// The internal date is the file's time; the open file's, as
		// the name may have changed since the listing.
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return undo(err)
		}
		flags := msg.Flags
		if hasKeywords(flags) { // the letters are the source folder's: the names go over
			if flags, err = letters(to, flagsWith(flags, keywordsOf(m.mb, flags)), true); err != nil {
				f.Close()
				return undo(err)
			}
		}
		n, err := to.Append(ctx, f, flags, fi.ModTime())
		f.Close()
		if err != nil {
			return undo(err)
		}
		copied, out = append(copied, uid), append(out, n)
	}
	validity, _, err := to.UIDValidity()
	if err != nil {
		return undo(err)
	}
	m.s.b.events.mailChangedUIDs("imap", m.s.user, to.Name(), out...) // the copies arrived (COPY and MOVE)
	return validity, copied, out, nil
}

func (m *imapMailbox) Updates() <-chan struct{} { return m.updates }

func (m *imapMailbox) Close() error {
	if m.stop != nil {
		m.stop()
	}
	if m.view != nil {
		m.FlushStructures(context.Background())
		m.s.b.closeView(m.view)
	}
	return m.mb.Close()
}
