package webadmin

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/mail"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

// The console's unit tests run against these in-memory test doubles of
// the backend interfaces; the interop test runs it against the daemon.

type fakeMessage struct {
	uid   uint32
	raw   []byte
	flags []string
	recv  time.Time
}

type fakeMail struct {
	mu       sync.Mutex
	folders  map[string]map[string][]*fakeMessage // user -> folder -> messages, oldest first
	next     uint32
	lastQ    Query
	released map[MessageRef][]string
}

var _ MailBackend = (*fakeMail)(nil)

func newFakeMail() *fakeMail {
	return &fakeMail{folders: map[string]map[string][]*fakeMessage{}, next: 1, released: map[MessageRef][]string{}}
}

// add stores raw in user's folder and returns its reference.
func (f *fakeMail) add(user, folder, raw string) MessageRef {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.folders[user] == nil {
		f.folders[user] = map[string][]*fakeMessage{}
	}
	m := &fakeMessage{uid: f.next, raw: []byte(strings.ReplaceAll(raw, "\n", "\r\n")), recv: time.Now()}
	f.next++
	f.folders[user][folder] = append(f.folders[user][folder], m)
	return MessageRef{user, folder, m.uid}
}

func (f *fakeMail) summary(user, folder string, m *fakeMessage) Summary {
	s := Summary{MessageRef: MessageRef{user, folder, m.uid}, Received: m.recv, Date: m.recv,
		Size: int64(len(m.raw)), Flags: append([]string(nil), m.flags...)}
	if msg, err := mail.ReadMessage(bytes.NewReader(m.raw)); err == nil {
		s.From = decodeHeader(msg.Header.Get("From"))
		s.Subject = decodeHeader(msg.Header.Get("Subject"))
		if to := msg.Header.Get("To"); to != "" {
			s.To = []string{to}
		}
	}
	return s
}

func (f *fakeMail) Accounts(context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for u := range f.folders {
		out = append(out, u)
	}
	sort.Strings(out)
	return out, nil
}

func (f *fakeMail) Folders(_ context.Context, user string) ([]Folder, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fs0, ok := f.folders[user]
	if !ok {
		return nil, fmt.Errorf("account %q: %w", user, fs.ErrNotExist)
	}
	var out []Folder
	for name, ms := range fs0 {
		fo := Folder{Name: name, Messages: len(ms)}
		for _, m := range ms {
			if !hasFlag(m.flags, `\Seen`) {
				fo.Unseen++
			}
		}
		out = append(out, fo)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f *fakeMail) folder(user, folder string) ([]*fakeMessage, error) {
	ms, ok := f.folders[user][folder]
	if !ok {
		return nil, fmt.Errorf("folder %q of %q: %w", folder, user, fs.ErrNotExist)
	}
	return ms, nil
}

func (f *fakeMail) List(_ context.Context, user, folder string, q Query, offset, limit int) ([]Summary, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastQ = q
	ms, err := f.folder(user, folder)
	if err != nil {
		return nil, 0, err
	}
	var match []Summary
	for i := len(ms) - 1; i >= 0; i-- {
		s := f.summary(user, folder, ms[i])
		has := func(field, want string) bool {
			return want == "" || strings.Contains(strings.ToLower(field), strings.ToLower(want))
		}
		if !has(string(ms[i].raw), q.Text) || !has(s.From, q.From) || !has(s.Subject, q.Subject) ||
			!has(strings.Join(s.To, ","), q.To) || (q.Unseen && hasFlag(s.Flags, `\Seen`)) {
			continue
		}
		match = append(match, s)
	}
	total := len(match)
	if offset > len(match) {
		offset = len(match)
	}
	match = match[offset:]
	if len(match) > limit {
		match = match[:limit]
	}
	return match, total, nil
}

func (f *fakeMail) find(m MessageRef) (*fakeMessage, int, error) {
	ms, err := f.folder(m.User, m.Folder)
	if err != nil {
		return nil, 0, err
	}
	for i, x := range ms {
		if x.uid == m.UID {
			return x, i, nil
		}
	}
	return nil, 0, fmt.Errorf("message %d: %w", m.UID, fs.ErrNotExist)
}

func (f *fakeMail) Open(_ context.Context, m MessageRef) (io.ReadCloser, Summary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	x, _, err := f.find(m)
	if err != nil {
		return nil, Summary{}, err
	}
	return io.NopCloser(bytes.NewReader(x.raw)), f.summary(m.User, m.Folder, x), nil
}

func (f *fakeMail) Delete(_ context.Context, m MessageRef) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, i, err := f.find(m)
	if err != nil {
		return err
	}
	ms := f.folders[m.User][m.Folder]
	f.folders[m.User][m.Folder] = append(ms[:i:i], ms[i+1:]...)
	return nil
}

