package daemon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"
	"time"

	"github.com/plumbnet/plumb/imap"
	"github.com/plumbnet/plumb/internal/mailstore"
)

// folderView is what the IMAP sessions on one folder share: the store's
// last listing and the IMAP form of it (flags, dates, sizes and
// mod-sequences from the index), made once per change of the folder
// rather than once per session. A thousand sessions in IDLE on a
// 10,000-message INBOX then hold one listing between them, and a
// delivery costs one look at the folder, not a thousand.
type folderView struct {
	key  string
	refs int // sessions that selected the folder; guarded by imapBackend.viewsMu

	mu      sync.Mutex
	src     []mailstore.Message // the store's listing infos was made from
	infos   []imap.MessageInfo  // read-only once made: sessions hold it
	highest uint64
	// Structures FETCH computed, written to the index in one batch at
	// the end of the command rather than one write a message.
	pendMsgs    []mailstore.Message
	pendEntries []mailstore.IndexEntry
}

func (b *imapBackend) openView(user, folder string) *folderView {
	key := user + "\x00" + folder
	b.viewsMu.Lock()
	defer b.viewsMu.Unlock()
	if b.views == nil {
		b.views = map[string]*folderView{}
	}
	v := b.views[key]
	if v == nil {
		v = &folderView{key: key}
		b.views[key] = v
	}
	v.refs++
	return v
}

func (b *imapBackend) closeView(v *folderView) {
	b.viewsMu.Lock()
	defer b.viewsMu.Unlock()
	if v.refs--; v.refs <= 0 {
		delete(b.views, v.key)
	}
}

// sameListing reports whether a and b are one listing (the store hands
// out the same slice while nothing changed).
func sameListing(a, b []mailstore.Message) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func (m *imapMailbox) Messages(ctx context.Context) ([]imap.MessageInfo, error) {
	return m.list(ctx, true)
}

// Snapshot lists without looking for changes made behind the store:
// what a session woken by Watch needs (imap.SnapshotLister).
func (m *imapMailbox) Snapshot(ctx context.Context) ([]imap.MessageInfo, error) {
	return m.list(ctx, false)
}

func (m *imapMailbox) Status(ctx context.Context) (imap.MailboxStatus, error) {
	if _, err := m.list(ctx, false); err != nil { // the highest mod-sequence comes with a listing
		return imap.MailboxStatus{}, err
	}
	validity, next, err := m.mb.UIDValidity()
	v := m.viewOf()
	v.mu.Lock()
	defer v.mu.Unlock()
	return imap.MailboxStatus{UIDValidity: validity, UIDNext: next, HighestModSeq: v.highest}, err
}

// viewOf returns the shared view, or for a handle of the backend's own
// (Rename's), a private one.
func (m *imapMailbox) viewOf() *folderView {
	if m.view == nil {
		m.view = &folderView{}
	}
	return m.view
}

// list returns the folder's IMAP listing, made again only when the
// store's listing changed. Sessions that ask at once wait for the one
// that makes it.
func (m *imapMailbox) list(ctx context.Context, exact bool) ([]imap.MessageInfo, error) {
	msgs, err := m.mb.Snapshot(ctx, exact)
	if err != nil {
		return nil, err
	}
	v := m.viewOf()
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.infos != nil && sameListing(v.src, msgs) {
		return v.infos, nil
	}
	// The store appended to the listing the view was made from (a
	// delivery): the IMAP form is appended to in turn, so that sessions
	// holding the old one see that it starts the new one.
	if v.infos != nil && len(v.infos) == len(v.src) && len(v.src) > 0 && len(msgs) > len(v.src) && &v.src[0] == &msgs[0] {
		out, highest, err := m.build(msgs, len(v.src), v.infos)
		if err == nil {
			v.src, v.infos, v.highest = msgs, out, highest
			return out, nil
		}
		if !errors.Is(err, errRenumbered) {
			return nil, err
		}
	}
	out, highest, err := m.build(msgs, 0, make([]imap.MessageInfo, 0, len(msgs)+len(msgs)/8+16))
	if err != nil {
		return nil, err
	}
	v.src, v.infos, v.highest = msgs, out, highest
	return out, nil
}

// errRenumbered: the index gave a message already in the IMAP listing
// another mod-sequence (another process changed its flags): the
// listing is made afresh rather than appended to.
var errRenumbered = errors.New("imap: mod-sequences changed behind the view")

