package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/plumbnet/plumb/internal/mailstore"
	"github.com/plumbnet/plumb/internal/webadmin"
)

// webMail is the mail store as a webadmin.MailBackend. Each folder the
// API has looked at keeps its message list (taken again only when the
// store signals a change to it) and a summary of each message by its
// Maildir key, which never changes once delivered: the first page of
// a 100,000-message folder and a search over it read no message file.
type webMail struct {
	d     *Daemon
	store *mailstore.Store
	idx   *indexer // webadmin_index.go

	mu      sync.Mutex
	folders map[[2]string]*webFolder
}

var _ webadmin.MailBackend = (*webMail)(nil)

// webFolder is one folder's list and summaries.
type webFolder struct {
	user, folder string
	idx          *indexer

	mu      sync.Mutex
	changed <-chan struct{} // the store's Watch, from the first listing: a value means list again
	stop    func()
	pass    chan struct{}       // closed when the background pass running ends (webadmin_index.go)
	msgs    []mailstore.Message // UID order
	listed  bool                // listed once exactly; since, from the snapshot
	checked uint32              // the highest UID list has looked for a summary of
	sums    *flatSums           // by Maildir key (webadmin_flat.go)
	refs    []uint64            // the place in sums of each of refsOf's messages, or noRef (see refsFor)
	refsOf  []mailstore.Message // the listing refs are of
	refsGen uint64              // sums.gen when refs were found

	path     string       // the summary file (webadmin_summary.go)
	loaded   bool         // its summaries are in sums
	records  int          // in the file, live or not
	end      int          // where its valid records end; -1: not known yet
	pending  bytes.Buffer // records made since the last flush
	pendingN int          // how many
}

func newWebMail(d *Daemon, store *mailstore.Store) *webMail {
	w := &webMail{d: d, store: store, idx: newIndexer(), folders: map[[2]string]*webFolder{}}
	if d != nil {
		w.start()
	}
	return w
}

func (w *webMail) Accounts(ctx context.Context) ([]string, error) {
	var names []string
	for _, a := range w.d.Accounts().List() {
		names = append(names, a.Name)
	}
	return names, nil
}

// account returns the account's name as the store has it (names
// match in any case).
func (w *webMail) account(user string) (string, error) {
	u, ok := w.d.Accounts().Lookup(user)
	if !ok {
		return "", fmt.Errorf("%w: no such account %q", webadmin.ErrNotFound, user)
	}
	return u.Name, nil
}

// canonical returns ref with the account's and the inbox's own names.
func (w *webMail) canonical(ref webadmin.MessageRef) (webadmin.MessageRef, error) {
	var err error
	ref.User, err = w.account(ref.User)
	if ref.Folder == "" || strings.EqualFold(ref.Folder, mailstore.Inbox) {
		ref.Folder = mailstore.Inbox
	}
	return ref, err
}