func (f *fakeMail) Move(_ context.Context, m MessageRef, to string) (MessageRef, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	x, i, err := f.find(m)
	if err != nil {
		return MessageRef{}, err
	}
	if _, err := f.folder(m.User, to); err != nil {
		return MessageRef{}, err
	}
	ms := f.folders[m.User][m.Folder]
	f.folders[m.User][m.Folder] = append(ms[:i:i], ms[i+1:]...)
	x.uid = f.next
	f.next++
	f.folders[m.User][to] = append(f.folders[m.User][to], x)
	return MessageRef{m.User, to, x.uid}, nil
}

func (f *fakeMail) SetFlags(_ context.Context, m MessageRef, add, remove []string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	x, _, err := f.find(m)
	if err != nil {
		return nil, err
	}
	var keep []string
	for _, fl := range x.flags {
		if !hasFlag(remove, fl) {
			keep = append(keep, fl)
		}
	}
	for _, fl := range add {
		if !hasFlag(keep, fl) {
			keep = append(keep, fl)
		}
	}
	x.flags = keep
	return keep, nil
}

func (f *fakeMail) Release(_ context.Context, m MessageRef, to []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, _, err := f.find(m); err != nil {
		return err
	}
	f.released[m] = to
	return nil
}

// fakeFiles is a tree of files in memory; a directory is a path with
// a nil content.
type fakeFiles struct {
	mu    sync.Mutex
	files map[string][]byte
	dirs  map[string]bool
}

var _ FileBackend = (*fakeFiles)(nil)

func newFakeFiles() *fakeFiles {
	return &fakeFiles{files: map[string][]byte{}, dirs: map[string]bool{"": true}}
}

func (f *fakeFiles) put(p, content string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files[p] = []byte(content)
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		f.dirs[d] = true
	}
}

func (f *fakeFiles) info(p string) (FileInfo, bool) {
	if f.dirs[p] {
		return FileInfo{Path: p, Name: path.Base(p), Dir: true}, true
	}
	b, ok := f.files[p]
	return FileInfo{Path: p, Name: path.Base(p), Size: int64(len(b)), ModTime: time.Unix(1700000000, 0)}, ok
}

func (f *fakeFiles) Stat(_ context.Context, p string) (FileInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fi, ok := f.info(p)
	if !ok {
		return fi, fs.ErrNotExist
	}
	return fi, nil
}

