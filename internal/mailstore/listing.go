package mailstore

import (
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// A folder's last settled listing is kept in plumb-listing, beside the
// UID list, so that a restarted process's first exact listing of a
// folder of 100,000 messages reads one file instead of new/ and cur/
// (as Dovecot trusts its index while cur/'s mtime is unchanged). The
// file names the stamps of new/, cur/ and the UID list it was taken at;
// it is used only while all three are unchanged, and written only for
// a listing whose directory stamps were settled (older than
// uncertainAge when the directories were read), so a change in the
// same clock tick cannot hide behind it. Maildir readers ignore it.
//
// It is a cache: written to a temporary file and renamed (never torn in
// place), but not fsynced, as losing it costs only a normal listing. A
// CRC-32 trailer makes a damaged file be ignored and replaced.
//
//	plumb-listing 1 <count> <at unix ns> <new/ size mtime ino> <cur/ ...> <uidlist ...>
//	<uid> <new|cur>/<file name> <size> <CRLF size or -1>
//	...
//	end <crc32 of everything before, 8 lowercase hex digits>
const (
	listingFile  = "plumb-listing"
	listingMagic = "plumb-listing 1"
	// maxListingEntries and maxListingLine bound what a damaged or
	// foreign file can make a load hold.
	maxListingEntries = 1 << 22
	maxListingLine    = 600
)

// cachedListing is the content of plumb-listing.
type cachedListing struct {
	at      int64        // when the directories were read, unix ns
	stamps  [3]fileStamp // new/, cur/, the UID list
	entries []cachedEntry
}

type cachedEntry struct {
	uid  uint32
	rel  string // "new/<name>" or "cur/<name>"
	size int64
	crlf int64

	key   string // from rel, when parsed (marshal leaves them out)
	flags Flags
}

var errBadListing = errors.New("mailstore: malformed listing cache")

func appendStamp(b []byte, st fileStamp) []byte {
	b = append(b, ' ')
	b = strconv.AppendInt(b, st.size, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, st.mtime, 10)
	b = append(b, ' ')
	return strconv.AppendUint(b, st.ino, 10)
}

// marshal encodes c.
func (c *cachedListing) marshal() []byte {
	b := make([]byte, 0, 128+len(c.entries)*96)
	b = append(b, listingMagic...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(c.entries)), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, c.at, 10)
	for _, st := range c.stamps {
		b = appendStamp(b, st)
	}
	b = append(b, '\n')
	for _, e := range c.entries {
		b = strconv.AppendUint(b, uint64(e.uid), 10)
		b = append(b, ' ')
		b = append(b, e.rel...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, e.size, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, e.crlf, 10)
		b = append(b, '\n')
	}
	return fmt.Appendf(b, "end %08x\n", crc32.ChecksumIEEE(b))
}