func (w *webMail) Folders(ctx context.Context, user string) ([]webadmin.Folder, error) {
	user, err := w.account(user)
	if err != nil {
		return nil, err
	}
	names, err := w.store.Folders(user)
	if err != nil {
		return nil, mailError(err)
	}
	if !slices.Contains(names, mailstore.Inbox) {
		names = append([]string{mailstore.Inbox}, names...)
	}
	var out []webadmin.Folder
	for _, n := range names {
		msgs, err := w.messages(ctx, user, n)
		if err != nil {
			continue // removed meanwhile
		}
		f := webadmin.Folder{Name: n, Messages: len(msgs)}
		for _, m := range msgs {
			if !m.Flags.Has(mailstore.FlagSeen) {
				f.Unseen++
			}
		}
		for _, su := range specialUse {
			if strings.EqualFold(su.name, n) {
				f.SpecialUse = su.attr
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// view returns the folder's view (watched from its first listing).
func (w *webMail) view(user, folder string) (*webFolder, error) {
	if strings.EqualFold(folder, mailstore.Inbox) || folder == "" {
		folder = mailstore.Inbox
	}
	k := [2]string{user, folder}
	w.mu.Lock()
	defer w.mu.Unlock()
	if v, ok := w.folders[k]; ok {
		return v, nil
	}
	_, stop, err := w.store.Watch(user, folder) // checks the name; the watch starts with the first listing
	if err != nil {
		return nil, mailError(err)
	}
	stop()
	v := &webFolder{user: user, folder: folder, idx: w.idx, sums: newFlatSums(0), end: -1, path: summaryPath(w.d.DataDir(), user, folder)}
	w.folders[k] = v
	return v, nil
}

// messages returns the folder's messages in UID order, listing the
// Maildir again only after a change or on first use.
func (w *webMail) messages(ctx context.Context, user, folder string) ([]mailstore.Message, error) {
	v, err := w.view(user, folder)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.list(ctx, w)
}

// list is messages with v held. A listing that shows a message not
// summarized starts the folder's background pass.
func (v *webFolder) list(ctx context.Context, w *webMail) ([]mailstore.Message, error) {
	select {
	case <-v.changed:
		v.msgs = nil
	default:
	}
	if v.msgs != nil {
		return v.msgs, nil
	}
	// The summary file is read beside the listing, on the other CPU: a
	// restart's listing of 100,000 takes a good part of a second, the
	// load a few tens of milliseconds. load touches only what the
	// listing does not (v.loaded, v.records, v.end, v.sums), and v is
	// held meanwhile.
	var loading sync.WaitGroup
	if !v.loaded {
		loading.Go(v.load)
	}
	defer loading.Wait()
	if v.changed == nil { // before the first listing, so that no change falls between
		ch, stop, err := w.store.Watch(v.user, v.folder)
		if err != nil {
			return nil, mailError(err)
		}
		v.changed, v.stop = ch, stop
	}
	mb, err := w.store.Mailbox(ctx, v.user, v.folder)
	if err != nil {
		return nil, mailError(err)
	}
	defer mb.Close()
	// The first listing is exact; after a change signal the store's
	// shared snapshot has the change patched in, without listing the
	// Maildir again (read-only: the listing is every reader's).
	msgs, err := mb.Snapshot(ctx, !v.listed)
	v.listed = true
	if err != nil {
		return nil, err
	}
	if msgs == nil {
		msgs = []mailstore.Message{}
	}
	loading.Wait()
	if v.sums.len() > len(msgs)+1024 { // a summary of a gone message is never wrong, only kept
		live := make(map[string]bool, len(msgs))
		for _, m := range msgs {
			live[m.Key] = true
		}
		v.sums.keep(func(key []byte) bool { return live[string(key)] })
	}
	v.msgs = msgs
	// Messages above the highest UID looked at before are new: one
	// without a summary starts a pass (which looks at every message).
	refs := v.refsFor(msgs) // in order, and kept for the search that follows
	for i := len(msgs) - 1; i >= 0 && msgs[i].UID > v.checked; i-- {
		if refs[i] == noRef && v.pass == nil {
			w.startPass(v)
			break
		}
	}
	if n := len(msgs); n > 0 {
		v.checked = msgs[n-1].UID
	}
	return msgs, nil
}

func (w *webMail) List(ctx context.Context, user, folder string, q webadmin.Query, offset, limit int) ([]webadmin.Summary, int, error) {
	user, err := w.account(user)
	if err != nil {
		return nil, 0, err
	}
	v, err := w.view(user, folder)
	if err != nil {
		return nil, 0, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	msgs, err := v.list(ctx, w)
	if err != nil {
		return nil, 0, err
	}
	defer v.flush()
	all := q.Text == "" && q.From == "" && q.To == "" && q.Subject == "" && len(q.Header) == 0 && !q.Unseen && q.Since.IsZero()
	if !all {
		// A search waits for the folder's pass (one pass, not two),
		// then summarizes what came since.
		if err := v.await(ctx); err != nil {
			return nil, 0, err
		}
		if msgs, err = v.list(ctx, w); err != nil {
			return nil, 0, err
		}
		if err := v.await(ctx); err != nil { // one the new listing started
			return nil, 0, err
		}
		v.fill(msgs)
		q = lowerQuery(q)
	}
	out := []webadmin.Summary{}
	if all {
		for i := len(msgs) - 1 - offset; i >= 0 && len(out) < limit; i-- { // newest first
			out = append(out, summaryOf(user, v.summarize(msgs[i]), msgs[i], folder))
		}
		return out, len(msgs), nil
	}
	match, err := v.matchAll(ctx, msgs, q)
	if err != nil {
		return nil, 0, err
	}
	total := 0
	for i := len(msgs) - 1; i >= 0; i-- { // newest first
		if !match[i] {
			continue
		}
		total++
		if total > offset && len(out) < limit {
			out = append(out, summaryOf(user, v.summarize(msgs[i]), msgs[i], folder))
		}
	}
	return out, total, nil
}

// matchAll reports which of msgs fit q, lowercased by lowerQuery: the
// summaries kept are matched a part on each CPU (a search of 100,000
// is mostly substring scans), then those not kept (fill leaves out
// only a message it could not read) one by one. Called with v held, so
// nothing writes v.sums while the parts read it.
func (v *webFolder) matchAll(ctx context.Context, msgs []mailstore.Message, q webadmin.Query) ([]bool, error) {
	mq := newMatchQuery(q)
	refs := v.refsFor(msgs)
	match := make([]bool, len(msgs))
	missing := make([]bool, len(msgs))
	parts := 1
	if len(msgs) >= 4096 {
		parts = min(runtime.GOMAXPROCS(0), 8)
	}
	var wg sync.WaitGroup
	for p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for i := len(msgs) * p / parts; i < len(msgs)*(p+1)/parts; i++ {
				if i%1024 == 0 && ctx.Err() != nil {
					return
				}
				if refs[i] != noRef {
					match[i] = v.sums.at(refs[i]).matches(msgs[i], mq, &buf)
				} else {
					missing[i] = true
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i, miss := range missing {
		if miss {
			match[i] = v.summarize(msgs[i]).matches(msgs[i], q)
		}
	}
	return match, nil
}

func summaryOf(user string, s *summary, m mailstore.Message, folder string) webadmin.Summary {
	out := s.Sum
	if strings.EqualFold(folder, mailstore.Inbox) || folder == "" {
		folder = mailstore.Inbox
	}
	out.MessageRef = webadmin.MessageRef{User: user, Folder: folder, UID: m.UID}
	out.Flags = imapFlags(m.Flags)
	return out
}

// find returns the message and its summary.
func (w *webMail) find(ctx context.Context, ref webadmin.MessageRef) (mailstore.Message, webadmin.Summary, error) {
	v, err := w.view(ref.User, ref.Folder)
	if err != nil {
		return mailstore.Message{}, webadmin.Summary{}, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	msgs, err := v.list(ctx, w)
	if err != nil {
		return mailstore.Message{}, webadmin.Summary{}, err
	}
	i, ok := slices.BinarySearchFunc(msgs, ref.UID, func(m mailstore.Message, uid uint32) int { return int(int64(m.UID) - int64(uid)) })
	if !ok {
		return mailstore.Message{}, webadmin.Summary{}, fmt.Errorf("%w: no message %d in %s", webadmin.ErrNotFound, ref.UID, ref.Folder)
	}
	return msgs[i], summaryOf(ref.User, v.summarize(msgs[i]), msgs[i], ref.Folder), nil
}

func (w *webMail) Open(ctx context.Context, ref webadmin.MessageRef) (io.ReadCloser, webadmin.Summary, error) {
	ref, err := w.canonical(ref)
	if err != nil {
		return nil, webadmin.Summary{}, err
	}
	_, sum, err := w.find(ctx, ref)
	if err != nil {
		return nil, sum, err
	}
	mb, err := w.store.Mailbox(ctx, ref.User, ref.Folder)
	if err != nil {
		return nil, sum, mailError(err)
	}
	f, err := mb.Open(ref.UID)
	if err != nil {
		return nil, sum, mailError(err)
	}
	return f, sum, nil
}

func (w *webMail) Delete(ctx context.Context, ref webadmin.MessageRef) error {
	ref, err := w.canonical(ref)
	if err != nil {
		return err
	}
	if _, _, err := w.find(ctx, ref); err != nil {
		return err
	}
	mb, err := w.store.Mailbox(ctx, ref.User, ref.Folder)
	if err != nil {
		return mailError(err)
	}
	if err := mb.Delete(ctx, ref.UID); err != nil {
		return mailError(err)
	}
	w.d.events.mailChanged("admin", ref)
	return nil
}

func (w *webMail) Move(ctx context.Context, ref webadmin.MessageRef, to string) (webadmin.MessageRef, error) {
	ref, err := w.canonical(ref)
	if err != nil {
		return webadmin.MessageRef{}, err
	}
	m, _, err := w.find(ctx, ref)
	if err != nil {
		return webadmin.MessageRef{}, err
	}
	dst, err := w.store.Mailbox(ctx, ref.User, to)
	if err != nil {
		return webadmin.MessageRef{}, mailError(err)
	}
	src, err := w.store.Mailbox(ctx, ref.User, ref.Folder)
	if err != nil {
		return webadmin.MessageRef{}, mailError(err)
	}
	f, err := src.Open(ref.UID)
	if err != nil {
		return webadmin.MessageRef{}, mailError(err)
	}
	date, _ := m.InternalDate()
	uid, err := dst.Append(ctx, f, m.Flags, date)
	f.Close()
	if err != nil {
		return webadmin.MessageRef{}, mailError(err)
	}
	if err := src.Delete(ctx, ref.UID); err != nil {
		return webadmin.MessageRef{}, mailError(err)
	}
	moved := webadmin.MessageRef{User: ref.User, Folder: dst.Name(), UID: uid}
	w.d.events.mailChanged("admin", ref)
	w.d.events.mailChanged("admin", moved)
	return moved, nil
}

func imapFlags(f mailstore.Flags) []string {
	if out := fromLetters(f); out != nil {
		return out
	}
	return []string{}
}

// systemLetters checks that every name is an IMAP system flag and maps
// them to Maildir letters.
func systemLetters(names []string) (mailstore.Flags, error) {
	var b []byte
	for _, n := range names {
		i := slices.IndexFunc(flagLetters, func(f struct {
			flag   string
			letter byte
		}) bool {
			return strings.EqualFold(f.flag, n)
		})
		if i < 0 {
			return "", fmt.Errorf("%w: unknown flag %q (want \\Seen, \\Answered, \\Flagged, \\Draft or \\Deleted)", webadmin.ErrBadRequest, n)
		}
		b = append(b, flagLetters[i].letter)
	}
	return mailstore.NewFlags(string(b)), nil
}

func (w *webMail) SetFlags(ctx context.Context, ref webadmin.MessageRef, add, remove []string) ([]string, error) {
	ref, err := w.canonical(ref)
	if err != nil {
		return nil, err
	}
	a, err := systemLetters(add)
	if err != nil {
		return nil, err
	}
	r, err := systemLetters(remove)
	if err != nil {
		return nil, err
	}
	m, _, err := w.find(ctx, ref)
	if err != nil {
		return nil, err
	}
	mb, err := w.store.Mailbox(ctx, ref.User, ref.Folder)
	if err != nil {
		return nil, mailError(err)
	}
	flags := m.Flags
	if a != "" {
		if flags, err = mb.AddFlags(ctx, ref.UID, a); err != nil {
			return nil, mailError(err)
		}
	}
	if r != "" {
		if flags, err = mb.RemoveFlags(ctx, ref.UID, r); err != nil {
			return nil, mailError(err)
		}
	}
	w.d.events.mailChanged("admin", ref)
	return imapFlags(flags), nil
}

// Release sends the message again to each address, as the SMTP service
// does: local addresses are delivered, others go through the queue.
func (w *webMail) Release(ctx context.Context, ref webadmin.MessageRef, to []string) error {
	ref, err := w.canonical(ref)
	if err != nil {
		return err
	}
	if len(to) == 0 {
		return fmt.Errorf("%w: no address to release to", webadmin.ErrBadRequest)
	}
	for _, a := range to {
		if _, err := mail.ParseAddress(a); err != nil || strings.ContainsAny(a, "\r\n") {
			return fmt.Errorf("%w: bad address %q", webadmin.ErrBadRequest, a)
		}
	}
	send, ok := newsMail.Load(w.d)
	if !ok {
		return fmt.Errorf("%w: the SMTP service is not running", webadmin.ErrConflict)
	}
	rc, _, err := w.Open(ctx, ref)
	if err != nil {
		return err
	}
	msg, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return err
	}
	msg = bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n"))
	msg = bytes.ReplaceAll(msg, []byte("\n"), []byte("\r\n"))
	for _, a := range to {
		addr, _ := mail.ParseAddress(a)
		if err := send.(newsMailer)(ctx, "", addr.Address, msg); err != nil {
			return fmt.Errorf("releasing to %s: %w", addr.Address, err)
		}
	}
	w.d.log.Info("message released by an operator", "user", ref.User, "folder", ref.Folder, "uid", ref.UID, "to", strings.Join(to, ","))
	return nil
}

// mailError gives the store's errors the API's names.
func mailError(err error) error {
	switch {
	case errors.Is(err, mailstore.ErrNoSuchFolder), errors.Is(err, mailstore.ErrNoSuchMessage):
		return fmt.Errorf("%w: %w", webadmin.ErrNotFound, err)
	case errors.Is(err, mailstore.ErrBadName):
		return fmt.Errorf("%w: %w", webadmin.ErrBadRequest, err)
	case errors.Is(err, mailstore.ErrQuotaExceeded):
		return fmt.Errorf("%w: %w", webadmin.ErrTooLarge, err)
	}
	return err
}

// close ends the background work and stops watching the folders.
func (w *webMail) close() {
	w.idx.stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, v := range w.folders {
		v.mu.Lock()
		if v.stop != nil {
			v.stop()
		}
		v.sums.release() // a request still on v reads the messages again
		v.loaded, v.end = false, -1
		v.mu.Unlock()
		delete(w.folders, k)
	}
}
