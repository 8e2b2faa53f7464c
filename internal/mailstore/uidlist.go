package mailstore

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// uidListFile is the name of a folder's UID list; uidListMagic starts it.
const (
	uidListFile  = "plumb-uidlist"
	uidListMagic = "plumb-uidlist 1"
	// maxUIDListKey bounds a key so a corrupt list cannot make us hold
	// huge strings.
	maxUIDListKey = 255
)

// uidList is a folder's persistent UID list:
//
//	plumb-uidlist 1 V<uidvalidity> N<next uid>
//	<uid> <key>
//	...
//
// Entries are in ascending UID order; lines appended after the header
// was written may make the real next UID larger than N, so the parser
// takes the larger of N and the last UID + 1.
type uidList struct {
	validity uint32
	next     uint32
	entries  []uidEntry
}

type uidEntry struct {
	uid uint32
	key string
}

var errBadUIDList = errors.New("mailstore: malformed UID list")

// parseUIDList parses a UID list, and returns with it the UID of each
// key. A malformed list is an error (the caller starts a new one with a
// new UIDVALIDITY); a key listed twice keeps its first UID. The keys
// are slices of b, so that 100,000 of them are not as many strings:
// any of them keeps all of b, which is mostly keys.
func parseUIDList(b string) (uidList, map[string]uint32, error) {
	var l uidList
	header, rest, _ := strings.Cut(b, "\n")
	f := strings.Fields(header)
	if len(f) != 4 || f[0]+" "+f[1] != uidListMagic {
		return l, nil, fmt.Errorf("%w: bad header %.40q", errBadUIDList, header)
	}
	v, err1 := parseTagged(f[2], 'V')
	n, err2 := parseTagged(f[3], 'N')
	if err1 != nil || err2 != nil || v == 0 || n == 0 {
		return l, nil, fmt.Errorf("%w: bad header %.40q", errBadUIDList, header)
	}
	l.validity, l.next = v, n
	lines := strings.Count(rest, "\n") + 1
	byKey := make(map[string]uint32, lines) // sized once: 100,000 keys grow a map slowly
	l.entries = make([]uidEntry, 0, lines)
	var last uint32
	for len(rest) > 0 {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		if len(line) == 0 {
			continue
		}
		us, key, ok := strings.Cut(line, " ")
		if !ok {
			return l, nil, fmt.Errorf("%w: line %.40q", errBadUIDList, line)
		}
		uid, err := strconv.ParseUint(us, 10, 32)
		if err != nil || uid == 0 || uint32(uid) <= last || !validKey(key) {
			return l, nil, fmt.Errorf("%w: line %.40q", errBadUIDList, line)
		}
		last = uint32(uid)
		if _, dup := byKey[key]; dup {
			continue
		}
		byKey[key] = uint32(uid)
		l.entries = append(l.entries, uidEntry{uid: uint32(uid), key: key})
	}
	if last >= l.next {
		if last == ^uint32(0) {
			return l, nil, fmt.Errorf("%w: UIDs exhausted", errBadUIDList)
		}
		l.next = last + 1
	}
	return l, byKey, nil
}

func parseTagged(s string, tag byte) (uint32, error) {
	if len(s) < 2 || s[0] != tag {
		return 0, errBadUIDList
	}
	n, err := strconv.ParseUint(s[1:], 10, 32)
	return uint32(n), err
}

// validKey reports whether key can be a Maildir base name in the list.
func validKey(key string) bool {
	if key == "" || len(key) > maxUIDListKey || key[0] == '.' {
		return false
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c <= ' ' || c == '/' || c == ':' || c == 0x7f {
			return false
		}
	}
	return true
}

// marshal returns the list in its file form.
func (l *uidList) marshal() []byte {
	var b bytes.Buffer
	b.Grow(32 + len(l.entries)*48)
	fmt.Fprintf(&b, "%s V%d N%d\n", uidListMagic, l.validity, l.next)
	for _, e := range l.entries {
		b.WriteString(strconv.FormatUint(uint64(e.uid), 10))
		b.WriteByte(' ')
		b.WriteString(e.key)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// entryLine is one appended entry.
func entryLine(uid uint32, key string) []byte {
	return []byte(strconv.FormatUint(uint64(uid), 10) + " " + key + "\n")
}