// parseListing decodes a plumb-listing file. Anything not exactly as
// marshal writes it is an error.
func parseListing(raw []byte) (cachedListing, error) {
	var c cachedListing
	b := string(raw) // one copy: every entry's strings are slices of it
	const trailer = len("end 01234567\n")
	if len(b) < trailer || !strings.HasPrefix(b[len(b)-trailer:], "end ") || b[len(b)-1] != '\n' {
		return c, fmt.Errorf("%w: no trailer", errBadListing)
	}
	body := b[:len(b)-trailer]
	sum := b[len(b)-trailer+4 : len(b)-1]
	if fmt.Sprintf("%08x", crc32.ChecksumIEEE(raw[:len(body)])) != sum {
		return c, fmt.Errorf("%w: checksum", errBadListing)
	}
	header, rest, ok := strings.Cut(body, "\n")
	if !ok || !strings.HasPrefix(header, listingMagic+" ") {
		return c, fmt.Errorf("%w: header", errBadListing)
	}
	h := strings.Split(header[len(listingMagic)+1:], " ")
	if len(h) != 11 {
		return c, fmt.Errorf("%w: header", errBadListing)
	}
	var nums [11]int64
	for i, f := range h {
		n, ok := atoi(f)
		if !ok {
			return c, fmt.Errorf("%w: header", errBadListing)
		}
		nums[i] = n
	}
	count := nums[0]
	if count > maxListingEntries || count > int64(strings.Count(rest, "\n")) {
		return c, fmt.Errorf("%w: count", errBadListing)
	}
	c.at = nums[1]
	for i := range c.stamps {
		c.stamps[i] = fileStamp{size: nums[2+3*i], mtime: nums[3+3*i], ino: uint64(nums[4+3*i])}
	}
	c.entries = make([]cachedEntry, 0, count)
	var last uint32
	for len(rest) > 0 {
		line, tail, ok := strings.Cut(rest, "\n")
		if !ok || len(line) > maxListingLine || int64(len(c.entries)) == count {
			return c, fmt.Errorf("%w: entry", errBadListing)
		}
		rest = tail
		e, ok := parseCachedEntry(line)
		if !ok || e.uid <= last {
			return c, fmt.Errorf("%w: entry %.60q", errBadListing, line)
		}
		last = e.uid
		c.entries = append(c.entries, e)
	}
	if int64(len(c.entries)) != count {
		return c, fmt.Errorf("%w: count", errBadListing)
	}
	return c, nil
}

func parseCachedEntry(line string) (cachedEntry, bool) {
	var e cachedEntry
	i := strings.IndexByte(line, ' ')
	j := strings.LastIndexByte(line, ' ')
	if i < 0 || j <= i {
		return e, false
	}
	k := strings.LastIndexByte(line[:j], ' ')
	if k <= i {
		return e, false
	}
	uid, ok1 := atoi(line[:i])
	size, ok2 := atoi(line[k+1 : j])
	crlf, ok3 := atoi(line[j+1:])
	if line[j+1:] == "-1" {
		crlf, ok3 = -1, true
	}
	rel := line[i+1 : k]
	if !ok1 || !ok2 || !ok3 || uid == 0 || uid > int64(^uint32(0)) || len(rel) < 5 ||
		!(strings.HasPrefix(rel, "new/") || strings.HasPrefix(rel, "cur/")) {
		return e, false
	}
	key, flags, ok := nameParts(rel[4:])
	if !ok {
		return e, false
	}
	e.uid, e.rel, e.key, e.flags, e.size, e.crlf = uint32(uid), rel, key, flags, size, crlf
	return e, true
}

// nameParts returns the key and flags of a message file name as
// parseFileName does, without its allocations when the flags are
// already in order (as the store writes them).
func nameParts(name string) (string, Flags, bool) {
	if name == "" || name[0] == '.' || strings.ContainsAny(name, "/\x00\r\n ") {
		return "", "", false
	}
	key, info, hasInfo := strings.Cut(name, ":")
	if !validKey(key) {
		return "", "", false
	}
	var flags Flags
	if rest, ok := strings.CutPrefix(info, "2,"); hasInfo && ok {
		if len(rest) > maxFlagCount {
			return "", "", false
		}
		flags = Flags(rest)
		if NewFlags(rest) != flags {
			flags = NewFlags(rest)
		}
	}
	return key, flags, true
}

