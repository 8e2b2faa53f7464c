package plumbtest

import (
	"bytes"
	"testing"
)

// FuzzParseMessage checks that any bytes parse into a Message that keeps
// them whole, whose body is their tail, and that a Match built from what
// was parsed matches it again.
func FuzzParseMessage(f *testing.F) {
	f.Add([]byte("From: Bob <bob@example.org>\r\nTo: a@localhost, c@localhost\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n\r\nbody\r\n"))
	f.Add([]byte("Subject: no body"))
	f.Add([]byte("not a header\r\n\r\n"))
	f.Add([]byte("X-Id: 1\nX-Id: 2\n\nlf only\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		msg := parseMessage(raw)
		if !bytes.Equal(msg.Raw, raw) {
			t.Fatalf("parseMessage(%q).Raw = %q", raw, msg.Raw)
		}
		if !bytes.HasSuffix(raw, msg.Body) {
			t.Fatalf("parseMessage(%q).Body = %q, not the message's tail", raw, msg.Body)
		}
		if !(Match{}).Matches(msg) {
			t.Fatalf("the zero Match does not match %q", raw)
		}
		m := Match{From: msg.From, Subject: msg.Subject}
		if len(msg.To) > 0 {
			m.To = msg.To[0]
		}
		if len(msg.Body) > 0 && len(msg.Body) < 64 {
			m.Body = string(msg.Body)
		}
		for k, v := range msg.Header {
			m.Header = map[string]string{k: decodeWords(v[0])}
			break
		}
		if !m.Matches(msg) {
			t.Fatalf("Match %v, built from the message, does not match %q", m, raw)
		}
	})
}
