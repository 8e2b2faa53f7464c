package daemon

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
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
	summaryLineBytes = 64 << 10 // of one line of a summary file
	summaryLineGuess = 512      // bytes a line takes at least, about, to size the maps a load fills
)

// summary is what a list shows and a search looks at of one message.
// A Maildir file never changes once delivered, so a summary stays true
// for as long as its key is in the folder.
type summary struct {
	Sum     webadmin.Summary `json:"s"` // without the ref and flags, which change
	Search  string           `json:"q"` // lowercased From, To, Cc, Subject and text prefix
	Headers string           `json:"h"` // lowercased "name: value\n" of the other fields, bounded
	unread  bool             // the file could not be read (renamed meanwhile): shown, never kept
}

// summaryLine is one line of a summary file.
type summaryLine struct {
	Key string `json:"k"`
	summary
}

// summaryPath is where a folder's summaries are kept across restarts:
// a cache beside the mail, under <data>/webadmin, one JSON line per
// message; losing it only costs reading the messages again.
func summaryPath(data, user, folder string) string {
	return filepath.Join(data, "webadmin", "summaries", user, hex.EncodeToString([]byte(folder))+".jsonl")
}

// load reads the folder's summary file, once, a part of it on each CPU
// (decoding JSON is most of the time a restart's first search takes).
func (v *webFolder) load() {
	if v.loaded {
		return
	}
	v.loaded = true
	v.lines = 0 // those appended before were counted; they are in the file
	f, err := os.Open(v.path)
	if err != nil {
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return
	}
	parts := 1
	if fi.Size() > 1<<20 {
		parts = min(runtime.GOMAXPROCS(0), 8)
	}
	maps := make([]map[string]*summary, parts)
	lines := make([]int, parts)
	var wg sync.WaitGroup
	for i := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start, end := fi.Size()*int64(i)/int64(parts), fi.Size()*int64(i+1)/int64(parts)
			maps[i], lines[i] = loadPart(f, start, end)
		}()
	}
	wg.Wait()
	total := 0
	for _, m := range maps {
		total += len(m)
	}
	if len(v.byKey) == 0 {
		v.byKey = make(map[string]*summary, total) // sized once: 100,000 summaries grow a map slowly
	}
	for i, m := range maps {
		v.lines += lines[i]
		for k, s := range m {
			v.byKey[k] = s
		}
	}
}

// loadPart decodes the lines of a summary file that start in [start,
// end): a line begun before start is the previous part's. A line cut
// short or not JSON is skipped; it is a cache.
func loadPart(f *os.File, start, end int64) (map[string]*summary, int) {
	out := make(map[string]*summary, (end-start)/summaryLineGuess)
	if start > 0 {
		start-- // a line starting at start follows a newline at start-1
	}
	br := bufio.NewReaderSize(io.NewSectionReader(f, start, 1<<62), 64<<10)
	pos := start
	if start > 0 {
		skipped, err := br.ReadSlice('\n')
		for errors.Is(err, bufio.ErrBufferFull) {
			pos += int64(len(skipped))
			skipped, err = br.ReadSlice('\n')
		}
		pos += int64(len(skipped))
	}
	n := 0
	for pos < end {
		line, err := br.ReadSlice('\n')
		pos += int64(len(line))
		for errors.Is(err, bufio.ErrBufferFull) { // longer than a line may be: skipped
			line = nil
			var more []byte
			more, err = br.ReadSlice('\n')
			pos += int64(len(more))
		}
		if len(line) > 0 {
			n++
			if l, ok := decodeSummaryLine(line); ok && l.Key != "" {
				s := l.summary
				out[l.Key] = &s
			}
		}
		if err != nil {
			break
		}
	}
	return out, n
}

// summarize returns m's summary, reading the message the first time.
func (v *webFolder) summarize(m mailstore.Message) *summary {
	if s, ok := v.byKey[m.Key]; ok {
		return s
	}
	s := v.idx.readSummary(m)
	v.keep(m.Key, s)
	return s
}

// keep adds a summary made, unless one was kept meanwhile.
func (v *webFolder) keep(key string, s *summary) { v.keepLine(key, s, encodeLine(key, s)) }

