package imap

import (
	"bufio"
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

// readHeader reads a message's header alone, up to and with the empty
// line, in its CRLF form: what HEADER and SENT* search keys look at.
func (c *conn) readHeader(uid uint32) ([]byte, error) {
	rc, err := c.sel.mbox.Open(c.ctx, uid)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	limit := lifecycle.OrDefault(c.s.MaxLiteralSize, DefaultMaxLiteralSize)
	br := bufio.NewReaderSize(rc, 4<<10)
	var b []byte
	for int64(len(b)) <= limit {
		line, err := br.ReadSlice('\n')
		b = append(b, line...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(line) == 1 || len(line) == 2 && line[0] == '\r' {
			break // the empty line
		}
	}
	if int64(len(b)) > limit {
		return nil, &Error{Code: "LIMIT", Text: "Message header is over " + strconv.FormatInt(limit, 10) + " bytes"}
	}
	return toCRLF(b), nil
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