func (f *fakeFiles) ReadDir(_ context.Context, p string) ([]FileInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []FileInfo
	seen := map[string]bool{}
	for _, all := range []map[string]bool{f.dirs, keysOf(f.files)} {
		for q := range all {
			if q != "" && path.Dir(q) == p || (p == "" && q != "" && path.Dir(q) == ".") {
				if !seen[q] {
					fi, _ := f.info(q)
					out = append(out, fi)
					seen[q] = true
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func keysOf(m map[string][]byte) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

type readSeekNopCloser struct{ *bytes.Reader }

func (readSeekNopCloser) Close() error { return nil }

func (f *fakeFiles) Open(_ context.Context, p string) (io.ReadSeekCloser, FileInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.files[p]
	if !ok {
		return nil, FileInfo{}, fs.ErrNotExist
	}
	fi, _ := f.info(p)
	return readSeekNopCloser{bytes.NewReader(b)}, fi, nil
}

func (f *fakeFiles) Put(_ context.Context, p string, r io.Reader) (FileInfo, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return FileInfo{}, err
	}
	f.put(p, string(b))
	f.mu.Lock()
	defer f.mu.Unlock()
	fi, _ := f.info(p)
	return fi, nil
}

func (f *fakeFiles) Delete(_ context.Context, p string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.files[p]; !ok {
		return fs.ErrNotExist
	}
	delete(f.files, p)
	return nil
}

type fakeNews struct{ articles map[string][]string }

var _ NewsBackend = (*fakeNews)(nil)

func (f *fakeNews) Groups(context.Context) ([]Group, error) {
	var out []Group
	for g, as := range f.articles {
		out = append(out, Group{Name: g, Low: 1, High: int64(len(as)), Count: int64(len(as)), Status: "y"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f *fakeNews) summary(g string, n int64) ArticleSummary {
	msg, _ := mail.ReadMessage(strings.NewReader(f.articles[g][n-1]))
	return ArticleSummary{Group: g, Number: n, From: msg.Header.Get("From"), Subject: msg.Header.Get("Subject"),
		MessageID: msg.Header.Get("Message-ID"), Bytes: int64(len(f.articles[g][n-1]))}
}

func (f *fakeNews) Articles(_ context.Context, g string, offset, limit int) ([]ArticleSummary, int, error) {
	as, ok := f.articles[g]
	if !ok {
		return nil, 0, fs.ErrNotExist
	}
	var out []ArticleSummary
	for n := int64(len(as)) - int64(offset); n >= 1 && len(out) < limit; n-- {
		out = append(out, f.summary(g, n))
	}
	return out, len(as), nil
}

func (f *fakeNews) Article(_ context.Context, g string, n int64) (io.ReadCloser, ArticleSummary, error) {
	as := f.articles[g]
	if n < 1 || n > int64(len(as)) {
		return nil, ArticleSummary{}, fs.ErrNotExist
	}
	return io.NopCloser(strings.NewReader(as[n-1])), f.summary(g, n), nil
}

type fakeOps struct {
	mu       sync.Mutex
	sessions []Session
	log      []LogLine
}

var _ OpsBackend = (*fakeOps)(nil)

func (f *fakeOps) Services(context.Context) ([]Service, error) {
	return []Service{{Name: "smtp", Net: "tcp", Addr: "127.0.0.1:10025", Connections: 2}, {Name: "imap", Net: "tcp", Addr: "127.0.0.1:10143"}}, nil
}

func (f *fakeOps) Sessions(context.Context) ([]Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Session(nil), f.sessions...), nil
}

func (f *fakeOps) CloseSession(_ context.Context, id uint64) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, s := range f.sessions {
		if s.ID == id {
			f.sessions = append(f.sessions[:i:i], f.sessions[i+1:]...)
			return true, nil
		}
	}
	return false, nil
}

func (f *fakeOps) Users(context.Context) ([]Account, error) { return []Account{{Name: "alice"}}, nil }

func (f *fakeOps) Metrics(context.Context) (map[string]float64, error) { return nil, nil }

func (f *fakeOps) Log(_ context.Context, n int) ([]LogLine, error) {
	if len(f.log) > n {
		return f.log[len(f.log)-n:], nil
	}
	return f.log, nil
}

// fakeEvents hands each event to every subscriber; subscribed tells a
// test that a watcher is listening, so that it publishes no sooner.
type fakeEvents struct {
	mu         sync.Mutex
	subs       map[chan Event]bool
	subscribed chan struct{}
}

var _ EventSource = (*fakeEvents)(nil)

func newFakeEvents() *fakeEvents {
	return &fakeEvents{subs: map[chan Event]bool{}, subscribed: make(chan struct{}, 16)}
}

func (f *fakeEvents) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 16)
	f.mu.Lock()
	f.subs[ch] = true
	f.mu.Unlock()
	f.subscribed <- struct{}{}
	return ch, func() {
		f.mu.Lock()
		delete(f.subs, ch)
		f.mu.Unlock()
	}
}

func (f *fakeEvents) publish(ev Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}
