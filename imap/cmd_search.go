package imap

import (
	"errors"
	"slices"
	"strconv"
	"strings"
)

// cmdSearch runs SEARCH, with ESEARCH's RETURN options (RFC 4731) and
// SEARCHRES's SAVE (RFC 5182).
func cmdSearch(c *conn, r *request) error {
	p := r.p
	if !p.sp() {
		return p.Err()
	}
	var ret []string
	esearch := false
	if p.maybe("RETURN") {
		esearch = true
		if !p.sp() || !p.list(true, func() bool {
			var a string
			if !p.atom(&a) {
				return false
			}
			a = strings.ToUpper(a)
			switch a {
			case "MIN", "MAX", "ALL", "COUNT", "SAVE":
			default:
				return p.failf("unknown RETURN option %q", a)
			}
			ret = append(ret, a)
			return true
		}) || !p.sp() {
			return p.Err()
		}
		if len(ret) == 0 {
			ret = []string{"ALL"}
		}
	}
	if c.rev2 && !esearch {
		// IMAP4rev2 answers every SEARCH with ESEARCH (RFC 9051 section 6.4.4).
		esearch, ret = true, []string{"ALL"}
	}
	if p.maybe("CHARSET") {
		var cs string
		if !p.sp() || !p.astring(&cs) || !p.sp() {
			return p.Err()
		}
		if up := strings.ToUpper(cs); up != "UTF-8" && up != "US-ASCII" {
			if slices.Contains(ret, "SAVE") {
				c.saved = nil // a NO empties $, a BAD leaves it (RFC 5182 section 2.1)
			}
			return &Error{Code: "BADCHARSET (UTF-8 US-ASCII)", Text: "Unsupported charset"}
		}
	}
	var key searchKey
	if !p.searchProgram(&key) || !p.end() {
		return p.Err()
	}
	c.sync(false, false)
	s := c.sel
	saved := map[uint32]bool{}
	for _, u := range c.saved {
		saved[u] = true
	}
	var hits []MessageInfo
	var hitSeqs []uint32
	// HEADER and SENT* read the header alone; BODY and TEXT the whole
	// message, each into the one buffer, let go of after the command.
	headerOnly := !key.needsText()
	var buf []byte
	dates := key.usesDate()
	if f, ok := s.mbox.(StructureFlusher); ok {
		defer f.FlushStructures(c.ctx) // the dates looked up
	}
	for i, m := range s.msgs {
		m.Recent = s.isRecent(m.UID) // the session's, not the listing's
		if dates {
			var err error
			if m.InternalDate, err = c.dateOf(m); err != nil {
				var pe *Error
				if errors.As(err, &pe) && (pe.Code == "EXPUNGEISSUED" || pe.Code == "NONEXISTENT") {
					s.dirty = true
					continue
				}
				return err
			}
		}
		sm := &searchMsg{seq: uint32(i + 1), maxSeq: uint32(len(s.msgs)), maxUID: s.maxUID(), info: m, saved: saved,
			load: func() ([]byte, error) {
				read := c.readMessageInto
				if headerOnly {
					read = func(m MessageInfo, buf []byte) ([]byte, error) { return c.readHeaderInto(m.UID, buf) }
				}
				b, err := read(m, buf)
				if cap(b) <= 4<<20 { // a huge one is not kept for the next
					buf = b[:0]
				}
				return b, err
			}}
		match := key.match(sm)
		if sm.err != nil {
			// A message expunged meanwhile matches nothing; one that
			// cannot be read (too large, a store failure) fails the
			// SEARCH rather than answering from what could not be seen
			// (NOT BODY would match it).
			var pe *Error
			if errors.As(sm.err, &pe) && (pe.Code == "EXPUNGEISSUED" || pe.Code == "NONEXISTENT") {
				s.dirty = true
				continue
			}
			return sm.err
		}
		if match {
			hits = append(hits, m)
			hitSeqs = append(hitSeqs, uint32(i+1))
		}
		if err := c.ctx.Err(); err != nil {
			return err
		}
	}
	nums := hitSeqs
	if r.uid {
		nums = make([]uint32, len(hits))
		for i, m := range hits {
			nums[i] = m.UID
		}
	}
	if key.usesModSeq() {
		c.condstore = true // a MODSEQ search key enables CONDSTORE (RFC 7162 section 3.1)
	}
	if slices.Contains(ret, "SAVE") {
		c.saved = nil
		for _, m := range returned(hits, ret) {
			c.saved = append(c.saved, m.UID)
		}
		ret = slices.DeleteFunc(ret, func(s string) bool { return s == "SAVE" })
		if len(ret) == 0 {
			return nil // SAVE alone: no ESEARCH response (RFC 5182 section 2.4)
		}
	}
	var highest uint64
	if key.usesModSeq() {
		for _, m := range returned(hits, ret) {
			highest = max(highest, m.ModSeq)
		}
	}
	e := c.enc
	if !esearch {
		e.WriteString("* SEARCH")
		for _, n := range nums {
			e.sp()
			e.num(n)
		}
		if highest > 0 {
			e.WriteString(" (MODSEQ " + strconv.FormatUint(highest, 10) + ")")
		}
		e.crlf()
		return nil
	}
	e.WriteString(`* ESEARCH (TAG `)
	e.str(r.tag)
	e.WriteString(")")
	if r.uid {
		e.WriteString(" UID")
	}
	if len(nums) > 0 {
		for _, o := range ret {
			switch o {
			case "MIN":
				e.WriteString(" MIN " + strconv.FormatUint(uint64(nums[0]), 10))
			case "MAX":
				e.WriteString(" MAX " + strconv.FormatUint(uint64(nums[len(nums)-1]), 10))
			case "ALL":
				e.WriteString(" ALL " + SeqSetOf(nums...).String())
			}
		}
	}
	if slices.Contains(ret, "COUNT") {
		e.WriteString(" COUNT " + strconv.Itoa(len(nums)))
	}
	if highest > 0 {
		e.WriteString(" MODSEQ " + strconv.FormatUint(highest, 10))
	}
	e.crlf()
	return nil
}

// returned is the part of hits that ret's options stand for: with MIN
// and/or MAX but neither ALL nor COUNT, those messages alone, else all.
// SAVE keeps these (RFC 5182 section 2.4) and MODSEQ is their highest
// (RFC 4731 section 3.2).
func returned(hits []MessageInfo, ret []string) []MessageInfo {
	lo, hi := slices.Contains(ret, "MIN"), slices.Contains(ret, "MAX")
	if len(hits) == 0 || slices.Contains(ret, "ALL") || slices.Contains(ret, "COUNT") || !lo && !hi {
		return hits
	}
	var out []MessageInfo
	if lo {
		out = append(out, hits[0])
	}
	if hi && (!lo || len(hits) > 1) {
		out = append(out, hits[len(hits)-1])
	}
	return out
}
