package daemon

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"hash/maphash"
	"time"
)

// A folder's summaries are kept without a pointer per field, so that
// the garbage collector has next to nothing to scan at 100,000 of
// them: each is a record of bytes, back to back in a few large byte
// chunks, and found by a map from a hash of its key to its place, which
// holds no pointer either. A summary file is the same records after a
// header, so loading one is one read and a walk that checks them.
//
// A record is its body's length and CRC-32C (little-endian uint32s),
// then the body: the received time and the date (Unix seconds int64,
// nanoseconds uint32, zone offset in seconds int32), the size (int64),
// six strings (the key, the search text, the other header fields, From,
// Subject, Message-ID), and the To and Cc lists (a count, then that
// many strings). A string is its length (uint32) and its bytes.

// summaryMagic starts a summary file, with the format's version.
const summaryMagic = "plumbsum\x01\x00\x00\x00"

// Bounds of a record and of a summary file; a record past them is not
// kept (its message is read again when it is needed), and a file past
// them is read up to them.
const (
	recordHead     = 8                 // length and CRC
	recordFixed    = 40                // the times and the size
	recordMax      = 1 << 20           // bytes of a body
	recordKeyMax   = 1024              // bytes of a key
	recordAddrMax  = 4096              // addresses of To or Cc
	recordZoneMax  = 26 * 3600         // seconds of a zone offset, either way
	recordSecMax   = 1 << 40           // Unix seconds of a time, either way
	summaryFileMax = 1 << 30           // bytes of a summary file read
	summaryRecsMax = 1 << 22           // records of a summary file read
	flatChunk      = 1 << 20           // bytes of a chunk of new records
	noRef          = ^uint64(0)        // no place
	refOffset      = uint64(1<<32 - 1) // the offset bits of a place
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// sumRec is a record's body, checked by parseRecord or made by
// appendRecord: its accessors trust its lengths.
type sumRec []byte

// recFields are a record's strings, and its lists as they are encoded.
type recFields struct {
	key, search, headers, from, subject, msgID []byte
	to, cc                                     []byte
}

// recReader reads a body, noting whether it stayed in bounds.
type recReader struct {
	b  []byte
	ok bool
}

func (r *recReader) take(n int) []byte {
	if !r.ok || n < 0 || n > len(r.b) {
		r.ok = false
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *recReader) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *recReader) str(max int) []byte {
	n := r.u32()
	if int64(n) > int64(max) {
		r.ok = false
		return nil
	}
	return r.take(int(n))
}

// list takes a list of strings and returns its encoded bytes.
func (r *recReader) list() []byte {
	start := r.b
	n := r.u32()
	if n > recordAddrMax {
		r.ok = false
		return nil
	}
	for range n {
		r.str(recordMax)
	}
	if !r.ok {
		return nil
	}
	return start[:len(start)-len(r.b)]
}

// parseRecord checks the record that b starts with and returns its body
// and its length with the head; ok is false for a record cut short,
// corrupt or past the bounds.
func parseRecord(b []byte) (rec sumRec, n int, ok bool) {
	if len(b) < recordHead {
		return nil, 0, false
	}
	size := binary.LittleEndian.Uint32(b)
	if size < recordFixed || size > recordMax || int64(size) > int64(len(b)-recordHead) {
		return nil, 0, false
	}
	body := b[recordHead : recordHead+int(size)]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return nil, 0, false
	}
	for _, at := range []int{0, 16} { // the times
		sec := int64(binary.LittleEndian.Uint64(body[at:]))
		nsec := binary.LittleEndian.Uint32(body[at+8:])
		off := int32(binary.LittleEndian.Uint32(body[at+12:]))
		if sec > recordSecMax || sec < -recordSecMax || nsec >= 1e9 || off > recordZoneMax || off < -recordZoneMax {
			return nil, 0, false
		}
	}
	if int64(binary.LittleEndian.Uint64(body[32:])) < 0 {
		return nil, 0, false
	}
	r := recReader{b: body[recordFixed:], ok: true}
	if key := r.str(recordKeyMax); len(key) == 0 {
		return nil, 0, false
	}
	for range 5 {
		r.str(recordMax)
	}
	r.list()
	r.list()
	if !r.ok || len(r.b) != 0 {
		return nil, 0, false
	}
	return sumRec(body), recordHead + int(size), true
}

