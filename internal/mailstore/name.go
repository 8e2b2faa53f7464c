package mailstore

import (
	"errors"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Flags are Maildir info flags: a sorted string of distinct ASCII
// letters, as in a file name after ":2,". The standard ones map to IMAP
// system flags.
type Flags string

// Maildir flag letters.
const (
	FlagDraft    = 'D' // \Draft
	FlagFlagged  = 'F' // \Flagged
	FlagPassed   = 'P' // forwarded, no IMAP flag
	FlagReplied  = 'R' // \Answered
	FlagSeen     = 'S' // \Seen
	FlagTrashed  = 'T' // \Deleted
	maxFlagCount = 52
)

// NewFlags returns letters as Flags: sorted, deduplicated, and without
// anything that is not an ASCII letter.
func NewFlags(letters string) Flags {
	var set [128]bool
	for i := 0; i < len(letters); i++ {
		c := letters[i]
		if (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') {
			set[c] = true
		}
	}
	b := make([]byte, 0, len(letters))
	for c := range set {
		if set[c] {
			b = append(b, byte(c))
		}
	}
	return Flags(b)
}

// isFlags reports whether NewFlags(letters) is letters: ASCII letters,
// each once, in order.
func isFlags(letters string) bool {
	for i := 0; i < len(letters); i++ {
		c := letters[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') || i > 0 && c <= letters[i-1] {
			return false
		}
	}
	return true
}

// Has reports whether f holds letter.
func (f Flags) Has(letter byte) bool { return strings.IndexByte(string(f), letter) >= 0 }

// With returns f with letters added.
func (f Flags) With(letters string) Flags { return NewFlags(string(f) + letters) }

// Without returns f with letters removed.
func (f Flags) Without(letters string) Flags {
	return NewFlags(strings.Map(func(r rune) rune {
		if strings.ContainsRune(letters, r) {
			return -1
		}
		return r
	}, string(f)))
}

// fileName is a Maildir file name taken apart.
type fileName struct {
	key   string // the unique part, before ":"; stable across flag changes
	flags Flags
	size  int64 // from ",S=", or -1
	vsize int64 // from ",W=", or -1
}

var errBadFileName = errors.New("mailstore: not a Maildir message file name")

// parseFileName parses a Maildir file name "<unique>[,S=n][,W=n][:2,flags]".
// Names starting with "." (editor and tool droppings) are not messages.
func parseFileName(name string) (fileName, error) {
	fn := fileName{size: -1, vsize: -1}
	if name == "" || name[0] == '.' || strings.ContainsAny(name, "/\x00\r\n ") {
		return fn, errBadFileName
	}
	key, info, hasInfo := strings.Cut(name, ":")
	if key == "" {
		return fn, errBadFileName
	}
	fn.key = key
	if hasInfo {
		if rest, ok := strings.CutPrefix(info, "2,"); ok {
			if len(rest) > maxFlagCount {
				return fn, errBadFileName
			}
			fn.flags = NewFlags(rest)
		}
	}
	// Size fields follow the unique part, comma-separated.
	parts := strings.Split(key, ",")
	for _, p := range parts[1:] {
		var dst *int64
		switch {
		case strings.HasPrefix(p, "S="):
			dst = &fn.size
		case strings.HasPrefix(p, "W="):
			dst = &fn.vsize
		default:
			continue
		}
		n, err := strconv.ParseInt(p[2:], 10, 64)
		if err != nil || n < 0 {
			continue // a foreign field we do not understand is not an error
		}
		*dst = n
	}
	return fn, nil
}

// String returns the file name for fn in cur/ (with info) or new/ (without).
func (fn fileName) name(inCur bool) string {
	if !inCur {
		return fn.key
	}
	return fn.key + ":2," + string(fn.flags)
}

var (
	hostPart   = sanitizeHost()
	deliveries atomic.Uint64
)

// sanitizeHost returns the host name with "/" and ":" escaped as the
// Maildir convention says.
func sanitizeHost() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "localhost"
	}
	h = strings.ReplaceAll(h, "/", `\057`)
	h = strings.ReplaceAll(h, ":", `\072`)
	h = strings.ReplaceAll(h, ",", `\054`)
	return h
}

// uniqueName returns a new unique Maildir base name: seconds, then
// microseconds, pid and a per-process counter, then the host.
func uniqueName(now time.Time) string {
	n := deliveries.Add(1)
	var b strings.Builder
	b.Grow(64)
	b.WriteString(strconv.FormatInt(now.Unix(), 10))
	b.WriteString(".M")
	b.WriteString(strconv.Itoa(now.Nanosecond() / 1000))
	b.WriteString("P")
	b.WriteString(strconv.Itoa(os.Getpid()))
	b.WriteString("Q")
	b.WriteString(strconv.FormatUint(n, 10))
	b.WriteString(".")
	b.WriteString(hostPart)
	return b.String()
}

// sortKeys orders keys by their leading timestamp, then as strings, so
// files found behind our back get UIDs in delivery order.
func sortKeys(keys []string) {
	sort.Slice(keys, func(i, j int) bool {
		ti, tj := leadingInt(keys[i]), leadingInt(keys[j])
		if ti != tj {
			return ti < tj
		}
		return keys[i] < keys[j]
	})
}

func leadingInt(s string) int64 {
	var n int64
	for i := 0; i < len(s) && i < 18; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	return n
}
