package plumbtest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// Message is one stored message, taken apart for a test's assertions.
// A message whose header does not parse still has Raw, and Body is then
// all of it.
type Message struct {
	UID      uint32    // the message's UID in its folder (IMAP's UID, POP3's UIDL)
	Folder   string    // the folder it is in, "INBOX" for the inbox
	Seen     bool      // a reader has marked it read (IMAP \Seen, a POP3 RETR of plumb's)
	Received time.Time // when the store took it (IMAP's INTERNALDATE); zero from Deliver

	Header  mail.Header // the header fields, raw (MIME encoded-words not decoded)
	From    string      // the From address ("bob@example.org"), "" without one
	To      []string    // the addresses of To
	Cc      []string    // the addresses of Cc
	Subject string      // the Subject, with encoded-words decoded
	Body    []byte      // what follows the header, as stored (not MIME-decoded)
	Raw     []byte      // the whole message as stored
}

// Match selects messages for [Mailbox.WaitFor]. Every non-empty field
// must match; each is a case-insensitive substring test, so
// Match{To: "bob@"} matches bob at any domain. The zero Match matches
// every message.
type Match struct {
	From    string            // in the From address
	To      string            // in one of the To or Cc addresses
	Subject string            // in the decoded Subject
	Header  map[string]string // field name -> in the field's decoded value (any of its occurrences)
	Body    string            // in the body as stored
}

// Matches reports whether msg satisfies every field of m.
func (m Match) Matches(msg *Message) bool {
	if m.From != "" && !contains(msg.From, m.From) {
		return false
	}
	if m.To != "" && !anyContains(msg.To, m.To) && !anyContains(msg.Cc, m.To) {
		return false
	}
	if m.Subject != "" && !contains(msg.Subject, m.Subject) {
		return false
	}
	for name, want := range m.Header {
		var values []string
		for _, v := range msg.Header[textproto.CanonicalMIMEHeaderKey(name)] {
			values = append(values, decodeWords(v))
		}
		if !anyContains(values, want) {
			return false
		}
	}
	if m.Body != "" && !contains(string(msg.Body), m.Body) {
		return false
	}
	return true
}

// String shows the fields that are set, for WaitFor's error.
func (m Match) String() string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, fmt.Sprintf("%s:%q", k, v))
		}
	}
	add("From", m.From)
	add("To", m.To)
	add("Subject", m.Subject)
	for k, v := range m.Header {
		add(k, v)
	}
	add("Body", m.Body)
	return "{" + strings.Join(parts, " ") + "}"
}

func contains(s, sub string) bool { return strings.Contains(strings.ToLower(s), strings.ToLower(sub)) }

func anyContains(list []string, sub string) bool {
	for _, s := range list {
		if contains(s, sub) {
			return true
		}
	}
	return false
}

var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, r io.Reader) (io.Reader, error) {
	return r, nil // an unknown charset is shown as its bytes rather than not at all
}}

// decodeWords decodes RFC 2047 encoded-words, keeping the text as it is
// where they do not decode.
func decodeWords(s string) string {
	d, err := wordDecoder.DecodeHeader(s)
	if err != nil {
		return s
	}
	return d
}

// parseMessage takes raw apart. It never fails: what does not parse is
// left empty, and the message is still there in Raw.
func parseMessage(raw []byte) *Message {
	msg := &Message{Raw: raw, Header: mail.Header{}}
	m, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		msg.Body = raw
		return msg
	}
	msg.Header = m.Header
	if i := headerEnd(raw); i >= 0 {
		msg.Body = raw[i:]
	}
	msg.Subject = decodeWords(m.Header.Get("Subject"))
	if from := addresses(m.Header, "From"); len(from) > 0 {
		msg.From = from[0]
	}
	msg.To = addresses(m.Header, "To")
	msg.Cc = addresses(m.Header, "Cc")
	return msg
}

// headerEnd returns where the body starts: after the first empty line.
func headerEnd(raw []byte) int {
	for i := 0; i < len(raw); {
		j := bytes.IndexByte(raw[i:], '\n')
		if j < 0 {
			return -1
		}
		line := raw[i : i+j]
		i += j + 1
		if len(line) == 0 || (len(line) == 1 && line[0] == '\r') {
			return i
		}
	}
	return -1
}

// addresses returns the addresses of a header field; a field that does
// not parse as an address list gives its text, so a test can still
// match on it.
func addresses(h mail.Header, name string) []string {
	v := h.Get(name)
	if v == "" {
		return nil
	}
	list, err := h.AddressList(name)
	if err != nil {
		return []string{decodeWords(v)}
	}
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.Address
	}
	return out
}
