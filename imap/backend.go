package imap

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"time"
)

// System flags (RFC 9051 section 2.3.2).
const (
	FlagSeen     = `\Seen`
	FlagAnswered = `\Answered`
	FlagFlagged  = `\Flagged`
	FlagDeleted  = `\Deleted`
	FlagDraft    = `\Draft`
	FlagRecent   = `\Recent` // IMAP4rev1 only; never stored
)

// Mailbox attributes of LIST (RFC 9051 section 7.3.1, RFC 6154, RFC 3348).
const (
	AttrNoselect      = `\Noselect`
	AttrNoinferiors   = `\Noinferiors`
	AttrHasChildren   = `\HasChildren`
	AttrHasNoChildren = `\HasNoChildren`
	AttrSubscribed    = `\Subscribed`
	AttrNonExistent   = `\NonExistent`
	AttrSent          = `\Sent`
	AttrDrafts        = `\Drafts`
	AttrTrash         = `\Trash`
	AttrJunk          = `\Junk`
	AttrArchive       = `\Archive`
	AttrAll           = `\All`
	AttrFlagged       = `\Flagged`
)

// Delimiter is the hierarchy delimiter of every mailbox name.
const Delimiter = '/'

// ConnInfo describes the client connection to a Backend: the shape
// every protocol package of plumb gives its backend.
type ConnInfo struct {
	RemoteAddr net.Addr
	LocalAddr  net.Addr
	// TLS is the connection's state under TLS (implicit, or after
	// STARTTLS), nil on a plaintext connection.
	TLS *tls.ConnectionState
}

// Backend authenticates users. Every call gets a context that ends with
// the session or when the server closes. A method that refuses returns
// an *Error to choose the reply (ErrAuthFailed, or one with its own
// response code); any other error is logged and the client hears a
// generic NO.
type Backend interface {
	// Login checks username and password and opens the user's session.
	Login(ctx context.Context, c ConnInfo, username, password string) (Session, error)
}

// MailboxInfo is one mailbox as LIST shows it. Name is UTF-8 with "/"
// between levels; Attrs are special-use and other attributes the
// backend knows (the server adds \HasChildren/\HasNoChildren and
// \Subscribed itself).
type MailboxInfo struct {
	Name       string
	Attrs      []string
	Subscribed bool
}

// MailboxStatus is what STATUS and SELECT report of a mailbox.
type MailboxStatus struct {
	Messages    uint32
	Recent      uint32
	Unseen      uint32
	Deleted     uint32 // messages with \Deleted, for STATUS DELETED
	UIDNext     uint32
	UIDValidity uint32
	Size        int64 // bytes, for STATUS SIZE
	// HighestModSeq is the largest MODSEQ of the mailbox (RFC 7162); it
	// never goes down, expunges included.
	HighestModSeq uint64
}

// MessageInfo is one message of a selected mailbox.
type MessageInfo struct {
	UID          uint32
	Flags        []string // system flags as the constants spell them, and keywords
	Size         int64    // RFC822.SIZE: octets with CRLF line ends
	InternalDate time.Time
	Recent       bool
	// ModSeq is the message's mod-sequence (RFC 7162): raised whenever
	// its flags change, never 0.
	ModSeq uint64
}

// Session is one logged-in user. Mailbox names are UTF-8, "INBOX" in
// that case for the inbox.
type Session interface {
	// List calls w for every mailbox of the user, in any order.
	List(ctx context.Context, w func(MailboxInfo) error) error
	Create(ctx context.Context, name string) error
	Delete(ctx context.Context, name string) error
	// Rename renames a mailbox and those below it. Renaming INBOX moves
	// its messages to the new mailbox and leaves INBOX empty (RFC 9051
	// section 6.3.6).
	Rename(ctx context.Context, from, to string) error
	SetSubscribed(ctx context.Context, name string, subscribed bool) error
	Status(ctx context.Context, name string) (MailboxStatus, error)
	// Append stores a message; r holds its bytes, which the backend
	// must read to the end or fail. It returns the mailbox's UIDVALIDITY
	// and the new message's UID (RFC 4315).
	Append(ctx context.Context, name string, r io.Reader, flags []string, date time.Time) (validity, uid uint32, err error)
	// Select opens a mailbox for SELECT or EXAMINE.
	Select(ctx context.Context, name string) (Mailbox, error)
	// Logout ends the session.
	Logout() error
}

