package mailstore

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/plumbnet/plumb/internal/atomicfile"
)

// indexFile is a folder's cache of what readers computed from its
// messages, beside the Maildir: one JSON object a line, by key.
const indexFile = "plumb-index"

// IndexEntry is what the index keeps of one message. Maildir files never
// change once delivered (only their names, with the flags), so an entry
// stays true for as long as its key is in the folder.
type IndexEntry struct {
	Date      int64  `json:"d,omitempty"` // internal date, Unix nanoseconds
	Size      int64  `json:"s,omitempty"` // wire size
	Envelope  []byte `json:"e,omitempty"` // IMAP ENVELOPE, as sent
	Body      []byte `json:"b,omitempty"` // IMAP BODY
	Structure []byte `json:"x,omitempty"` // IMAP BODYSTRUCTURE
	Flags     string `json:"f,omitempty"` // the flags ModSeq was given for
	ModSeq    uint64 `json:"m,omitempty"` // IMAP's mod-sequence (RFC 7162)
}

// indexLine is one line of the file: an entry, or (Key "") the folder's
// highest mod-sequence.
type indexLine struct {
	Key     string `json:"k"`
	Highest uint64 `json:"h,omitempty"`
	IndexEntry
}

// index is a folder's loaded cache. It is only a cache: a line cut short
// by a crash, or one for a message since removed, is ignored, and what
// is missing is computed again.
type index struct {
	mu      sync.Mutex
	loaded  bool
	entries map[string]IndexEntry
	lines   int       // lines in the file, live or not
	highest uint64    // the folder's highest mod-sequence; never goes down
	stamp   fileStamp // of the file as loaded
	checked time.Time // when the file's stamp was last compared
}

func (f *folder) idx() *index {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.index == nil {
		f.index = &index{}
	}
	return f.index
}

// load reads the file if it changed since it was read. Readers of the
// cache (fresh false) look at its stamp at most once a second: an entry
// never goes stale while its key is in the folder, and one another
// process wrote meanwhile is only computed again; writers look each time.
func (x *index) load(path string, fresh bool) {
	if x.loaded && !fresh && time.Since(x.checked) < time.Second {
		return
	}
	fi, err := os.Stat(path)
	x.checked = time.Now()
	if x.loaded && (err != nil || stampOf(fi) == x.stamp) {
		return
	}
	// First use, or another process wrote to the file: read it again.
	x.loaded, x.entries, x.lines = true, map[string]IndexEntry{}, 0
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	if fi, err := os.Stat(path); err == nil {
		x.stamp = stampOf(fi)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		x.lines++
		var l indexLine
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue
		}
		x.highest = max(x.highest, l.Highest, l.ModSeq)
		if !validKey(l.Key) {
			continue
		}
		// A later line adds to what the earlier ones said: a line of a
		// new mod-sequence alone leaves the structures as they were.
		x.entries[l.Key] = merged(l.IndexEntry, x.entries[l.Key])
	}
}

// Cached returns what the index holds for msg.
func (m *Mailbox) Cached(msg Message) (IndexEntry, bool) {
	x := m.f.idx()
	x.mu.Lock()
	defer x.mu.Unlock()
	x.load(filepath.Join(m.f.path, indexFile), false)
	e, ok := x.entries[msg.Key]
	return e, ok
}

// CachedAll returns what the index holds for each of msgs (a zero
// entry for one it has nothing of), reading the file at most once.
func (m *Mailbox) CachedAll(msgs []Message) []IndexEntry {
	x := m.f.idx()
	x.mu.Lock()
	defer x.mu.Unlock()
	x.load(filepath.Join(m.f.path, indexFile), false)
	out := make([]IndexEntry, len(msgs))
	for i, msg := range msgs {
		out[i] = x.entries[msg.Key]
	}
	return out
}

// Cache records e for msg, merged with what the index held.
func (m *Mailbox) Cache(msg Message, e IndexEntry) error {
	return m.CacheBatch([]Message{msg}, []IndexEntry{e})
}

