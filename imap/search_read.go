package imap

import (
	"bytes"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"unsafe"

	"github.com/plumbnet/plumb/internal/lifecycle"
)

// readMessage reads a message whole, in its CRLF form, for the FETCH
// items and SEARCH keys that parse it. It refuses a message whose CRLF
// form is over twice MaxLiteralSize (the largest APPEND, all bare LFs)
// rather than answer, or cache a BODYSTRUCTURE, from a cut-off copy.
func (c *conn) readMessage(m MessageInfo) ([]byte, error) { return c.readMessageInto(m, nil) }

// readMessageInto is readMessage reading into buf's room when it has
// enough (a SEARCH reads thousands of messages into one buffer). A
// message stored with CRLF line ends, as most are, is used as read
// (one whose file is as long as its RFC822.SIZE is known to be); only
// one with bare LFs or CRs is copied into its CRLF form.
func (c *conn) readMessageInto(m MessageInfo, buf []byte) ([]byte, error) {
	uid := m.UID
	rc, err := c.sel.mbox.Open(c.ctx, uid)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	limit := 2 * lifecycle.OrDefault(c.s.MaxLiteralSize, DefaultMaxLiteralSize)
	tooLarge := &Error{Code: "LIMIT", Text: "Message is over " + strconv.FormatInt(limit, 10) + " bytes: too large to parse; fetch it whole with BODY[]"}
	size, exact := int64(32<<10), false
	if st, ok := rc.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil && fi.Mode().IsRegular() {
			size, exact = fi.Size(), fi.Size() == m.Size
		}
	}
	if size > limit {
		return nil, tooLarge
	}
	b := buf[:0]
	if int64(cap(b)) < size+1 {
		b = make([]byte, 0, size+1) // +1: the read that finds the end
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := rc.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > limit {
			return nil, tooLarge
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if exact && int64(len(b)) == size || isCRLF(b) {
		return b, nil
	}
	if b = toCRLF(b); int64(len(b)) > limit {
		return nil, tooLarge
	}
	return b, nil
}

// isCRLF reports whether toCRLF would leave b as it is.
func isCRLF(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	crlf := bytes.Count(b, []byte("\r\n"))
	return b[len(b)-1] == '\n' && bytes.Count(b, []byte{'\n'}) == crlf && bytes.Count(b, []byte{'\r'}) == crlf
}

// readHeaderInto reads a message's header alone, up to and with the
// empty line, in its CRLF form, into buf's room when it has enough:
// what HEADER and SENT* search keys look at. Most headers come in the
// first read.
func (c *conn) readHeaderInto(uid uint32, buf []byte) ([]byte, error) {
	rc, err := c.sel.mbox.Open(c.ctx, uid)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	limit := lifecycle.OrDefault(c.s.MaxLiteralSize, DefaultMaxLiteralSize)
	b := buf[:0]
	if cap(b) < 8<<10 {
		b = make([]byte, 0, 8<<10)
	}
	for {
		if end := headerEnd(b); end >= 0 {
			if h := b[:end]; isCRLF(h) {
				return h, nil
			}
			return toCRLF(b[:end]), nil
		}
		if int64(len(b)) > limit {
			return nil, &Error{Code: "LIMIT", Text: "Message header is over " + strconv.FormatInt(limit, 10) + " bytes"}
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := rc.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF { // a message that is all header
			if isCRLF(b) {
				return b, nil
			}
			return toCRLF(b), nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// headerEnd is the length of the header in b with its empty line
// (CRLF or bare LF), or -1 if b does not hold it all yet.
func headerEnd(b []byte) int {
	if len(b) > 0 && b[0] == '\n' {
		return 1
	}
	if len(b) > 1 && b[0] == '\r' && b[1] == '\n' {
		return 2
	}
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		switch {
		case i < len(b) && b[i] == '\n':
			return i + 1
		case i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n':
			return i + 2
		case i >= len(b)-1:
			return -1 // the next line's start is not in yet
		}
	}
}

// containsFold reports whether sub is in s, ignoring case.
func containsFold(s, sub string) bool {
	if isASCII(sub) {
		// Read in place: containsFoldASCII neither keeps nor changes it.
		return containsFoldASCII(unsafe.Slice(unsafe.StringData(s), len(s)), sub)
	}
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// containsFoldBytes is containsFold of bytes, which it does not copy
// for an ASCII sub.
func containsFoldBytes(b []byte, sub string) bool {
	if isASCII(sub) {
		return containsFoldASCII(b, sub)
	}
	return strings.Contains(strings.ToLower(string(b)), strings.ToLower(sub))
}

// containsFoldASCII finds ASCII sub in s, ASCII letters matching either
// case: the first byte of sub is looked for in both cases with
// IndexByte, and only there is the rest compared.
func containsFoldASCII(s []byte, sub string) bool {
	if sub == "" {
		return true
	}
	lo, up := lowerASCII(sub[0]), upperASCII(sub[0])
	for len(s) >= len(sub) {
		j := bytes.IndexByte(s, lo)
		if up != lo {
			in := s
			if j >= 0 {
				in = s[:j]
			}
			if k := bytes.IndexByte(in, up); k >= 0 {
				j = k
			}
		}
		if j < 0 || len(s)-j < len(sub) {
			return false
		}
		if equalFoldASCII(s[j+1:j+len(sub)], sub[1:]) {
			return true
		}
		s = s[j+1:]
	}
	return false
}

func equalFoldASCII(a []byte, b string) bool {
	for i := range len(b) {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func upperASCII(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}
