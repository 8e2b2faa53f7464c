package imap

import (
	"bytes"
	"cmp"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

func cmdFetch(c *conn, r *request) error {
	p := r.p
	var set SeqSet
	var items []fetchItem
	var changedSince uint64
	vanished := false
	if !p.sp() || !p.seqSet(&set) || !p.sp() || !p.fetchItems(&items) {
		return p.Err()
	}
	if p.maybeSP() {
		// fetch-modifier (RFC 7162 section 3.1.4)
		if !p.list(false, func() bool {
			if p.maybe("VANISHED") {
				vanished = true
				return true
			}
			return p.expect("CHANGEDSINCE") && p.sp() && p.number64(&changedSince)
		}) {
			return p.Err()
		}
		if changedSince == 0 || vanished && (!r.uid || !c.qresync) {
			return syntaxErr("bad FETCH modifiers")
		}
	}
	if !p.end() {
		return p.Err()
	}
	hasItem := func(name string) bool {
		return slices.ContainsFunc(items, func(it fetchItem) bool { return it.name == name })
	}
	if r.uid && !hasItem("UID") {
		items = append([]fetchItem{{name: "UID"}}, items...)
	}
	if changedSince > 0 && !hasItem("MODSEQ") {
		items = append(items, fetchItem{name: "MODSEQ"})
	}
	if hasItem("MODSEQ") {
		c.condstore = true
	}
	// An update that came in is reported first, so the numbers this
	// FETCH answers with are current (without EXPUNGE, which must wait).
	c.sync(false, false)
	s := c.sel
	if vanished {
		// UID FETCH (CHANGEDSINCE n VANISHED): the UIDs of set not here.
		here := make(map[uint32]bool, len(s.msgs))
		for _, m := range s.msgs {
			here[m.UID] = true
		}
		gone := goneUIDs(set, s.lastUID(), here)
		if len(gone) > 0 {
			c.untagged("VANISHED (EARLIER) " + SeqSetOf(gone...).String())
		}
	}
	var idx []int
	for _, i := range s.indexes(set, r.uid, c.saved) {
		if changedSince == 0 || s.msgs[i].ModSeq > changedSince {
			idx = append(idx, i)
		}
	}
	seen, err := c.markSeen(idx, items)
	if err != nil {
		return err
	}
	if f, ok := s.mbox.(StructureFlusher); ok {
		defer f.FlushStructures(c.ctx)
	}
	for _, i := range idx {
		if err := c.fetchOne(i, items, seen[i]); err != nil {
			return err
		}
	}
	return nil
}

// markSeen sets \Seen, before any response is written, on the messages
// of idx that a body item of items reads, and returns those it changed.
// With CONDSTORE it learns their new mod-sequences in one go.
func (c *conn) markSeen(idx []int, items []fetchItem) (map[int]bool, error) {
	s := c.sel
	if s.readOnly || !slices.ContainsFunc(items, func(it fetchItem) bool {
		return !it.peek && (it.name == "BODY[]" || it.name == "BINARY[]" || it.name == "RFC822" || it.name == "RFC822.TEXT")
	}) {
		return nil, nil
	}
	seen := map[int]bool{}
	var changed []int
	for _, i := range idx {
		m := s.msgs[i]
		if slices.Contains(m.Flags, FlagSeen) {
			continue
		}
		// Added to the message's current flags, not this session's view.
		flags, err := c.changeFlags(m, "+FLAGS", []string{FlagSeen})
		if err != nil {
			if c.missing(m.UID, err) == nil {
				continue
			}
			return nil, err
		}
		s.own()
		s.msgs[i].Flags = flags
		seen[i] = true
		changed = append(changed, i)
	}
	if err := c.syncFlags(len(changed)); err != nil {
		return nil, err
	}
	c.refreshModSeqs(changed)
	return seen, nil
}

// refreshModSeqs asks the backend for the new mod-sequences of the
// messages of idx, whose flags this session changed, with CONDSTORE on.
func (c *conn) refreshModSeqs(idx []int) {
	s := c.sel
	if !c.condstore || len(idx) == 0 {
		return
	}
	var now []MessageInfo
	var err error
	if sl, ok := s.mbox.(SnapshotLister); ok { // the change was the backend's to signal
		now, err = sl.Snapshot(c.ctx)
	} else {
		now, err = s.mbox.Messages(c.ctx)
	}
	if err != nil {
		return
	}
	s.own()
	for _, i := range idx {
		if k, ok := slices.BinarySearchFunc(now, s.msgs[i].UID, byUID); ok {
			s.msgs[i].ModSeq = now[k].ModSeq
		}
	}
}

func byUID(m MessageInfo, uid uint32) int { return cmp.Compare(m.UID, uid) }

// fetchOne writes one message's FETCH response; seen tells that this
// FETCH has just set its \Seen, so FLAGS (and with CONDSTORE, UID and
// MODSEQ: RFC 7162 section 3.1) go with it.
func (c *conn) fetchOne(i int, items []fetchItem, seen bool) error {
	s := c.sel
	m := s.msgs[i]
	var (
		raw    []byte
		root   *mimePart
		loaded bool
	)
	load := func() error {
		if loaded {
			return nil
		}
		b, err := c.readMessage(m)
		if err != nil {
			return err
		}
		raw, loaded = b, true
		return nil
	}
	structure := func() (*mimePart, error) {
		if err := load(); err != nil {
			return nil, err
		}
		if root == nil {
			root = parseMIME(raw)
		}
		return root, nil
	}
	if seen {
		for _, name := range []string{"FLAGS", "UID", "MODSEQ"} {
			if (name == "FLAGS" || c.condstore) && !slices.ContainsFunc(items, func(it fetchItem) bool { return it.name == name }) {
				items = append(items, fetchItem{name: name})
			}
		}
	}
	// Everything that can fail is read before the response starts;
	// ENVELOPE, BODY and BODYSTRUCTURE come from the backend's cache when
	// it has them and nothing else needs the message.
	var cached *structures
	needRaw, needStruct, wholes := false, false, 0
	for _, it := range items {
		switch it.name {
		case "FLAGS", "UID", "RFC822.SIZE", "INTERNALDATE", "MODSEQ":
		case "ENVELOPE", "BODY", "BODYSTRUCTURE":
			needStruct = true
		case "RFC822":
			wholes++
		case "BODY[]":
			if len(it.section.path) == 0 && it.section.spec == "" {
				wholes++
				continue
			}
			needRaw = true
		default:
			needRaw = true
		}
	}
	if slices.ContainsFunc(items, func(it fetchItem) bool { return it.name == "INTERNALDATE" }) {
		var err error
		if m.InternalDate, err = c.dateOf(m); err != nil {
			return c.missing(m.UID, err)
		}
	}
	// One whole-message item is streamed; more are read from memory.
	needWhole := wholes == 1
	needRaw = needRaw || wholes > 1
	sc, canCache := s.mbox.(StructureCache)
	canCache = canCache && !c.utf8 // the cache holds the IMAP4rev1 form
	if needStruct && canCache && !needRaw {
		if env, body, bs, ok := sc.Structure(c.ctx, m.UID); ok {
			cached = &structures{env, body, bs}
		}
	}
	if needRaw || needStruct && cached == nil {
		if _, err := structure(); err != nil {
			return c.missing(m.UID, err)
		}
	}
	// The whole message alone is streamed from the backend, never held.
	var whole io.ReadCloser
	if needWhole && !needRaw && !(needStruct && cached == nil) {
		rc, err := s.mbox.Open(c.ctx, m.UID)
		if err != nil {
			return c.missing(m.UID, err)
		}
		defer rc.Close()
		whole = rc
	}
	if needStruct && cached == nil {
		cached = computeStructures(raw, root, c.utf8)
		if canCache {
			sc.SetStructure(c.ctx, m.UID, cached.envelope, cached.body, cached.structure)
		}
	}
	e := c.enc
	e.WriteString("* ")
	e.num(uint32(i + 1))
	e.WriteString(" FETCH (")
	for k, it := range items {
		if k > 0 {
			e.sp()
		}
		switch it.name {
		case "FLAGS":
			e.WriteString("FLAGS ")
			e.flags(c.flagsOf(m))
		case "UID":
			e.WriteString("UID ")
			e.num(m.UID)
		case "RFC822.SIZE":
			e.WriteString("RFC822.SIZE ")
			e.num64(m.Size)
		case "INTERNALDATE":
			e.WriteString("INTERNALDATE ")
			e.str(m.InternalDate.Format(dateTimeLayout))
		case "MODSEQ":
			e.WriteString("MODSEQ (" + strconv.FormatUint(max(m.ModSeq, 1), 10) + ")")
		case "ENVELOPE":
			e.WriteString("ENVELOPE ")
			e.Write(cached.envelope)
		case "BODY":
			e.WriteString("BODY ")
			e.Write(cached.body)
		case "BODYSTRUCTURE":
			e.WriteString("BODYSTRUCTURE ")
			e.Write(cached.structure)
		case "RFC822":
			e.WriteString("RFC822 ")
			if whole != nil {
				if err := c.streamLiteral(whole, m, fetchItem{}); err != nil {
					return err
				}
				whole = nil // one stream: a second whole-message item reads it again
				continue
			}
			e.literal(raw)
		case "RFC822.HEADER":
			e.WriteString("RFC822.HEADER ")
			e.literal(raw[root.start:root.bodyStart])
		case "RFC822.TEXT":
			e.WriteString("RFC822.TEXT ")
			e.literal(raw[root.bodyStart:root.end])
		case "BODY[]", "BINARY[]", "BINARY.SIZE[]":
			if whole != nil && it.name == "BODY[]" && len(it.section.path) == 0 && it.section.spec == "" {
				e.WriteString(it.label() + " ")
				if err := c.streamLiteral(whole, m, it); err != nil {
					return err
				}
				whole = nil
				continue
			}
			b, part, ok := sectionBytes(raw, root, it.section)
			if ok && it.name != "BODY[]" {
				if len(part.parts) > 0 {
					ok = false
				} else {
					b = []byte(decodedBinary(raw, part))
				}
			}
			e.WriteString(it.label() + " ")
			switch {
			case it.name == "BINARY.SIZE[]":
				e.num64(int64(len(b)))
			case !ok:
				e.WriteString("NIL")
			default:
				e.literal(partialOf(b, it))
			}
		}
	}
	e.WriteString(")\r\n")
	return nil
}

// dateOf is m's internal date, from the backend when the listing left
// it out (DateLoader).
func (c *conn) dateOf(m MessageInfo) (time.Time, error) {
	if dl, ok := c.sel.mbox.(DateLoader); ok && m.InternalDate.IsZero() {
		return dl.InternalDate(c.ctx, m.UID)
	}
	return m.InternalDate, nil
}

// missing answers a fetch of a message that vanished meanwhile: it is
// left out, as Dovecot does, and reported at the next chance.
func (c *conn) missing(uid uint32, err error) error {
	// Only a message the backend says is gone is skipped; any other
	// failure (a store that cannot read it) fails the command, so a
	// client is never told OK for data it did not get.
	var pe *Error
	if !errors.As(err, &pe) || pe.Code != "EXPUNGEISSUED" && pe.Code != "NONEXISTENT" {
		return err
	}
	c.sel.dirty = true
	c.s.logger().Debug("imap: fetch of a message that is gone", "uid", uid, "err", err)
	return nil
}

// decodedBinary is BINARY's content: the part's body with its
// transfer encoding undone (RFC 3516).
func decodedBinary(b []byte, p *mimePart) string {
	switch strings.ToLower(p.header("Content-Transfer-Encoding")) {
	case "base64", "quoted-printable":
		cp := *p
		cp.params = nil // no charset conversion
		return decodedBody(b, &cp)
	}
	return string(b[p.bodyStart:p.end])
}

func cmdStore(c *conn, r *request) error {
	p := r.p
	var set SeqSet
	var item string
	var flags []string
	var unchangedSince uint64
	conditional := false
	if !p.sp() || !p.seqSet(&set) || !p.sp() {
		return p.Err()
	}
	if p.peek("(") {
		// store-modifier (RFC 7162 section 3.1.3)
		if !p.list(false, func() bool { return p.expect("UNCHANGEDSINCE") && p.sp() && p.number64(&unchangedSince) }) || !p.sp() {
			return p.Err()
		}
		conditional, c.condstore = true, true
	}
	if !p.atom(&item) || !p.sp() {
		return p.Err()
	}
	item = strings.ToUpper(item)
	silent := strings.HasSuffix(item, ".SILENT")
	mode := strings.TrimSuffix(item, ".SILENT")
	if mode != "FLAGS" && mode != "+FLAGS" && mode != "-FLAGS" {
		return syntaxErr("unknown STORE item %q", item)
	}
	if p.peek("(") {
		if !p.flagList(&flags) {
			return p.Err()
		}
	} else {
		for {
			var f string
			if !p.flag(&f) {
				return p.Err()
			}
			flags = append(flags, f)
			if !p.maybeSP() {
				break
			}
		}
	}
	if !p.end() {
		return p.Err()
	}
	flags = slices.DeleteFunc(flags, func(f string) bool { return f == FlagRecent })
	if c.sel.readOnly {
		return &Error{Code: "READ-ONLY", Text: "Mailbox is read-only"}
	}
	c.sync(false, false)
	s := c.sel
	var modified []uint32
	var report []int
	for _, i := range s.indexes(set, r.uid, c.saved) {
		m := s.msgs[i]
		if conditional && m.ModSeq > unchangedSince {
			if r.uid {
				modified = append(modified, m.UID)
			} else {
				modified = append(modified, uint32(i+1))
			}
			continue
		}
		next, err := c.changeFlags(m, mode, flags)
		if err != nil {
			if c.missing(m.UID, err) == nil {
				continue
			}
			return err
		}
		s.own()
		s.msgs[i].Flags = next
		report = append(report, i)
	}
	if err := c.syncFlags(len(report)); err != nil {
		return err
	}
	c.refreshModSeqs(report) // the new mod-sequences are the backend's
	for _, i := range report {
		if silent && !c.condstore {
			continue
		}
		m := s.msgs[i]
		e := c.enc
		e.WriteString("* ")
		e.num(uint32(i + 1))
		e.WriteString(" FETCH (")
		if r.uid || c.condstore { // with CONDSTORE, always (RFC 7162 section 3.1)
			e.WriteString("UID ")
			e.num(m.UID)
			e.sp()
		}
		if !silent {
			e.WriteString("FLAGS ")
			e.flags(c.flagsOf(m))
		}
		if c.condstore {
			if !silent {
				e.sp()
			}
			e.WriteString("MODSEQ (" + strconv.FormatUint(max(m.ModSeq, 1), 10) + ")")
		}
		e.WriteString(")\r\n")
	}
	if len(modified) > 0 {
		c.code = "MODIFIED " + SeqSetOf(modified...).String()
	}
	return nil
}

// normFlags sorts flags and drops duplicates, so views compare equal.
func normFlags(flags []string) []string {
	out := make([]string, 0, len(flags))
	for _, f := range flags {
		if !slices.ContainsFunc(out, func(g string) bool { return strings.EqualFold(f, g) }) {
			out = append(out, canonicalFlag(f))
		}
	}
	slices.Sort(out)
	return out
}

func cmdCopy(c *conn, r *request) error {
	p := r.p
	var set SeqSet
	var dest string
	if !p.sp() || !p.seqSet(&set) || !p.sp() || !p.mailbox(&dest) || !p.end() {
		return p.Err()
	}
	move := r.name == "MOVE"
	if move && c.sel.readOnly {
		return &Error{Code: "READ-ONLY", Text: "Mailbox is read-only"}
	}
	s := c.sel
	var uids []uint32
	for _, i := range s.indexes(set, r.uid, c.saved) {
		uids = append(uids, s.msgs[i].UID)
	}
	if len(uids) == 0 {
		return nil
	}
	validity, copied, newUIDs, err := s.mbox.Copy(c.ctx, uids, dest)
	if err != nil {
		return err
	}
	code := ""
	if len(copied) > 0 && len(newUIDs) == len(copied) {
		code = "COPYUID " + strconv.FormatUint(uint64(validity), 10) + " " + seqList(copied) + " " + seqList(newUIDs)
	}
	if !move {
		c.code = code
		return nil
	}
	if code != "" {
		c.untagged("OK [" + code + "] Moved")
	}
	// Only what was copied is expunged: a message that went away
	// meanwhile was not copied, and nothing else may be lost.
	if len(copied) > 0 {
		if err := s.mbox.Expunge(c.ctx, copied); err != nil {
			return err
		}
	}
	if err := c.sync(true, true); err != nil {
		return err
	}
	c.highestCode()
	return nil
}

// syncFlags makes the n flag changes just made durable before the
// client hears of them, when the backend syncs them together.
func (c *conn) syncFlags(n int) error {
	if fs, ok := c.sel.mbox.(FlagSyncer); ok && n > 0 {
		return fs.SyncFlags(c.ctx)
	}
	return nil
}

// changeFlags applies STORE's mode ("FLAGS", "+FLAGS", "-FLAGS") to
// message m and returns its flags after. Adding and removing go to the
// backend's FlagChanger when it has one, against the message's current
// flags: m's are the session's view, which another client may have
// changed since.
func (c *conn) changeFlags(m MessageInfo, mode string, flags []string) ([]string, error) {
	mbox := c.sel.mbox
	if fc, ok := mbox.(FlagChanger); ok && mode != "FLAGS" {
		if mode == "+FLAGS" {
			return fc.AddFlags(c.ctx, m.UID, flags)
		}
		return fc.RemoveFlags(c.ctx, m.UID, flags)
	}
	var next []string
	switch mode {
	case "FLAGS":
		next = normFlags(flags)
	case "+FLAGS":
		next = normFlags(append(slices.Clone(m.Flags), flags...))
	case "-FLAGS":
		next = slices.DeleteFunc(slices.Clone(m.Flags), func(f string) bool {
			return slices.ContainsFunc(flags, func(g string) bool { return strings.EqualFold(f, g) })
		})
	}
	if slices.Equal(next, m.Flags) {
		return next, nil
	}
	return next, mbox.SetFlags(c.ctx, m.UID, next)
}

// seqList writes UIDs in the given order (COPYUID pairs them by position).
func seqList(uids []uint32) string {
	var b bytes.Buffer
	for i := 0; i < len(uids); {
		j := i
		for j+1 < len(uids) && uids[j+1] == uids[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(uint64(uids[i]), 10))
		if j > i {
			b.WriteString(":" + strconv.FormatUint(uint64(uids[j]), 10))
		}
		i = j + 1
	}
	return b.String()
}