// CacheBatch records entries[i] for msgs[i], merged with what the index
// held, appending their lines in one write; when most lines of the file
// are stale, it is rewritten with the live keys only.
func (m *Mailbox) CacheBatch(msgs []Message, entries []IndexEntry) error {
	if len(msgs) == 0 {
		return nil
	}
	x := m.f.idx()
	x.mu.Lock()
	defer x.mu.Unlock()
	path := filepath.Join(m.f.path, indexFile)
	// Locked like ModSeqs: a rewrite must not drop the lines another
	// process appends meanwhile.
	unlock, err := lockIndex(path)
	if err != nil {
		return err
	}
	defer unlock()
	x.load(path, true)
	var buf bytes.Buffer
	for i, msg := range msgs {
		e := merged(entries[i], x.entries[msg.Key])
		x.entries[msg.Key] = e
		line, err := json.Marshal(indexLine{Key: msg.Key, IndexEntry: e})
		if err != nil {
			return err
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	// No fsync: a line lost in a crash is computed again.
	if err := x.appendLines(path, buf.Bytes(), false); err != nil {
		return err
	}
	if x.lines += len(msgs); x.lines > 64 && x.lines > 2*len(x.entries) {
		return x.compact(path)
	}
	return nil
}

// Prune drops the entries of keys not in msgs, rewriting the file when
// that leaves most of its lines stale.
func (m *Mailbox) Prune(msgs []Message) error {
	x := m.f.idx()
	x.mu.Lock()
	defer x.mu.Unlock()
	path := filepath.Join(m.f.path, indexFile)
	unlock, err := lockIndex(path)
	if err != nil {
		return err
	}
	defer unlock()
	x.load(path, true)
	live := make(map[string]bool, len(msgs))
	for _, msg := range msgs {
		live[msg.Key] = true
	}
	for k := range x.entries {
		if !live[k] {
			delete(x.entries, k)
		}
	}
	if x.lines > 64 && x.lines > 2*len(x.entries) {
		return x.compact(path)
	}
	return nil
}

// ModSeqs returns the mod-sequence of each of msgs (the folder as just
// listed) and the folder's highest: a message whose flags differ from
// those its mod-sequence was given for (changed here or by another
// program), or that is new to the index, gets the next one; a message
// gone since the last call raises the highest too, so it never goes
// down. Entries of messages gone are dropped.
func (m *Mailbox) ModSeqs(msgs []Message) ([]uint64, uint64, error) {
	return m.CacheAndNumber(msgs, nil, nil)
}

// CacheAndNumber is CacheBatch(fresh, entries) and ModSeqs(msgs) in one
// write of the file, a line a message changed: what a listing that
// found messages new to the index records (a first SELECT of a large
// mailbox writes each entry once, not twice and then the file again).
func (m *Mailbox) CacheAndNumber(msgs, fresh []Message, entries []IndexEntry) ([]uint64, uint64, error) {
	x := m.f.idx()
	x.mu.Lock()
	defer x.mu.Unlock()
	path := filepath.Join(m.f.path, indexFile)
	// Other processes on the store number too: the file is locked, and
	// read again if it changed, while the mod-sequences are given.
	unlock, err := lockIndex(path)
	if err != nil {
		return nil, 0, err
	}
	defer unlock()
	x.load(path, true)
	changed := make(map[string]bool, len(fresh)) // true: the whole entry; false: its mod-sequence
	for i, msg := range fresh {
		x.entries[msg.Key] = merged(entries[i], x.entries[msg.Key])
		changed[msg.Key] = true
	}
	out := make([]uint64, len(msgs))
	live := make(map[string]bool, len(msgs))
	numbered := false
	for i, msg := range msgs {
		live[msg.Key] = true
		e := x.entries[msg.Key]
		if e.ModSeq == 0 || e.Flags != string(msg.Flags) {
			x.highest++
			e.ModSeq, e.Flags = x.highest, string(msg.Flags)
			x.entries[msg.Key] = e
			changed[msg.Key], numbered = changed[msg.Key], true
		}
		out[i] = e.ModSeq
	}
	gone := false
	for k, e := range x.entries {
		if !live[k] && !changed[k] {
			gone = gone || e.ModSeq > 0
			delete(x.entries, k)
		}
	}
	if gone {
		x.highest++
	}
	var buf bytes.Buffer
	write := func(l indexLine) {
		b, _ := json.Marshal(l)
		buf.Write(b)
		buf.WriteByte('\n')
		x.lines++
	}
	for k, whole := range changed {
		e, ok := x.entries[k]
		if !ok {
			continue
		}
		if !whole { // a flag change: the line of its mod-sequence, not of the structures again
			e = IndexEntry{Flags: e.Flags, ModSeq: e.ModSeq}
		}
		write(indexLine{Key: k, IndexEntry: e})
	}
	if numbered || gone {
		write(indexLine{Highest: x.highest})
	}
	if buf.Len() > 0 {
		// Synced before the numbers are used: after a power loss the
		// highest must not go down and hand a number out twice.
		if err := x.appendLines(path, buf.Bytes(), numbered || gone); err != nil {
			return nil, 0, err
		}
	}
	if x.lines > 64 && x.lines > 2*len(x.entries) {
		if err := x.compact(path); err != nil {
			return nil, 0, err
		}
	}
	return out, x.highest, nil
}

// merged is e with what it leaves out taken from old.
func merged(e, old IndexEntry) IndexEntry {
	if e.Date == 0 {
		e.Date = old.Date
	}
	if e.Size == 0 {
		e.Size = old.Size
	}
	if e.Envelope == nil {
		e.Envelope = old.Envelope
	}
	if e.Body == nil {
		e.Body = old.Body
	}
	if e.Structure == nil {
		e.Structure = old.Structure
	}
	if e.ModSeq == 0 {
		e.Flags, e.ModSeq = old.Flags, old.ModSeq
	}
	return e
}

// lockIndex takes the lock every writer of the index file holds, across
// processes, and returns its release.
func lockIndex(path string) (unlock func(), err error) {
	lf, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("mailstore: %w", err)
	}
	if err := flock(lf, false); err != nil {
		lf.Close()
		return nil, fmt.Errorf("mailstore: %w", err)
	}
	return func() { funlock(lf); lf.Close() }, nil
}

// syncIndex is (*os.File).Sync; tests count its calls.
var syncIndex = (*os.File).Sync

// appendLines appends b to the file in one write and notes the file's
// new stamp, so that only another process's writes make it load again.
// With durable it is on disk when appendLines returns, the file's name
// in its directory too when the write created it.
func (x *index) appendLines(path string, b []byte, durable bool) error {
	_, statErr := os.Lstat(path)
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("mailstore: %w", err)
	}
	defer fh.Close()
	if _, err := fh.Write(b); err != nil {
		return fmt.Errorf("mailstore: %w", err)
	}
	if durable {
		if err := syncIndex(fh); err != nil {
			return fmt.Errorf("mailstore: %w", err)
		}
		if statErr != nil {
			if err := atomicfile.SyncDir(filepath.Dir(path)); err != nil {
				return fmt.Errorf("mailstore: %w", err)
			}
		}
	}
	if fi, err := fh.Stat(); err == nil {
		x.stamp = stampOf(fi)
	}
	return nil
}

// compact rewrites the index with its live entries, atomically.
func (x *index) compact(path string) error {
	var b bytes.Buffer
	if line, err := json.Marshal(indexLine{Highest: x.highest}); err == nil {
		b.Write(line)
		b.WriteByte('\n')
	}
	for k, e := range x.entries {
		line, err := json.Marshal(indexLine{Key: k, IndexEntry: e})
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	if err := atomicfile.WriteFile(path, b.Bytes(), 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("mailstore: %w", err)
	}
	x.lines = len(x.entries) + 1
	if fi, err := os.Stat(path); err == nil {
		x.stamp = stampOf(fi)
	}
	return nil
}
