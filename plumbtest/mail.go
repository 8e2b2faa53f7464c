package plumbtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/plumbnet/plumb/internal/mailstore"
)

// maxMessageBytes bounds the message a Mailbox reads into a [Message]:
// past it, Messages and WaitFor fail rather than fill the test's memory.
const maxMessageBytes = 64 << 20

// Mailbox is one folder of one account's mail, as the daemon's store
// holds it: what SMTP delivered, what POP3 and IMAP read. Its methods
// work on the daemon's own store, so IMAP sessions see what Deliver
// stores and WaitFor wakes at SMTP's delivery.
type Mailbox struct {
	s      *Server
	user   string // the account
	home   string // the account's mail directory name in the store
	folder string
}

// Mail returns the inbox of the account user. An unknown user fails the
// test.
func (s *Server) Mail(user string) *Mailbox {
	if s.tb != nil {
		s.tb.Helper()
	}
	u, ok := s.d.Accounts().Lookup(user)
	if !ok {
		s.fail("plumbtest: Mail(%q): no such account; there are %s", user, strings.Join(s.Users(), ", "))
	}
	return &Mailbox{s: s, user: u.Name, home: u.HomeName(), folder: mailstore.Inbox}
}

// Folder returns the account's folder name ("Sent", "Archive/2024"), in
// the names IMAP shows. It need not exist yet: Deliver makes it, and
// Messages finds it empty.
func (m *Mailbox) Folder(name string) *Mailbox {
	if name == "" || strings.EqualFold(name, mailstore.Inbox) {
		name = mailstore.Inbox
	}
	c := *m
	c.folder = name
	return &c
}

// Name returns the folder's name, "INBOX" for the inbox.
func (m *Mailbox) Name() string { return m.folder }

// Address returns the account's mail address, user@localhost.
func (m *Mailbox) Address() string { return m.user + "@" + Domain }

func (m *Mailbox) store() (*mailstore.Store, error) {
	st, err := m.s.d.MailStore()
	if err != nil {
		return nil, fmt.Errorf("plumbtest: the mail store: %w", err)
	}
	return st, nil
}

// Deliver stores raw, an RFC 5322 message, in the folder as SMTP
// delivery would (creating the folder if it is missing), and returns it
// as stored. It returns once the message is durable.
func (m *Mailbox) Deliver(ctx context.Context, raw []byte) (*Message, error) {
	st, err := m.store()
	if err != nil {
		return nil, err
	}
	if m.folder != mailstore.Inbox {
		if err := st.CreateFolder(m.home, m.folder); err != nil && !errors.Is(err, mailstore.ErrFolderExists) {
			return nil, fmt.Errorf("plumbtest: Deliver to %s: %w", m.folder, err)
		}
	}
	uid, err := st.Deliver(ctx, m.home, m.folder, bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("plumbtest: Deliver to %s of %s: %w", m.folder, m.user, err)
	}
	msg := parseMessage(bytes.Clone(raw)) // the caller may reuse raw
	msg.UID, msg.Folder = uid, m.folder
	return msg, nil
}

// Messages returns the folder's messages, oldest first. A folder that
// does not exist has none.
func (m *Mailbox) Messages(ctx context.Context) ([]*Message, error) {
	var out []*Message
	_, err := m.scan(ctx, nil, func(msg *Message) bool {
		out = append(out, msg)
		return false
	})
	return out, err
}

// scan reads the folder's messages, oldest first, but for the UIDs in
// skip, and hands each to fn until fn returns true; it returns the
// number of messages listed. A folder that does not exist has none.
func (m *Mailbox) scan(ctx context.Context, skip map[uint32]bool, fn func(*Message) bool) (int, error) {
	st, err := m.store()
	if err != nil {
		return 0, err
	}
	mb, err := st.Mailbox(ctx, m.home, m.folder)
	if errors.Is(err, mailstore.ErrNoSuchFolder) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("plumbtest: Messages of %s/%s: %w", m.user, m.folder, err)
	}
	defer mb.Close()
	list, err := mb.Messages(ctx)
	if err != nil {
		return 0, fmt.Errorf("plumbtest: Messages of %s/%s: %w", m.user, m.folder, err)
	}
	for _, e := range list {
		if skip[e.UID] {
			continue
		}
		msg, err := m.read(mb, e)
		if errors.Is(err, errGone) {
			continue // expunged since the listing
		}
		if err != nil {
			return 0, err
		}
		if fn(msg) {
			break
		}
	}
	return len(list), nil
}

