package mailstore

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
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
// It is written only while its messages are the UID list's entries, and
// it names the list's UIDVALIDITY and next UID, so that while the list's
// stamp is unchanged (an append changes its size, a rewrite its inode)
// the UID list is taken from it too, not read and parsed again: at
// 100,000 messages that is most of a restart's first listing.
//
//	plumb-listing 2 <count> <uidvalidity> <next uid> <at unix ns> <new/ size mtime ino> <cur/ ...> <uidlist ...>
//	<uid> <new|cur>/<file name> <size> <CRLF size or -1>
//	...
//	end <crc32 of everything before, 8 lowercase hex digits>
const (
	listingFile  = "plumb-listing"
	listingMagic = "plumb-listing 2"
	// maxListingEntries and maxListingLine bound what a damaged or
	// foreign file can make a load hold.
	maxListingEntries = 1 << 22
	maxListingLine    = 600
	minListingLine    = 12 // an entry's, "1 new/x 0 0\n"
)

// cachedListing is the content of plumb-listing: a folder's messages,
// each Path the folder's path and a separator (the prefix marshal and
// parseListing are given), then "new/<name>" or "cur/<name>".
type cachedListing struct {
	validity, next uint32       // the UID list's, as uidList has them
	at             int64        // when the directories were read, unix ns
	stamps         [3]fileStamp // new/, cur/, the UID list
	msgs           []Message
}

// uidList returns the UID list c was written for: its entries are c's
// messages, their keys slices of the Paths.
func (c *cachedListing) uidList() uidList {
	l := uidList{validity: c.validity, next: c.next, entries: make([]uidEntry, len(c.msgs))}
	for i, m := range c.msgs {
		l.entries[i] = uidEntry{uid: m.UID, key: m.Key}
	}
	return l
}

var (
	errBadListing   = errors.New("mailstore: malformed listing cache")
	errStaleListing = errors.New("mailstore: listing cache of other directories")
)

func appendStamp(b []byte, st fileStamp) []byte {
	b = append(b, ' ')
	b = strconv.AppendInt(b, st.size, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, st.mtime, 10)
	b = append(b, ' ')
	return strconv.AppendUint(b, st.ino, 10)
}

// marshal encodes c, each Path without prefix.
func (c *cachedListing) marshal(prefix string) []byte {
	b := make([]byte, 0, 128+len(c.msgs)*96)
	b = append(b, listingMagic...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(c.msgs)), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(c.validity), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(c.next), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, c.at, 10)
	for _, st := range c.stamps {
		b = appendStamp(b, st)
	}
	b = append(b, '\n')
	for _, m := range c.msgs {
		b = strconv.AppendUint(b, uint64(m.UID), 10)
		b = append(b, ' ')
		b = append(b, m.Path[len(prefix):]...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, m.Size, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, m.CRLFSize, 10)
		b = append(b, '\n')
	}
	return fmt.Appendf(b, "end %08x\n", crc32.ChecksumIEEE(b))
}