// appendRecord appends the record of key's summary s to dst, or returns
// dst as it was when the record would be past the bounds.
func appendRecord(dst []byte, key string, s *summary) []byte {
	out, ok := recordOf(dst, key, s)
	if !ok {
		return dst
	}
	return out
}

// recordOf appends the record of key's summary s to dst, and reports
// whether it is within the bounds (parseRecord would take it).
func recordOf(dst []byte, key string, s *summary) ([]byte, bool) {
	start := len(dst)
	dst = append(dst, make([]byte, recordHead)...)
	le := binary.LittleEndian
	ok := len(key) > 0 && len(key) <= recordKeyMax && len(s.Sum.To) <= recordAddrMax && len(s.Sum.Cc) <= recordAddrMax
	for _, t := range []time.Time{s.Sum.Received, s.Sum.Date} {
		_, off := t.Zone()
		ok = ok && off <= recordZoneMax && off >= -recordZoneMax && t.Unix() <= recordSecMax && t.Unix() >= -recordSecMax
		dst = le.AppendUint64(dst, uint64(t.Unix()))
		dst = le.AppendUint32(dst, uint32(t.Nanosecond()))
		dst = le.AppendUint32(dst, uint32(int32(off)))
	}
	dst = le.AppendUint64(dst, uint64(max(s.Sum.Size, 0)))
	for _, f := range []string{key, s.Search, s.Headers, s.Sum.From, s.Sum.Subject, s.Sum.MessageID} {
		dst = le.AppendUint32(dst, uint32(len(f)))
		dst = append(dst, f...)
	}
	for _, l := range [][]string{s.Sum.To, s.Sum.Cc} {
		dst = le.AppendUint32(dst, uint32(len(l)))
		for _, a := range l {
			dst = le.AppendUint32(dst, uint32(len(a)))
			dst = append(dst, a...)
		}
	}
	body := dst[start+recordHead:]
	le.PutUint32(dst[start:], uint32(len(body)))
	le.PutUint32(dst[start+4:], crc32.Checksum(body, castagnoli))
	return dst, ok && len(body) <= recordMax
}

// encodeRecord returns the record of key's summary s, or nil when it is
// not to be kept.
func encodeRecord(key string, s *summary) []byte {
	if s.unread {
		return nil
	}
	return appendRecord(nil, key, s)
}

// fields returns r's strings and lists.
func (r sumRec) fields() recFields {
	rd := recReader{b: r[recordFixed:], ok: true}
	var f recFields
	f.key, f.search, f.headers = rd.str(recordMax), rd.str(recordMax), rd.str(recordMax)
	f.from, f.subject, f.msgID = rd.str(recordMax), rd.str(recordMax), rd.str(recordMax)
	f.to = rd.list()
	f.cc = rd.list()
	return f
}

// key returns r's key.
func (r sumRec) key() []byte {
	n := binary.LittleEndian.Uint32(r[recordFixed:])
	return r[recordFixed+4 : recordFixed+4+int(n)]
}

// time returns the time r holds at at: 0 received, 16 the date.
func (r sumRec) time(at int) time.Time {
	le := binary.LittleEndian
	t := time.Unix(int64(le.Uint64(r[at:])), int64(le.Uint32(r[at+8:])))
	if off := int32(le.Uint32(r[at+12:])); off != 0 {
		return t.In(time.FixedZone("", int(off)))
	}
	return t.UTC()
}

// received returns the received time's seconds and nanoseconds.
func (r sumRec) received() (int64, uint32) {
	return int64(binary.LittleEndian.Uint64(r)), binary.LittleEndian.Uint32(r[8:])
}

// strings returns the strings of an encoded list.
func listStrings(l []byte) []string {
	n := binary.LittleEndian.Uint32(l)
	out := make([]string, 0, n)
	rd := recReader{b: l[4:], ok: true}
	for range n {
		out = append(out, string(rd.str(recordMax)))
	}
	return out
}

