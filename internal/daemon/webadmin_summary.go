package daemon

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/plumbnet/plumb/internal/atomicfile"
	"github.com/plumbnet/plumb/internal/mailstore"
	"github.com/plumbnet/plumb/internal/webadmin"
)

// Limits of the web console's summary cache: what it reads of a message
// to summarize it, and what it keeps for lists and searches, so that
// neither reads a message file again.
const (
	summaryReadBytes = 64 << 10 // of a message read to summarize it
	summaryTextBytes = 512      // of the plain text kept for Query.Text
	summaryHeadBytes = 1024     // of the other header fields kept for Query.Header
)

// summary is what a list shows and a search looks at of one message.
// A Maildir file never changes once delivered, so a summary stays true
// for as long as its key is in the folder.
type summary struct {
	Sum     webadmin.Summary // without the ref and flags, which change
	Search  string           // lowercased From, To, Cc, Subject and text prefix
	Headers string           // lowercased "name: value\n" of the other fields, bounded
	unread  bool             // the file could not be read (renamed meanwhile): shown, never kept
}

// summaryPath is where a folder's summaries are kept across restarts:
// a cache beside the mail, under <data>/webadmin, the records of
// webadmin_flat.go after a header; losing it only costs reading the
// messages again.
func summaryPath(data, user, folder string) string {
	return filepath.Join(data, "webadmin", "summaries", user, hex.EncodeToString([]byte(folder))+".sum")
}

// readSummaryFile returns the bytes of a summary file, up to
// summaryFileMax of them, or nil.
func readSummaryFile(f *os.File) []byte {
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	b := make([]byte, min(fi.Size(), summaryFileMax))
	n, err := io.ReadFull(f, b)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	return b[:n]
}

// load maps (or reads) the folder's summary file, once: its records
// become v's first chunk as they are, found by a walk that checks
// them. What was kept before (appended, not yet written) is added.
func (v *webFolder) load() {
	if v.loaded {
		return
	}
	v.loaded = true
	var b []byte
	var mapped bool
	if f, err := os.Open(v.path); err == nil {
		b, mapped = mapSummaryFile(f)
		f.Close()
	}
	sums := newFlatSums(countRecords(b))
	v.end, v.records = walkSummaries(b, func(r sumRec, off int) { sums.place(r.key(), uint64(off)) })
	switch {
	case v.end > 0:
		sums.chunks = [][]byte{b[:v.end:v.end]}
		if mapped {
			sums.mapped = b
		}
	case mapped:
		unmapSummaryFile(b)
	}
	walkRecords(v.pending.Bytes(), func(r sumRec, off int) {
		if sums.ref(string(r.key())) == noRef {
			sums.add(v.pending.Bytes()[off : off+recordHead+len(r)])
		}
	})
	v.sums = sums
}

// summarize returns m's summary, reading the message the first time.
func (v *webFolder) summarize(m mailstore.Message) *summary {
	if r, ok := v.sums.get(m.Key); ok {
		return r.summary()
	}
	s := v.idx.readSummary(m)
	v.keep(m.Key, s)
	return s
}

// keep adds a summary made, unless one was kept meanwhile.
func (v *webFolder) keep(key string, s *summary) { v.keepRecord(key, encodeRecord(key, s)) }

// keepRecord adds key's record made by encodeRecord (nil: not to be
// kept), unless one was kept meanwhile.
func (v *webFolder) keepRecord(key string, rec []byte) {
	if rec == nil || v.sums.ref(key) != noRef {
		return
	}
	if v.loaded { // before, only the file has them: a folder delivered to but never listed costs no memory
		v.sums.add(rec)
	}
	v.pending.Write(rec)
	v.pendingN++
}

// fill summarizes every message not summarized yet, a few at a time.
func (v *webFolder) fill(msgs []mailstore.Message) {
	missing := v.missing(msgs)
	out := make([]*summary, len(missing))
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), 8)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(missing); i += workers {
				out[i] = v.idx.readSummary(missing[i])
			}
		}()
	}
	wg.Wait()
	for i, m := range missing {
		v.keep(m.Key, out[i])
	}
}