// parseListing decodes a plumb-listing file of size bytes from r. With
// dirs, a file taken at other stamps of new/ and cur/ is
// errStaleListing, found from its header alone.
// Anything not exactly as marshal writes it is an error. Every Path is
// prefix and the message's "new/..." or "cur/...", and all of them are
// one string, of which each Key and Flags is a slice too: the file is
// read through a small buffer, not held, and a message costs its
// Message and the bytes of its Path. size bounds what a damaged file
// can make it allocate.
func parseListing(r io.Reader, size int64, prefix string, dirs *[2]fileStamp) (cachedListing, error) {
	var c cachedListing
	br := bufio.NewReaderSize(r, 64<<10)
	header, err := br.ReadSlice('\n')
	if err != nil {
		return c, listingReadErr(err)
	}
	if !bytes.HasPrefix(header, []byte(listingMagic+" ")) {
		return c, fmt.Errorf("%w: header", errBadListing)
	}
	sum := crc32.ChecksumIEEE(header) // of everything before the trailer
	h := bytes.Split(header[len(listingMagic)+1:len(header)-1], []byte(" "))
	if len(h) != 13 {
		return c, fmt.Errorf("%w: header", errBadListing)
	}
	var nums [13]int64
	for i, f := range h {
		n, ok := atoi(f)
		if !ok {
			return c, fmt.Errorf("%w: header", errBadListing)
		}
		nums[i] = n
	}
	count := nums[0]
	if count > maxListingEntries || count > size/minListingLine {
		return c, fmt.Errorf("%w: count", errBadListing)
	}
	if nums[1] == 0 || nums[1] > int64(^uint32(0)) || nums[2] == 0 || nums[2] > int64(^uint32(0)) {
		return c, fmt.Errorf("%w: header", errBadListing)
	}
	c.validity, c.next, c.at = uint32(nums[1]), uint32(nums[2]), nums[3]
	for i := range c.stamps {
		c.stamps[i] = fileStamp{size: nums[4+3*i], mtime: nums[5+3*i], ino: uint64(nums[6+3*i])}
	}
	if dirs != nil && (c.stamps[0] != dirs[0] || c.stamps[1] != dirs[1]) {
		return c, errStaleListing // not read further: it would not be used
	}
	// Room for every Path, so that the Builder never grows again: a
	// line holds its "new/..." and at least 7 bytes more.
	var paths strings.Builder
	paths.Grow(int(count*int64(len(prefix)) + min(size-7*count, count*maxListingLine)))
	c.msgs = make([]Message, 0, count+count/8+16) // room for deliveries to append, as a snapshot has (see appended)
	var last uint32
	var line []byte
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return c, listingReadErr(err)
		}
		if bytes.HasPrefix(line, []byte("end ")) {
			break
		}
		if len(line)-1 > maxListingLine || int64(len(c.msgs)) == count {
			return c, fmt.Errorf("%w: entry", errBadListing)
		}
		sum = crc32.Update(sum, crc32.IEEETable, line)
		m, ok := parseCachedEntry(line[:len(line)-1], prefix, &paths)
		if !ok || m.UID <= last {
			return c, fmt.Errorf("%w: entry %.60q", errBadListing, line)
		}
		last = m.UID
		c.msgs = append(c.msgs, m)
	}
	if len(line) != len("end 01234567\n") || string(line[4:12]) != fmt.Sprintf("%08x", sum) {
		return c, fmt.Errorf("%w: checksum", errBadListing)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return c, fmt.Errorf("%w: data after the trailer", errBadListing)
	}
	if int64(len(c.msgs)) != count || count > 0 && last >= c.next {
		return c, fmt.Errorf("%w: count", errBadListing)
	}
	return c, nil
}

// listingReadErr is the error for a line parseListing could not read:
// the end of a file without its trailer, a line longer than the buffer,
// or a failed read.
func listingReadErr(err error) error {
	switch err {
	case io.EOF:
		return fmt.Errorf("%w: no trailer", errBadListing)
	case bufio.ErrBufferFull:
		return fmt.Errorf("%w: line too long", errBadListing)
	}
	return fmt.Errorf("mailstore: %w", err)
}

// parseCachedEntry parses an entry's line, without its newline, writing
// its Path to paths.
func parseCachedEntry(line []byte, prefix string, paths *strings.Builder) (Message, bool) {
	i := bytes.IndexByte(line, ' ')
	j := bytes.LastIndexByte(line, ' ')
	if i < 0 || j <= i {
		return Message{}, false
	}
	k := bytes.LastIndexByte(line[:j], ' ')
	if k <= i {
		return Message{}, false
	}
	uid, ok1 := atoi(line[:i])
	size, ok2 := atoi(line[k+1 : j])
	crlf, ok3 := atoi(line[j+1:])
	if string(line[j+1:]) == "-1" {
		crlf, ok3 = -1, true
	}
	rel := line[i+1 : k]
	if !ok1 || !ok2 || !ok3 || uid == 0 || uid > int64(^uint32(0)) || len(rel) < 5 ||
		!(bytes.HasPrefix(rel, []byte("new/")) || bytes.HasPrefix(rel, []byte("cur/"))) {
		return Message{}, false
	}
	paths.WriteString(prefix)
	paths.Write(rel)
	all := paths.String() // what is written stays: earlier Paths are slices of it too
	p := all[len(all)-len(prefix)-len(rel):]
	key, flags, ok := nameParts(p[len(prefix)+4:])
	if !ok {
		return Message{}, false
	}
	return Message{UID: uint32(uid), Key: key, Flags: flags, Size: size, CRLFSize: crlf, Path: p, Recent: rel[0] == 'n'}, true
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
		if !isFlags(rest) {
			flags = NewFlags(rest)
		}
	}
	return key, flags, true
}