// build appends the IMAP form of msgs[from:] to out, which holds that
// of msgs[:from], and numbers them.
func (m *imapMailbox) build(msgs []mailstore.Message, from int, out []imap.MessageInfo) ([]imap.MessageInfo, uint64, error) {
	// The index beside the Maildir holds dates and sizes, so a SELECT
	// in a new process need not stat or read every file; file names
	// hold the sizes of what plumb and Dovecot deliver.
	cached := m.idx.CachedAll(msgs[from:])
	var kw *mailstore.Keywords // read once, if a message has a keyword
	for _, msg := range msgs[from:] {
		if kw = keywordsOf(m.mb, msg.Flags); kw != nil {
			break
		}
	}
	var fresh []mailstore.Message
	var entries []mailstore.IndexEntry
	for i, msg := range msgs[from:] {
		e := cached[i]
		size := msg.CRLFSize
		if size < 0 && e.Size > 0 {
			size = e.Size
		}
		// A date the index does not have yet is left for InternalDate:
		// a stat a message is most of what a first SELECT would cost.
		var date time.Time
		if e.Date != 0 {
			date = time.Unix(0, e.Date)
		}
		if size < 0 {
			var err error
			if size, err = m.mb.CRLFSize(msg); err != nil {
				continue // gone since it was listed
			}
			fresh = append(fresh, msg)
			entries = append(entries, mailstore.IndexEntry{Size: size})
		}
		out = append(out, imap.MessageInfo{UID: msg.UID, Flags: flagsWith(msg.Flags, kw), Size: size, InternalDate: date, Recent: msg.Recent})
	}
	seqs, highest, err := m.idx.CacheAndNumber(msgs, fresh, entries)
	if err != nil {
		return nil, 0, err
	}
	for i := range from {
		if out[i].ModSeq != seqs[i] {
			return nil, 0, errRenumbered
		}
	}
	k := from
	for i, msg := range msgs[from:] {
		if k < len(out) && out[k].UID == msg.UID {
			out[k].ModSeq = seqs[from+i]
			k++
		}
	}
	return out, highest, nil
}

// message returns the store's entry of uid as last listed.
func (v *folderView) message(uid uint32) (mailstore.Message, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	i, ok := slices.BinarySearchFunc(v.src, uid, func(m mailstore.Message, u uint32) int { return cmp.Compare(m.UID, u) })
	if !ok {
		return mailstore.Message{}, false
	}
	return v.src[i], true
}

func (m *imapMailbox) Structure(ctx context.Context, uid uint32) (envelope, body, structure []byte, ok bool) {
	msg, found := m.viewOf().message(uid)
	if !found {
		return nil, nil, nil, false
	}
	e, ok := m.idx.Cached(msg)
	if !ok || e.Envelope == nil || e.Body == nil || e.Structure == nil {
		return nil, nil, nil, false
	}
	return e.Envelope, e.Body, e.Structure, true
}

// InternalDate looks up a date the listing left out, for the index to
// keep (imap.DateLoader).
func (m *imapMailbox) InternalDate(ctx context.Context, uid uint32) (time.Time, error) {
	v := m.viewOf()
	msg, found := v.message(uid)
	if !found {
		return time.Time{}, storeError(fmt.Errorf("%w: UID %d", mailstore.ErrNoSuchMessage, uid))
	}
	if e, ok := m.idx.Cached(msg); ok && e.Date != 0 {
		return time.Unix(0, e.Date), nil
	}
	date, err := m.internalDate(msg)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, mailstore.ErrNoSuchMessage) {
			return time.Time{}, storeError(fmt.Errorf("%w: UID %d", mailstore.ErrNoSuchMessage, uid))
		}
		return time.Time{}, err
	}
	m.pend(msg, mailstore.IndexEntry{Date: date.UnixNano()})
	return date, nil
}

// pend gathers an index entry for the next FlushStructures.
func (m *imapMailbox) pend(msg mailstore.Message, e mailstore.IndexEntry) {
	v := m.viewOf()
	v.mu.Lock()
	v.pendMsgs = append(v.pendMsgs, msg)
	v.pendEntries = append(v.pendEntries, e)
	full := len(v.pendMsgs) >= maxPendingStructures
	v.mu.Unlock()
	if full {
		m.FlushStructures(context.Background())
	}
}

// maxPendingStructures bounds what SetStructure gathers before it writes.
const maxPendingStructures = 512

func (m *imapMailbox) SetStructure(ctx context.Context, uid uint32, envelope, body, structure []byte) {
	if msg, found := m.viewOf().message(uid); found {
		m.pend(msg, mailstore.IndexEntry{Envelope: envelope, Body: body, Structure: structure})
	}
}

// FlushStructures writes the structures gathered to the index (a cache:
// a failure is logged, and they are computed again next time).
func (m *imapMailbox) FlushStructures(ctx context.Context) {
	v := m.viewOf()
	v.mu.Lock()
	msgs, entries := v.pendMsgs, v.pendEntries
	v.pendMsgs, v.pendEntries = nil, nil
	v.mu.Unlock()
	if err := m.idx.CacheBatch(msgs, entries); err != nil {
		m.s.b.log.Warn("imap: writing the index", "user", m.s.user, "folder", m.mb.Name(), "err", err)
	}
}