// flush appends the new summaries to the file, or rewrites it with the
// live ones when most of its records are stale (only once it is loaded:
// before, v.sums holds nothing).
func (v *webFolder) flush() {
	stale := v.loaded && v.records > 2*v.sums.len()+1024
	if v.pending.Len() == 0 && !stale {
		return
	}
	defer func() { v.pending.Reset(); v.pendingN = 0 }()
	if err := os.MkdirAll(filepath.Dir(v.path), 0o700); err != nil {
		return
	}
	if stale {
		v.rewrite()
		return
	}
	f, err := os.OpenFile(v.path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return
	}
	if int64(v.end) > fi.Size() { // removed or cut behind the daemon
		v.end = -1
	}
	if v.end < 0 { // where its valid records end, once
		v.end, v.records = walkSummaries(readSummaryFile(f), nil)
	}
	if v.end < v.sums.mappedLen() { // never cut what is mapped: write a new file
		v.rewrite()
		return
	}
	// A tail a crash cut short, or a file not of this format, is cut
	// off first, or what follows it would be lost with it.
	if fi.Size() != int64(v.end) && f.Truncate(int64(v.end)) != nil {
		v.end = -1
		return
	}
	out := v.pending.Bytes()
	if v.end == 0 {
		out = append([]byte(summaryMagic), out...)
	}
	if _, err := f.WriteAt(out, int64(v.end)); err != nil {
		v.end = -1 // found again by the next flush
		return
	}
	v.end += len(out)
	v.records += v.pendingN
}

// rewrite replaces the summary file with one of the live summaries,
// pending ones included (they are in v.sums once it is loaded).
func (v *webFolder) rewrite() {
	end := len(summaryMagic)
	err := atomicfile.Write(v.path, 0o600, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		bw.WriteString(summaryMagic)
		v.sums.each(func(rec []byte) { bw.Write(rec); end += len(rec) })
		return bw.Flush()
	})
	if err == nil {
		v.records, v.end = v.sums.len(), end
	}
}

// readBufs are the buffers messages are read into to be summarized.
var readBufs = sync.Pool{New: func() any { b := make([]byte, summaryReadBytes); return &b }}

// readSummary reads m (its first summaryReadBytes) and summarizes it.
func readSummary(m mailstore.Message) *summary {
	f, err := os.Open(m.Path)
	if err != nil {
		return &summary{Sum: webadmin.Summary{Size: m.Size, To: []string{}}, unread: true}
	}
	defer f.Close()
	return summarizeFile(f, m.Size)
}

// summarizeFile summarizes the message open as f, of size bytes.
func summarizeFile(f *os.File, size int64) *summary {
	s := &summary{Sum: webadmin.Summary{Size: size, To: []string{}}}
	if fi, err := f.Stat(); err == nil {
		s.Sum.Received = fi.ModTime() // the internal date, as Message.InternalDate
	}
	s.Sum.Date = s.Sum.Received
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	n, err := io.ReadFull(f, *bp)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return s
	}
	raw := (*bp)[:n]
	heads, text, ok := scanPlain(raw)
	if !ok {
		v, err := webadmin.ParseView(bytes.NewReader(raw))
		if err != nil {
			return s
		}
		heads, text = v.Headers, v.Text
	}
	s.fill(heads, text)
	return s
}

