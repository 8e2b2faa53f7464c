package pop3

import (
	"bytes"
	"errors"
	"io"
	"strconv"
)

// fetchWindow is how many RETRs Fetch keeps in flight when the server
// offers PIPELINING.
const fetchWindow = 16

// Fetch retrieves, in message order, every message whose unique id
// (UIDL) skip does not report, and passes each to fn with its content
// (CRLF line ends). With del, each message fn accepted (returned nil)
// is marked deleted; Quit then removes them. It returns how many
// messages fn accepted. A nil skip fetches everything; a server without
// UIDL gets its messages fetched by number with empty UIDs.
func (c *Client) Fetch(skip func(uid string) bool, del bool, fn func(MessageInfo, []byte) error) (int, error) {
	caps, err := c.Capabilities()
	if err != nil {
		var pe *Error
		if !errors.As(err, &pe) {
			return 0, err
		}
		caps = nil // no CAPA: an RFC 1939-only server
	}
	infos, err := c.UIDL()
	if err != nil {
		var pe *Error
		if !errors.As(err, &pe) {
			return 0, err
		}
		if infos, err = c.List(); err != nil {
			return 0, err
		}
		for i := range infos {
			infos[i].UID = ""
		}
	}
	var todo []MessageInfo
	for _, mi := range infos {
		if skip == nil || mi.UID == "" || !skip(mi.UID) {
			todo = append(todo, mi)
		}
	}
	window := 1
	if _, ok := caps["PIPELINING"]; ok {
		window = fetchWindow
	}
	accepted := 0
	sent := 0
	var buf bytes.Buffer
	var dele []int
	for i := range todo {
		// Keep up to window RETRs in flight ahead of the one read now.
		for sent < len(todo) && sent < i+window {
			c.bw.WriteString("RETR " + strconv.Itoa(todo[sent].Num) + "\r\n")
			sent++
		}
		if err := c.flush(); err != nil {
			return accepted, err
		}
		if _, err := c.status("RETR"); err != nil {
			c.drain(i+1, sent)
			return accepted, err
		}
		buf.Reset()
		if _, err := c.readBody(&buf, c.maxMessageSize()); err != nil {
			return accepted, err
		}
		if err := fn(todo[i], buf.Bytes()); err != nil {
			c.drain(i+1, sent)
			return accepted, err
		}
		accepted++
		if del {
			dele = append(dele, todo[i].Num)
		}
	}
	// The DELEs go after every RETR, pipelined the same way.
	for start := 0; start < len(dele); start += window {
		batch := dele[start:min(start+window, len(dele))]
		for _, n := range batch {
			c.bw.WriteString("DELE " + strconv.Itoa(n) + "\r\n")
		}
		if err := c.flush(); err != nil {
			return accepted, err
		}
		var first error
		for range batch {
			if _, err := c.status("DELE"); err != nil && first == nil {
				first = err
			}
		}
		if first != nil {
			return accepted, first
		}
	}
	return accepted, nil
}

// drain reads the replies of RETRs from..sent-1 already sent, so the
// session stays in step after an error.
func (c *Client) drain(from, sent int) {
	for j := from; j < sent; j++ {
		if _, err := c.status("RETR"); err == nil {
			c.readBody(io.Discard, 0)
		}
	}
}