// appendJoined appends the strings of an encoded list to dst, joined
// by ", " as strings.Join would.
func appendJoined(dst, l []byte) []byte {
	n := binary.LittleEndian.Uint32(l)
	rd := recReader{b: l[4:], ok: true}
	for i := range n {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = append(dst, rd.str(recordMax)...)
	}
	return dst
}

// summary returns the summary r holds.
func (r sumRec) summary() *summary {
	f := r.fields()
	s := &summary{Search: string(f.search), Headers: string(f.headers)}
	s.Sum.From, s.Sum.Subject, s.Sum.MessageID = string(f.from), string(f.subject), string(f.msgID)
	s.Sum.To = listStrings(f.to)
	if cc := listStrings(f.cc); len(cc) > 0 {
		s.Sum.Cc = cc
	}
	s.Sum.Received, s.Sum.Date = r.time(0), r.time(16)
	s.Sum.Size = int64(binary.LittleEndian.Uint64(r[32:]))
	return s
}

// flatSums is one folder's summaries: records in chunks, found by
// their key's hash.
type flatSums struct {
	chunks [][]byte          // the first may be a summary file read whole, header and all
	mapped []byte            // that file when it is mapped into memory (release unmaps it)
	index  map[uint64]uint64 // the hash of a key → its record's place: chunk<<32 | offset
	clash  map[string]uint64 // a key whose hash another key had first (almost never any)
	dead   int               // bytes of records no longer found
	seed   maphash.Seed
	gen    uint64 // counts the copies of keep and release, after which no place found before holds
}

func newFlatSums(n int) *flatSums {
	return &flatSums{index: make(map[uint64]uint64, n), seed: maphash.MakeSeed()}
}

// at returns the record at place ref.
func (f *flatSums) at(ref uint64) sumRec {
	c := f.chunks[ref>>32]
	off := int(ref & refOffset)
	n := int(binary.LittleEndian.Uint32(c[off:]))
	return sumRec(c[off+recordHead : off+recordHead+n])
}

// ref returns the place of key's record, or noRef.
func (f *flatSums) ref(key string) uint64 {
	if ref, ok := f.index[maphash.String(f.seed, key)]; ok && string(f.at(ref).key()) == key {
		return ref
	}
	if ref, ok := f.clash[key]; ok {
		return ref
	}
	return noRef
}

// refAfter is ref(key), trying first the record after the one at prev
// (noRef: none) in its chunk. Records are kept as messages arrive, so
// a listing's places mostly follow each other: this reads them in
// order instead of hashing 100,000 keys into a map of 100,000. Only
// while no record is dead, when every record in the chunks is the one
// found for its key.
func (f *flatSums) refAfter(prev uint64, key string) uint64 {
	if prev != noRef && f.dead == 0 {
		c := f.chunks[prev>>32]
		off := int(prev & refOffset)
		off += recordHead + int(binary.LittleEndian.Uint32(c[off:]))
		if next := prev>>32<<32 | uint64(off); off < len(c) && string(f.at(next).key()) == key {
			return next
		}
	}
	return f.ref(key)
}

// get returns key's record.
func (f *flatSums) get(key string) (sumRec, bool) {
	if ref := f.ref(key); ref != noRef {
		return f.at(ref), true
	}
	return nil, false
}

func (f *flatSums) len() int { return len(f.index) + len(f.clash) }

// place indexes the record of key at ref, replacing one key had.
func (f *flatSums) place(key []byte, ref uint64) {
	h := maphash.Bytes(f.seed, key)
	old, ok := f.index[h]
	switch {
	case !ok:
		f.index[h] = ref
		return
	case bytes.Equal(f.at(old).key(), key):
		f.dead += len(f.at(old)) + recordHead
		f.index[h] = ref
		return
	}
	if f.clash == nil {
		f.clash = map[string]uint64{}
	}
	if old, ok := f.clash[string(key)]; ok {
		f.dead += len(f.at(old)) + recordHead
	}
	f.clash[string(key)] = ref
}