// atoi parses a canonical non-negative decimal (no sign, no leading zero).
func atoi(b string) (int64, bool) {
	if len(b) == 0 || len(b) > 19 || (b[0] == '0' && len(b) > 1) {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (1<<63-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// loadCachedListing takes the folder's listing from plumb-listing if it
// is valid for the folder as it is now: the stamps of new/, cur/ and
// the UID list unchanged, and the same UIDs and keys as the UID list.
// It reports whether it did. Called with the folder held, the UID list
// loaded, and no snapshot.
func (f *folder) loadCachedListing() ([]Message, bool) {
	dirs := f.dirStamps() // before reading: as listDirs takes them
	b, err := os.ReadFile(filepath.Join(f.path, listingFile))
	if err != nil {
		return nil, false
	}
	c, err := parseListing(b)
	if err != nil {
		f.store.logger().Info("mailstore: ignoring the listing cache", "folder", f.path, "err", err)
		return nil, false
	}
	if c.stamps != [3]fileStamp{dirs[0], dirs[1], f.stamp} || len(c.entries) != len(f.list.entries) {
		return nil, false
	}
	at := time.Unix(0, c.at)
	for _, st := range dirs {
		if at.Sub(time.Unix(0, st.mtime)) < uncertainAge {
			return nil, false
		}
	}
	prefix := f.path + string(filepath.Separator)
	n := 0
	for i, e := range c.entries {
		if le := f.list.entries[i]; le.uid != e.uid || le.key != e.key {
			return nil, false
		}
		n += len(prefix) + len(e.rel)
	}
	var paths strings.Builder // every Path, one allocation
	paths.Grow(n)
	for _, e := range c.entries {
		paths.WriteString(prefix)
		paths.WriteString(e.rel)
	}
	all, off := paths.String(), 0
	msgs := make([]Message, 0, len(c.entries)+len(c.entries)/8+16)
	for _, e := range c.entries {
		p := all[off : off+len(prefix)+len(e.rel)]
		off += len(p)
		msgs = append(msgs, Message{UID: e.uid, Key: e.key, Flags: e.flags, Size: e.size, CRLFSize: e.crlf,
			Path: p, Recent: e.rel[0] == 'n'})
	}
	f.resetWhere(len(c.entries))
	for i, e := range c.entries {
		f.where[e.uid] = e.rel
		if m := msgs[i]; m.CRLFSize >= 0 && !strings.Contains(m.Key, ",W=") {
			f.vsizes[m.Key] = m.CRLFSize
		}
	}
	f.setSnapshot(msgs, dirs, at)
	f.chain, f.chained = dirs, true
	f.cachedFor = c.stamps
	return msgs, true
}

// persistListing writes the snapshot to plumb-listing, in the
// background, if it is settled and not written already. Called with
// the folder held.
func (f *folder) persistListing() {
	if !f.current() {
		return
	}
	s := &f.snapState
	stamps := [3]fileStamp{s.dirs[0], s.dirs[1], f.stamp}
	if stamps == f.cachedFor {
		return
	}
	f.cachedFor = stamps
	snap, at, base := s.snap, s.at.UnixNano(), f.path
	f.store.persisting.Add(1)
	go func() { // off the folder's lock and the caller's reply
		defer f.store.persisting.Done()
		c := cachedListing{at: at, stamps: stamps, entries: make([]cachedEntry, 0, len(snap))}
		for _, m := range snap {
			if len(m.Path) <= len(base)+5 {
				return
			}
			c.entries = append(c.entries, cachedEntry{uid: m.UID, rel: m.Path[len(base)+1:], size: m.Size, crlf: m.CRLFSize})
		}
		if err := writeListing(base, c.marshal()); err != nil {
			f.store.logger().Warn("mailstore: writing the listing cache", "folder", base, "err", err)
		}
		if h := f.store.hooks.persisted; h != nil {
			h(base)
		}
	}()
}

// writeListing replaces dir's plumb-listing with b: a temporary file
// renamed over it, without fsync (it is a cache, see above).
func writeListing(dir string, b []byte) error {
	t, err := os.CreateTemp(dir, listingFile+".tmp*")
	if err != nil {
		return err
	}
	_, err = t.Write(b)
	if cerr := t.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(t.Name(), filepath.Join(dir, listingFile))
	}
	if err != nil {
		os.Remove(t.Name())
	}
	return err
}

// removeListingTemps removes the temporary files of listing caches a
// crash left in the folder's directory.
func (f *folder) removeListingTemps() {
	names, _ := readDirNames(f.path)
	for _, n := range names {
		if strings.HasPrefix(n, listingFile+".tmp") {
			os.Remove(filepath.Join(f.path, n))
		}
	}
}