// fill sets s from a message's header fields and plain text.
func (s *summary) fill(fields []webadmin.Header, text string) {
	var search, heads strings.Builder
	for _, h := range fields {
		switch strings.ToLower(h.Name) {
		case "from":
			s.Sum.From = h.Value
		case "to":
			s.Sum.To = splitAddrs(h.Value)
		case "cc":
			s.Sum.Cc = splitAddrs(h.Value)
		case "subject":
			s.Sum.Subject = h.Value
		case "message-id":
			s.Sum.MessageID = strings.Trim(h.Value, "<> ")
		case "date":
			if t, err := time.Parse(time.RFC1123Z, h.Value); err == nil { // the usual form, without mail.ParseDate's tries
				s.Sum.Date = t
			} else if t, err := mail.ParseDate(h.Value); err == nil {
				s.Sum.Date = t
			}
		case "received", "dkim-signature", "arc-seal", "arc-message-signature", "arc-authentication-results":
			continue // long, and not what a test looks for
		}
		if heads.Len() < summaryHeadBytes {
			fmt.Fprintf(&heads, "%s: %s\n", strings.ToLower(h.Name), strings.ToLower(h.Value))
		}
	}
	fmt.Fprintf(&search, "%s\n%s\n%s\n%s\n", s.Sum.From, strings.Join(s.Sum.To, ", "), strings.Join(s.Sum.Cc, ", "), s.Sum.Subject)
	if len(text) > summaryTextBytes {
		text = strings.ToValidUTF8(text[:summaryTextBytes], "")
	}
	search.WriteString(text)
	s.Search = strings.ToLower(search.String())
	s.Headers = heads.String()
}

// scanPlain takes apart the common message, one plain-text part in
// UTF-8 or ASCII without encoded words or a transfer encoding, without
// the MIME parser: its header fields and the start of its text, as
// webadmin.ParseView gives them (FuzzSummaryScan checks that). For any
// other message ok is false, and ParseView has to read it.
func scanPlain(b []byte) (fields []webadmin.Header, text string, ok bool) {
	end := bytes.Index(b, []byte("\n\r\n"))
	if lf := bytes.Index(b, []byte("\n\n")); lf >= 0 && (end < 0 || lf < end) {
		end = lf
	}
	if end < 0 || bytes.Contains(b[:end], []byte("=?")) || bytes.IndexByte(b[:end], 0) >= 0 {
		return nil, "", false
	}
	head, body := b[:end+1], b[end+1:]
	body = body[bytes.IndexByte(body, '\n')+1:]
	for len(head) > 0 {
		i := bytes.IndexByte(head, '\n')
		line := bytes.TrimRight(head[:i], "\r")
		head = head[i+1:]
		if len(line) == 0 || bytes.IndexByte(line, '\r') >= 0 {
			return nil, "", false
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(fields) == 0 {
				return nil, "", false
			}
			fields[len(fields)-1].Value += " " + string(bytes.TrimSpace(line))
			continue
		}
		name, value, found := bytes.Cut(line, []byte(":"))
		if !found || len(name) == 0 || bytes.ContainsFunc(name, func(r rune) bool { return !isTokenChar(r) }) {
			return nil, "", false
		}
		fields = append(fields, webadmin.Header{Name: string(name), Value: string(bytes.TrimSpace(value))})
	}
	for _, h := range fields {
		switch v := strings.ToLower(h.Value); strings.ToLower(h.Name) {
		case "content-type":
			typ, params, err := mime.ParseMediaType(h.Value)
			cs := strings.ToLower(params["charset"])
			if err != nil || typ != "text/plain" || (cs != "" && cs != "utf-8" && cs != "us-ascii") {
				return nil, "", false
			}
		case "content-transfer-encoding":
			if v != "7bit" && v != "8bit" && v != "binary" {
				return nil, "", false
			}
		case "content-disposition":
			return nil, "", false
		}
	}
	// The start of the text, a few bytes more than is kept: when they
	// are valid UTF-8 they are what ParseView's whole text starts with.
	if start := body[:min(len(body), summaryTextBytes+utf8.UTFMax)]; utf8.Valid(start) {
		body = start
	}
	return fields, strings.ToValidUTF8(string(body), string(utf8.RuneError)), true
}

// isTokenChar reports whether r may be in a header field's name.
func isTokenChar(r rune) bool {
	return r > ' ' && r < 0x7f && !strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
}

// splitAddrs splits an address list header into its addresses as
// written; an unparsable one is kept whole.
func splitAddrs(v string) []string {
	as, err := mail.ParseAddressList(v)
	if err != nil {
		return []string{v}
	}
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}