// keepLine is keep with the summary's line already encoded (nil: too
// long to be kept in the file).
func (v *webFolder) keepLine(key string, s *summary, line []byte) {
	if _, ok := v.byKey[key]; ok || s.unread {
		return
	}
	if v.loaded { // before, only the file has them: a folder delivered to but never listed costs no memory
		v.byKey[key] = s
	}
	if line != nil {
		v.pending.Write(line)
	}
}

// encodeLine returns the summary file's line for s, or nil.
func encodeLine(key string, s *summary) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // addresses' <> stay as they are, for decodeSummaryLine's fast path
	if enc.Encode(summaryLine{key, *s}) != nil || b.Len() > summaryLineBytes {
		return nil
	}
	return b.Bytes()
}

// fill summarizes every message not summarized yet, a few at a time.
func (v *webFolder) fill(msgs []mailstore.Message) {
	var missing []mailstore.Message
	for _, m := range msgs {
		if _, ok := v.byKey[m.Key]; !ok {
			missing = append(missing, m)
		}
	}
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
// live ones when most of its lines are stale (only once it is loaded:
// before, byKey holds only what was appended).
func (v *webFolder) flush() {
	if v.pending.Len() == 0 && (!v.loaded || v.lines <= 2*len(v.byKey)+1024) {
		return
	}
	defer v.pending.Reset()
	if err := os.MkdirAll(filepath.Dir(v.path), 0o700); err != nil {
		return
	}
	if v.loaded && v.lines > 2*len(v.byKey)+1024 {
		err := atomicfile.Write(v.path, 0o600, func(w io.Writer) error {
			bw := bufio.NewWriter(w)
			enc := json.NewEncoder(bw)
			enc.SetEscapeHTML(false) // as encodeLine
			for k, s := range v.byKey {
				enc.Encode(summaryLine{k, *s})
			}
			return bw.Flush()
		})
		if err == nil {
			v.lines = len(v.byKey)
		}
		return
	}
	f, err := os.OpenFile(v.path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	// A line a crash cut short is ended, or the next would be lost with it.
	var last [1]byte
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		if _, err := f.ReadAt(last[:], fi.Size()-1); err == nil && last[0] != '\n' {
			f.Write([]byte{'\n'})
		}
	}
	if _, err := f.Write(v.pending.Bytes()); err == nil {
		v.lines += bytes.Count(v.pending.Bytes(), []byte("\n"))
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

// matches reports whether the message fits q, lowercased by lowerQuery.
func (s *summary) matches(m mailstore.Message, q webadmin.Query) bool {
	has := func(hay, needle string) bool { return strings.Contains(strings.ToLower(hay), needle) }
	switch {
	case q.Unseen && m.Flags.Has(mailstore.FlagSeen),
		!q.Since.IsZero() && s.Sum.Received.Before(q.Since),
		q.Text != "" && !strings.Contains(s.Search, q.Text),
		q.From != "" && !has(s.Sum.From, q.From),
		q.To != "" && !has(strings.Join(s.Sum.To, ", ")+", "+strings.Join(s.Sum.Cc, ", "), q.To),
		q.Subject != "" && !has(s.Sum.Subject, q.Subject):
		return false
	}
	for name, val := range q.Header {
		if !headerMatch(s.Headers, name, val) {
			return false
		}
	}
	return true
}

// lowerQuery returns q with its strings lowercased, once per search, as
// matches wants them.
func lowerQuery(q webadmin.Query) webadmin.Query {
	q.Text, q.From, q.To, q.Subject = strings.ToLower(q.Text), strings.ToLower(q.From), strings.ToLower(q.To), strings.ToLower(q.Subject)
	if q.Header != nil {
		h := make(map[string]string, len(q.Header))
		for k, v := range q.Header {
			h[strings.ToLower(k)] = strings.ToLower(v)
		}
		q.Header = h
	}
	return q
}

// headerMatch reports whether a "name: value" line of heads has name
// and a value holding val.
func headerMatch(heads, name, val string) bool {
	for line := range strings.SplitSeq(heads, "\n") {
		n, v, ok := strings.Cut(line, ": ")
		if ok && n == name && strings.Contains(v, val) {
			return true
		}
	}
	return false
}
