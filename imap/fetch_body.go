package imap

import (
	"bufio"
	"bytes"
	"io"
	"io/fs"
	"strconv"
	"strings"
)

// streamLiteral writes the message r holds as a literal of its CRLF
// form (or of the <partial> of it), read from the backend as it goes:
// a large message is never held whole. The literal's size is the
// message's RFC822.SIZE; a backend whose size was wrong gets its
// message padded or cut to it (and an error logged), so the session
// stays in step with the client.
func (c *conn) streamLiteral(r io.Reader, m MessageInfo, it fetchItem) error {
	start, n := int64(0), m.Size
	if it.partial {
		start = min(it.offset, m.Size)
		n = min(it.count, m.Size-start)
	}
	e := c.enc
	e.WriteString("{" + strconv.FormatInt(n, 10) + "}\r\n")
	// A file as long as its CRLF form is that form already (the store
	// names its wire size): it is copied as it is.
	var src io.Reader
	if st, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() == m.Size {
			if sk, ok := r.(io.Seeker); ok && start > 0 {
				if _, err := sk.Seek(start, io.SeekStart); err == nil {
					src, start = r, 0
				}
			} else if start == 0 {
				src = r
			}
		}
	}
	if src == nil {
		src = &crlfReader{r: bufio.NewReaderSize(r, 32<<10)}
	}
	if _, err := io.CopyN(io.Discard, src, start); err != nil && err != io.EOF {
		return err
	}
	w, err := io.CopyN(e, src, n)
	if err != nil && err != io.EOF {
		return err
	}
	if w < n {
		c.s.logger().Error("imap: message shorter than its RFC822.SIZE", "uid", m.UID, "size", m.Size, "user", c.user)
		e.WriteString(strings.Repeat(" ", int(n-w)))
	}
	return nil
}

// crlfReader reads r with every line end as CRLF and a CRLF after a last
// line without one, as toCRLF does to a whole message.
type crlfReader struct {
	r       *bufio.Reader
	pending []byte
	open    bool // bytes of a line without its line end yet
	done    bool
	err     error // a read error other than io.EOF: never taken for the end
}

func (c *crlfReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n := 0
	for n < len(p) {
		if len(c.pending) > 0 {
			k := copy(p[n:], c.pending)
			c.pending, n = c.pending[k:], n+k
			continue
		}
		if c.done {
			break
		}
		b, err := c.r.ReadByte()
		if err != nil {
			c.done = true
			if err != io.EOF {
				c.err, c.pending = err, nil
				return n, err
			}
			if c.open {
				c.pending, c.open = []byte("\r\n"), false
				continue
			}
			break
		}
		switch b {
		case '\r':
			if next, err := c.r.Peek(1); err == nil && next[0] == '\n' {
				c.r.ReadByte()
			}
			c.pending, c.open = []byte("\r\n"), false
		case '\n':
			c.pending, c.open = []byte("\r\n"), false
		default:
			p[n], c.open = b, true
			n++
		}
	}
	if n == 0 && c.done && len(c.pending) == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// structures are a message's ENVELOPE, BODY and BODYSTRUCTURE in their wire form.
type structures struct{ envelope, body, structure []byte }

func computeStructures(raw []byte, root *mimePart, utf8 bool) *structures {
	enc := func(f func(e *encoder)) []byte {
		var b bytes.Buffer
		e := &encoder{Writer: bufio.NewWriter(&b), utf8: utf8}
		f(e)
		e.Flush()
		return b.Bytes()
	}
	return &structures{
		envelope:  enc(func(e *encoder) { e.envelope(root) }),
		body:      enc(func(e *encoder) { e.bodyStructure(raw, root, false) }),
		structure: enc(func(e *encoder) { e.bodyStructure(raw, root, true) }),
	}
}