// add copies in a record made by encodeRecord.
func (f *flatSums) add(rec []byte) {
	last := len(f.chunks) - 1
	if last < 0 || len(f.chunks[last])+len(rec) > cap(f.chunks[last]) {
		f.chunks = append(f.chunks, make([]byte, 0, max(flatChunk, len(rec))))
		last++
	}
	ref := uint64(last)<<32 | uint64(len(f.chunks[last]))
	f.chunks[last] = append(f.chunks[last], rec...)
	f.place(f.at(ref).key(), ref)
}

// whole returns the record at place ref with its head, as a file has it.
func (f *flatSums) whole(ref uint64) []byte {
	c := f.chunks[ref>>32]
	off := int(ref & refOffset)
	return c[off : off+recordHead+int(binary.LittleEndian.Uint32(c[off:]))]
}

// each calls fn with each record found, with its head, in no order.
func (f *flatSums) each(fn func(whole []byte)) {
	for _, ref := range f.index {
		fn(f.whole(ref))
	}
	for _, ref := range f.clash {
		fn(f.whole(ref))
	}
}

// keep forgets every record whose key live does not hold, and copies
// the others into new chunks once most bytes are of forgotten ones.
func (f *flatSums) keep(live func(key []byte) bool) {
	for h, ref := range f.index {
		if r := f.at(ref); !live(r.key()) {
			f.dead += len(r) + recordHead
			delete(f.index, h)
		}
	}
	for k, ref := range f.clash {
		if r := f.at(ref); !live(r.key()) {
			f.dead += len(r) + recordHead
			delete(f.clash, k)
		}
	}
	total := 0
	for _, c := range f.chunks {
		total += len(c)
	}
	if f.dead <= total/2 {
		return
	}
	g := newFlatSums(f.len())
	f.each(g.add)
	f.release()
	g.gen = f.gen
	*f = *g
}

// release unmaps the summary file f's records may be in, and forgets
// them. Nothing may hold a record of f (the folder's lock is held).
func (f *flatSums) release() {
	if f.mapped != nil {
		unmapSummaryFile(f.mapped)
	}
	gen := f.gen + 1
	*f = *newFlatSums(0)
	f.gen = gen
}

// mappedLen returns how many bytes of a mapped summary file f uses.
func (f *flatSums) mappedLen() int {
	if f.mapped == nil {
		return 0
	}
	return len(f.chunks[0])
}

// walkSummaries calls fn (when not nil) with each record of a summary
// file's bytes, at its offset, up to the first that is cut short or
// corrupt, or past the bounds; it returns where the valid records end
// (0 when the header is not this format's) and how many there are.
func walkSummaries(b []byte, fn func(rec sumRec, off int)) (end, n int) {
	if !bytes.HasPrefix(b, []byte(summaryMagic)) {
		return 0, 0
	}
	end, n = walkRecords(b[len(summaryMagic):], func(rec sumRec, off int) {
		if fn != nil {
			fn(rec, off+len(summaryMagic))
		}
	})
	return end + len(summaryMagic), n
}

// countRecords returns how many records a summary file's bytes seem to
// hold, from their lengths alone (the walk checks them), to size the
// index of a load: a map grown as it fills, or sized by a guess, costs
// a few MB more at 100,000.
func countRecords(b []byte) int {
	if !bytes.HasPrefix(b, []byte(summaryMagic)) {
		return 0
	}
	n := 0
	for off := len(summaryMagic); off+recordHead <= len(b) && n < summaryRecsMax; n++ {
		size := binary.LittleEndian.Uint32(b[off:])
		if size < recordFixed || size > recordMax {
			break
		}
		off += recordHead + int(size)
	}
	return n
}

// walkRecords is walkSummaries for records without the file's header.
func walkRecords(b []byte, fn func(rec sumRec, off int)) (end, n int) {
	for n < summaryRecsMax && end < len(b) {
		rec, size, ok := parseRecord(b[end:])
		if !ok {
			break
		}
		fn(rec, end)
		end += size
		n++
	}
	return end, n
}