// errGone reports a message removed between the listing and the read.
var errGone = errors.New("plumbtest: message gone")

func (m *Mailbox) read(mb *mailstore.Mailbox, e mailstore.Message) (*Message, error) {
	f, err := mb.Open(e.UID)
	if err != nil {
		if errors.Is(err, mailstore.ErrNoSuchMessage) {
			return nil, errGone
		}
		return nil, fmt.Errorf("plumbtest: reading message %d of %s/%s: %w", e.UID, m.user, m.folder, err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxMessageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("plumbtest: reading message %d of %s/%s: %w", e.UID, m.user, m.folder, err)
	}
	if len(raw) > maxMessageBytes {
		return nil, fmt.Errorf("plumbtest: message %d of %s/%s is over %d bytes", e.UID, m.user, m.folder, maxMessageBytes)
	}
	msg := parseMessage(raw)
	msg.UID, msg.Folder = e.UID, m.folder
	msg.Seen = e.Flags.Has(mailstore.FlagSeen)
	if d, err := e.InternalDate(); err == nil {
		msg.Received = d
	}
	return msg, nil
}

// WaitFor returns the oldest message of the folder that matches, waiting
// for one to arrive if none does yet, until ctx is done. A message
// already there when WaitFor is called counts: delete what an earlier
// step left (Delete) or match on something unique to the one awaited.
// It is woken by the store's change notification, at the delivery
// itself: no polling, no sleeping.
func (m *Mailbox) WaitFor(ctx context.Context, match Match) (*Message, error) {
	st, err := m.store()
	if err != nil {
		return nil, err
	}
	// Subscribe before looking, so a delivery between the look and the
	// wait is not missed.
	changed, stop, err := st.Watch(m.home, m.folder)
	if err != nil {
		return nil, fmt.Errorf("plumbtest: WaitFor in %s/%s: %w", m.user, m.folder, err)
	}
	defer stop()
	// A message's content never changes under its UID, so one that did
	// not match is not read again when the folder next changes.
	checked := map[uint32]bool{}
	for {
		var found *Message
		n, err := m.scan(ctx, checked, func(msg *Message) bool {
			if match.Matches(msg) {
				found = msg
				return true
			}
			checked[msg.UID] = true
			return false
		})
		if err != nil {
			return nil, err
		}
		if found != nil {
			return found, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("plumbtest: WaitFor %v in %s/%s (%d messages, none matching): %w",
				match, m.user, m.folder, n, ctx.Err())
		}
	}
}

// Delete removes the messages with these UIDs from the folder for good;
// with none, it empties the folder.
func (m *Mailbox) Delete(ctx context.Context, uids ...uint32) error {
	st, err := m.store()
	if err != nil {
		return err
	}
	mb, err := st.Mailbox(ctx, m.home, m.folder)
	if errors.Is(err, mailstore.ErrNoSuchFolder) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("plumbtest: Delete in %s/%s: %w", m.user, m.folder, err)
	}
	defer mb.Close()
	if len(uids) == 0 {
		list, err := mb.Messages(ctx)
		if err != nil {
			return fmt.Errorf("plumbtest: Delete in %s/%s: %w", m.user, m.folder, err)
		}
		for _, e := range list {
			uids = append(uids, e.UID)
		}
	}
	if err := mb.Delete(ctx, uids...); err != nil {
		return fmt.Errorf("plumbtest: Delete in %s/%s: %w", m.user, m.folder, err)
	}
	return nil
}

// Folders returns the names of the account's folders, INBOX first.
func (m *Mailbox) Folders() ([]string, error) {
	st, err := m.store()
	if err != nil {
		return nil, err
	}
	return st.Folders(m.home)
}
