package webadmin

import (
	"context"
	"errors"
	"io"
	"time"
)

// MessageRef names one message: an account, a folder of it, a UID in it.
type MessageRef struct {
	User   string `json:"user"`
	Folder string `json:"folder"`
	UID    uint32 `json:"uid"`
}

// Summary is one message as a list shows it.
type Summary struct {
	MessageRef
	MessageID string    `json:"message_id,omitempty"`
	From      string    `json:"from"`
	To        []string  `json:"to"`
	Cc        []string  `json:"cc,omitempty"`
	Subject   string    `json:"subject"`
	Date      time.Time `json:"date"`     // the Date header, or the arrival time without one
	Received  time.Time `json:"received"` // when the store took it
	Size      int64     `json:"size"`
	Flags     []string  `json:"flags"` // IMAP names: \Seen, \Flagged, \Answered, \Draft, \Deleted, keywords
}

// Folder is one folder of an account.
type Folder struct {
	Name       string `json:"name"`
	SpecialUse string `json:"special_use,omitempty"` // \Sent, \Trash, ...
	Messages   int    `json:"messages"`
	Unseen     int    `json:"unseen"`
}

// Query selects messages. Each non-empty field must match (substring,
// case-insensitive on decoded text); Text matches any of From, To, Cc,
// Subject and the plain-text body.
type Query struct {
	Text    string
	From    string
	To      string
	Subject string
	Header  map[string]string // header name -> substring of its decoded value
	Unseen  bool
	Since   time.Time // received at or after
}

// MailBackend is every account's mail.
type MailBackend interface {
	Accounts(ctx context.Context) ([]string, error)
	Folders(ctx context.Context, user string) ([]Folder, error)
	// List returns the messages of user's folder that match q, newest
	// first, skipping offset and at most limit, and how many match.
	List(ctx context.Context, user, folder string, q Query, offset, limit int) ([]Summary, int, error)
	// Open returns a message's raw RFC 5322 bytes and its summary.
	Open(ctx context.Context, m MessageRef) (io.ReadCloser, Summary, error)
	Delete(ctx context.Context, m MessageRef) error
	Move(ctx context.Context, m MessageRef, toFolder string) (MessageRef, error)
	SetFlags(ctx context.Context, m MessageRef, add, remove []string) ([]string, error)
	// Release sends the message again, through the daemon's SMTP
	// client, to the given addresses.
	Release(ctx context.Context, m MessageRef, to []string) error
}

// FileInfo is one entry of the shared tree.
type FileInfo struct {
	Path    string    `json:"path"` // slash-separated, from the tree's root, no leading slash
	Name    string    `json:"name"`
	Dir     bool      `json:"dir"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mod_time"`
}

// FileBackend is the shared file tree, seen from its root (the
// anonymous area and, under home/ or as the daemon names them, the
// accounts' homes).
type FileBackend interface {
	Stat(ctx context.Context, path string) (FileInfo, error)
	ReadDir(ctx context.Context, path string) ([]FileInfo, error)
	Open(ctx context.Context, path string) (io.ReadSeekCloser, FileInfo, error)
	// Put stores r at path durably before it returns.
	Put(ctx context.Context, path string, r io.Reader) (FileInfo, error)
	Delete(ctx context.Context, path string) error
}

// Group is one newsgroup.
type Group struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Low         int64  `json:"low"`
	High        int64  `json:"high"`
	Count       int64  `json:"count"`
	Status      string `json:"status"` // y, n or m
}

// ArticleSummary is one article as an overview shows it.
type ArticleSummary struct {
	Group     string    `json:"group"`
	Number    int64     `json:"number"`
	MessageID string    `json:"message_id"`
	From      string    `json:"from"`
	Subject   string    `json:"subject"`
	Date      time.Time `json:"date"`
	Bytes     int64     `json:"bytes"`
}

// NewsBackend is the news spool.
type NewsBackend interface {
	Groups(ctx context.Context) ([]Group, error)
	// Articles returns group's articles newest first, skipping offset,
	// at most limit, and how many there are.
	Articles(ctx context.Context, group string, offset, limit int) ([]ArticleSummary, int, error)
	Article(ctx context.Context, group string, number int64) (io.ReadCloser, ArticleSummary, error)
}

// Session is one open connection of a service.
type Session struct {
	ID       uint64    `json:"id"`
	Service  string    `json:"service"`
	Peer     string    `json:"peer"`
	User     string    `json:"user,omitempty"`
	Since    time.Time `json:"since"`
	BytesIn  int64     `json:"bytes_in"`
	BytesOut int64     `json:"bytes_out"`
}

// Service is one listening socket of the daemon.
type Service struct {
	Name        string `json:"name"`
	Net         string `json:"net"`
	Addr        string `json:"addr"`
	Connections int    `json:"connections"`
}

// Account is one account, without its secrets.
type Account struct {
	Name     string `json:"name"`
	FullName string `json:"full_name,omitempty"`
}

// LogLine is one line of the daemon's log.
type LogLine struct {
	Time    time.Time         `json:"time"`
	Level   string            `json:"level"`
	Message string            `json:"message"`
	Attrs   map[string]string `json:"attrs,omitempty"`
}

// OpsBackend is the daemon itself: services, sessions, accounts,
// metrics and the log.
type OpsBackend interface {
	Services(ctx context.Context) ([]Service, error)
	Sessions(ctx context.Context) ([]Session, error)
	CloseSession(ctx context.Context, id uint64) (bool, error)
	Users(ctx context.Context) ([]Account, error)
	// Metrics returns the daemon's counters and gauges by name.
	Metrics(ctx context.Context) (map[string]float64, error)
	// Log returns up to n of the latest log lines, oldest first.
	Log(ctx context.Context, n int) ([]LogLine, error)
}

// Event is something that happened in the daemon that a watcher, a
// waiting API call or a webhook may want.
type Event struct {
	Kind    string    `json:"kind"` // delivery, mail-change, upload, post, login-failure
	Time    time.Time `json:"time"`
	Service string    `json:"service,omitempty"`
	// delivery and mail-change
	Message *MessageRef `json:"message,omitempty"`
	// upload
	Path string `json:"path,omitempty"`
	// post
	Group  string `json:"group,omitempty"`
	Number int64  `json:"number,omitempty"`
	// login-failure
	User   string `json:"user,omitempty"`
	Remote string `json:"remote,omitempty"`
}

// EventSource delivers the daemon's events as they happen.
type EventSource interface {
	// Subscribe returns a channel of events from now on; a subscriber
	// that does not keep up loses events rather than slowing the
	// daemon (the channel is buffered). stop ends the subscription.
	Subscribe() (events <-chan Event, stop func())
}

// Errors a backend wraps to choose the API's status: 404, 400, 409 and
// 413 (fs.ErrNotExist is also a 404 and fs.ErrExist a 409).
var (
	ErrNotFound   = errors.New("not found")
	ErrBadRequest = errors.New("bad request")
	ErrConflict   = errors.New("conflict")
	ErrTooLarge   = errors.New("too large")
)
