package daemon

import (
	"bytes"
	"strings"

	"github.com/plumbnet/plumb/internal/mailstore"
	"github.com/plumbnet/plumb/internal/webadmin"
)

// A search matches the records' bytes where they are, without making
// a string of any.

// matchQuery is a query lowercased by lowerQuery, as matches wants it.
type matchQuery struct {
	webadmin.Query
	text      []byte
	sinceSec  int64
	sinceNsec uint32
	fields    bool // a field other than the flags and the time is asked for
}

func newMatchQuery(q webadmin.Query) *matchQuery {
	mq := &matchQuery{Query: q, text: []byte(q.Text)}
	mq.sinceSec, mq.sinceNsec = q.Since.Unix(), uint32(q.Since.Nanosecond())
	mq.fields = q.Text != "" || q.From != "" || q.To != "" || q.Subject != "" || len(q.Header) > 0
	return mq
}

// matches reports whether the message fits q; buf is the caller's
// scratch space for the To and Cc lists.
func (r sumRec) matches(m mailstore.Message, q *matchQuery, buf *[]byte) bool {
	if q.Unseen && m.Flags.Has(mailstore.FlagSeen) {
		return false
	}
	if !q.Since.IsZero() {
		if sec, nsec := r.received(); sec < q.sinceSec || sec == q.sinceSec && nsec < q.sinceNsec {
			return false
		}
	}
	if !q.fields {
		return true
	}
	f := r.fields()
	switch {
	case q.Text != "" && !bytes.Contains(f.search, q.text),
		q.From != "" && !hasLower(f.from, q.From),
		q.Subject != "" && !hasLower(f.subject, q.Subject):
		return false
	}
	if q.To != "" {
		b := appendJoined((*buf)[:0], f.to)
		b = appendJoined(append(b, ", "...), f.cc)
		*buf = b
		if !hasLower(b, q.To) {
			return false
		}
	}
	for name, val := range q.Header {
		if !headerMatch(f.headers, name, val) {
			return false
		}
	}
	return true
}

// matches reports whether the message fits q, lowercased by lowerQuery,
// as its record would: for a summary not kept.
func (s *summary) matches(m mailstore.Message, q webadmin.Query) bool {
	rec, _ := recordOf(nil, "-", s)
	var buf []byte
	return sumRec(rec[recordHead:]).matches(m, newMatchQuery(q), &buf)
}

// hasLower reports whether hay, lowercased, holds needle (lowercase),
// as strings.Contains(strings.ToLower(hay), needle) does, without a
// copy when hay is ASCII.
func hasLower(hay []byte, needle string) bool {
	for _, c := range hay {
		if c >= 0x80 {
			return strings.Contains(strings.ToLower(string(hay)), needle)
		}
	}
	n := len(needle)
	for i := 0; i+n <= len(hay); i++ {
		j := 0
		for j < n && lowerASCII(hay[i+j]) == needle[j] {
			j++
		}
		if j == n {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
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
func headerMatch(heads []byte, name, val string) bool {
	for len(heads) > 0 {
		line := heads
		if i := bytes.IndexByte(heads, '\n'); i >= 0 {
			line, heads = heads[:i], heads[i+1:]
		} else {
			heads = nil
		}
		n, v, ok := bytes.Cut(line, []byte(": "))
		if ok && string(n) == name && bytes.Contains(v, []byte(val)) {
			return true
		}
	}
	return false
}
