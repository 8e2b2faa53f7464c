package daemon

import (
	"context"
	"net"
	"path"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plumbnet/plumb/internal/filestore"
	"github.com/plumbnet/plumb/internal/mailstore"
	"github.com/plumbnet/plumb/internal/webadmin"
)

// eventBuffer is how many events a subscriber may fall behind by before
// it loses the newest ones.
const eventBuffer = 256

// eventHub fans the daemon's events (webadmin.Event: delivery,
// mail-change, upload, post, login-failure) out to subscribers: the
// console's live views, the API's waits and event streams, webhooks.
// Publishing never blocks: a subscriber whose buffer is full loses the
// event, and the loss is counted.
type eventHub struct {
	mu      sync.RWMutex
	subs    map[chan webadmin.Event]struct{}
	dropped atomic.Uint64
}

var _ webadmin.EventSource = (*eventHub)(nil)

func newEventHub() *eventHub { return &eventHub{subs: map[chan webadmin.Event]struct{}{}} }

// Subscribe returns a channel of the events published from now on.
func (h *eventHub) Subscribe() (<-chan webadmin.Event, func()) {
	ch := make(chan webadmin.Event, eventBuffer)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs, ch)
			h.mu.Unlock()
		})
	}
}

// hub returns the daemon's event hub; nil (publishing nothing) for a
// nil daemon, as some tests build a backend without one.
func (d *Daemon) hub() *eventHub {
	if d == nil {
		return nil
	}
	return d.events
}

// publish hands ev to every subscriber that has room for it.
func (h *eventHub) publish(ev webadmin.Event) {
	if h == nil {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for ch := range h.subs {
		select {
		case ch <- ev:
		default:
			h.dropped.Add(1)
		}
	}
}

// Events returns the daemon's event source.
func (d *Daemon) Events() webadmin.EventSource { return d.events }

// delivered publishes a delivery for each target (user or user/folder)
// that got a UID.
func (h *eventHub) delivered(service string, targets []string, uids []uint32) {
	for i, t := range targets {
		if i < len(uids) && uids[i] != 0 {
			user, folder := mailstore.SplitTarget(t, mailstore.Inbox)
			h.publish(webadmin.Event{Kind: "delivery", Service: service,
				Message: &webadmin.MessageRef{User: user, Folder: folder, UID: uids[i]}})
		}
	}
}

// mailChanged publishes a change (flags, deletion, move) to a message.
func (h *eventHub) mailChanged(service string, m webadmin.MessageRef) {
	h.publish(webadmin.Event{Kind: "mail-change", Service: service, Message: &m})
}

// mailChangedUIDs publishes a change to each of uids in user's folder.
func (h *eventHub) mailChangedUIDs(service, user, folder string, uids ...uint32) {
	for _, uid := range uids {
		h.mailChanged(service, webadmin.MessageRef{User: user, Folder: folder, UID: uid})
	}
}

// changed publishes a change an IMAP client made to messages of m.
func (m *imapMailbox) changed(uids ...uint32) {
	m.s.b.events.mailChangedUIDs("imap", m.s.user, m.mb.Name(), uids...)
}

// uploaded publishes a file stored at path, from the file tree's root.
func (h *eventHub) uploaded(service, path string) {
	h.publish(webadmin.Event{Kind: "upload", Service: service, Path: path})
}

// posted publishes an article's arrival in a group.
func (h *eventHub) posted(service, group string, number int64) {
	h.publish(webadmin.Event{Kind: "post", Service: service, Group: group, Number: number})
}

// loginFailed publishes a failed login (the accounts' OnFailure hook).
func (h *eventHub) loginFailed(user string, remote net.Addr) {
	ev := webadmin.Event{Kind: "login-failure", User: user}
	if remote != nil {
		ev.Remote = remote.String()
	}
	h.publish(ev)
}

// uploadHook publishes the uploads committed to one tree of the file
// store, whose root is at prefix ("anonymous", "home/alice").
type uploadHook struct {
	h       *eventHub
	service string
	prefix  string
}

// commit commits up and, once it is stored, publishes it.
func (u uploadHook) commit(ctx context.Context, up *filestore.Upload) error {
	err := up.Commit(ctx)
	if err == nil && u.h != nil {
		u.h.uploaded(u.service, path.Join(u.prefix, up.Name()))
	}
	return err
}