// Mailbox is a mailbox a session has selected. The server keeps the
// session's view (message sequence numbers) itself: it asks Messages at
// the points RFC 9051 allows updates and tells the client what changed.
type Mailbox interface {
	// Status returns UIDVALIDITY and UIDNEXT (the rest may be zero).
	Status(ctx context.Context) (MailboxStatus, error)
	// Messages lists the mailbox in ascending UID order. The server
	// never modifies the slice, nor the Flags in it, so a backend may
	// hand the same listing to every session on the mailbox. A listing
	// that starts where an earlier one's memory does (the earlier one
	// appended to) must hold the earlier one's messages unchanged: the
	// server then looks only at what follows.
	Messages(ctx context.Context) ([]MessageInfo, error)
	// Open returns a message's bytes, with LF or CRLF line ends.
	Open(ctx context.Context, uid uint32) (io.ReadCloser, error)
	// SetFlags replaces a message's flags.
	SetFlags(ctx context.Context, uid uint32, flags []string) error
	// Expunge removes messages for good; UIDs no longer there are ignored.
	Expunge(ctx context.Context, uids []uint32) error
	// Copy copies messages to another mailbox of the session's user and
	// returns that mailbox's UIDVALIDITY, the source UIDs it copied (those
	// of uids still there, in order) and their new UIDs, pair by pair.
	// It fails, leaving the destination as it was, when a message that
	// is there cannot be copied; MOVE expunges only what was copied.
	Copy(ctx context.Context, uids []uint32, dest string) (validity uint32, copied, newUIDs []uint32, err error)
	// Updates is signaled (a value, or a close) when the mailbox may
	// have changed behind the session: another session, a delivery.
	Updates() <-chan struct{}
	// Close ends the selection.
	Close() error
}

// StatusItemsSession is a Session that computes only the STATUS items
// asked (names as in the command: "MESSAGES", "SIZE", ...), for those
// that cost it a look at every message; the rest of the answer may be
// zero. Without it the server calls Status.
type StatusItemsSession interface {
	StatusItems(ctx context.Context, name string, items []string) (MailboxStatus, error)
}

// FlagChanger is a Mailbox that adds and removes flags against a
// message's current flags, atomically in its store, rather than the
// session's view of them, which may be stale: STORE +FLAGS and -FLAGS
// and the \Seen a body FETCH sets use it, so that two clients changing
// different flags of one message at once both keep their change.
// Each returns the message's flags after the change. Without it the
// server replaces the flags from its view with SetFlags.
type FlagChanger interface {
	AddFlags(ctx context.Context, uid uint32, flags []string) ([]string, error)
	RemoveFlags(ctx context.Context, uid uint32, flags []string) ([]string, error)
}

// SnapshotLister is a Mailbox that can list from a snapshot other
// sessions share, current as of every change it signaled on Updates
// but perhaps not yet of one made behind the backend (which Messages
// finds): the server lists with it when it looks because of a signal,
// so that one delivery to a mailbox a thousand sessions watch is
// listed once, not a thousand times. The result is read-only, as
// Messages' is.
type SnapshotLister interface {
	Snapshot(ctx context.Context) ([]MessageInfo, error)
}

// StructureFlusher is a StructureCache that gathers what SetStructure
// is given and stores it in batches: the server calls FlushStructures
// at the end of every FETCH.
type StructureFlusher interface {
	FlushStructures(ctx context.Context)
}

// FlagSyncer is a Mailbox whose flag changes are made durable together:
// the server calls SyncFlags once after the changes of a STORE (or of a
// FETCH that set \Seen) and before it answers, so that a thousand
// changes cost one sync, not a thousand. A failure fails the command.
type FlagSyncer interface {
	SyncFlags(ctx context.Context) error
}

// DateLoader is a Mailbox whose listing may leave a message's
// InternalDate zero until it is asked for (a Maildir keeps it as the
// file's mtime: a stat of each of 10,000 files would be most of a first
// SELECT's work): the server asks InternalDate for such a message when
// a FETCH or SEARCH needs its date.
type DateLoader interface {
	InternalDate(ctx context.Context, uid uint32) (time.Time, error)
}

// PermanentKeywords is a Mailbox that stores keywords besides the
// system flags; without it PERMANENTFLAGS lists system flags only.
type PermanentKeywords interface {
	KeywordsAllowed() bool
}

// StructureCache is a Mailbox that keeps each message's ENVELOPE, BODY
// and BODYSTRUCTURE (their IMAP4rev1 wire form, as the server made
// them), so that FETCH of them need not read and parse the message
// again. SetStructure's failures are the backend's to log.
type StructureCache interface {
	Structure(ctx context.Context, uid uint32) (envelope, body, structure []byte, ok bool)
	SetStructure(ctx context.Context, uid uint32, envelope, body, structure []byte)
}

// QuotaSession is a Session with a storage quota (RFC 9208).
type QuotaSession interface {
	// Quota returns the bytes used and the limit (0: none).
	Quota(ctx context.Context) (used, limit int64, err error)
}