// atoi parses a canonical non-negative decimal (no sign, no leading zero).
func atoi(b []byte) (int64, bool) {
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

// readListing is plumb-listing as readCachedListing read it.
type readListing struct {
	dirs [2]fileStamp // new/ and cur/ before it was read
	c    cachedListing
	ok   bool
}

// readCachedListing reads and parses plumb-listing. It touches nothing
// of f but its path, so that it can run before the folder is held (see
// Snapshot).
func (f *folder) readCachedListing() readListing {
	r := readListing{dirs: f.dirStamps()} // before reading: as listDirs takes them
	file, err := os.Open(filepath.Join(f.path, listingFile))
	if err != nil {
		return r
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return r
	}
	r.c, err = parseListing(file, fi.Size(), f.path+string(filepath.Separator), &r.dirs)
	if errors.Is(err, errStaleListing) {
		return r // the folder changed since: the next settled listing replaces it
	}
	if err != nil {
		f.store.logger().Info("mailstore: ignoring the listing cache", "folder", f.path, "err", err)
		return r
	}
	r.ok = true
	return r
}

// useCachedListing takes the folder's listing from the read r if it is
// valid for the folder as it is now: the stamps of new/, cur/ and the
// UID list unchanged, and the directories settled when it was taken. It
// reports whether it did. Called with the folder held, the UID list
// loaded, and no snapshot.
func (f *folder) useCachedListing(r readListing) ([]Message, bool) {
	if !r.ok {
		return nil, false
	}
	dirs, c, prefix := r.dirs, r.c, f.path+string(filepath.Separator)
	if c.stamps != [3]fileStamp{dirs[0], dirs[1], f.stamp} || len(c.msgs) != len(f.list.entries) {
		return nil, false
	}
	at := time.Unix(0, c.at)
	for _, st := range dirs {
		if at.Sub(time.Unix(0, st.mtime)) < uncertainAge {
			return nil, false
		}
	}
	// Its messages are the UID list's entries: they were when it was
	// written (see persistListing), at the list's stamp, which is the
	// list's now.
	msgs := c.msgs
	f.whereLater(msgs, len(prefix))
	for _, m := range msgs {
		if m.CRLFSize >= 0 && !strings.Contains(m.Key, ",W=") {
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
	// A restart takes the UID list from the file (see above): it must
	// be the snapshot's messages, as it is unless a file vanished
	// between the listing of the directories and its stat.
	if len(f.list.entries) != len(s.snap) {
		return
	}
	for i, m := range s.snap {
		if e := f.list.entries[i]; e.uid != m.UID || e.key != m.Key {
			return
		}
	}
	f.cachedFor = stamps
	snap, at, base := s.snap, s.at.UnixNano(), f.path
	validity, next := f.list.validity, f.list.next
	f.store.persisting.Add(1)
	go func() { // off the folder's lock and the caller's reply
		defer f.store.persisting.Done()
		for _, m := range snap {
			if len(m.Path) <= len(base)+5 {
				return
			}
		}
		c := cachedListing{validity: validity, next: next, at: at, stamps: stamps, msgs: snap}
		if err := writeListing(base, c.marshal(base+string(filepath.Separator))); err != nil {
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
