package imap

import (
	"github.com/plumbnet/plumb/internal/lifecycle"
	"slices"
	"strconv"
	"strings"
	"time"
)

// selected is the session's view of its selected mailbox: message n
// is msgs[n-1] until the session itself tells the client otherwise,
// so sequence numbers never go out of step with what it was told.
type selected struct {
	mbox     Mailbox
	name     string
	readOnly bool
	msgs     []MessageInfo // as last told; the backend's listing itself unless owned
	owned    bool          // msgs is the session's own copy, which it may change
	dirty    bool          // an update came that was not yet reported in full
	uidNext  uint32        // UIDNEXT as last known: every UID below was given out
	recent   []recentRun   // the messages that were \Recent when the session first saw them
}

// own makes msgs the session's own before it changes an entry.
func (s *selected) own() {
	if !s.owned {
		s.msgs, s.owned = slices.Clone(s.msgs), true
	}
}

// lastUID is the highest UID given out, whether its message is still
// here or not: what a VANISHED (EARLIER) looks up to.
func (s *selected) lastUID() uint32 {
	if s.uidNext > 0 {
		return max(s.maxUID(), s.uidNext-1)
	}
	return s.maxUID()
}

func (s *selected) maxUID() uint32 {
	if len(s.msgs) == 0 {
		return 0
	}
	return s.msgs[len(s.msgs)-1].UID
}

// seqOf returns the sequence number of uid, or 0.
func (s *selected) seqOf(uid uint32) uint32 {
	i, ok := slices.BinarySearchFunc(s.msgs, uid, func(m MessageInfo, u uint32) int {
		return int(int64(m.UID) - int64(u))
	})
	if !ok {
		return 0
	}
	return uint32(i + 1)
}

// indexes returns the positions in msgs of a sequence set (or UID set).
func (s *selected) indexes(set SeqSet, uid bool, saved []uint32) []int {
	var out []int
	if set.Dollar {
		for _, u := range saved {
			if n := s.seqOf(u); n > 0 {
				out = append(out, int(n-1))
			}
		}
		return out
	}
	if uid {
		max := s.maxUID()
		for i, m := range s.msgs {
			if set.Contains(m.UID, max) {
				out = append(out, i)
			}
		}
		return out
	}
	n := uint32(len(s.msgs))
	for i := range s.msgs {
		if set.Contains(uint32(i+1), n) {
			out = append(out, i)
		}
	}
	return out
}

func (c *conn) unselect() {
	if c.sel != nil {
		c.sel.mbox.Close()
		c.sel = nil
	}
	if c.state == stateSelected {
		c.state = stateAuth
	}
}

// pending reports whether an update has been signaled since the last look.
func (s *selected) pending() bool {
	select {
	case <-s.mbox.Updates():
		s.dirty = true
	default:
	}
	return s.dirty
}

// sync tells the client how the mailbox changed since it last heard:
// EXPUNGE for messages gone (when allowed), FETCH FLAGS for flags
// changed, EXISTS (and RECENT) for new messages. force looks even
// without a notification (NOOP, IDLE, after the session's own change).
//
// The listing and the view are both in UID order and walked side by
// side; when the view comes out as the listing (nothing gone is kept
// back, nothing unannounced is skipped), the session keeps the
// backend's listing itself, which other sessions share, rather than a
// copy of its own.
func (c *conn) sync(allowExpunge, force bool) error {
	s := c.sel
	if s == nil || !force && !s.pending() {
		return nil
	}
	if force {
		s.pending()
	}
	var now []MessageInfo
	var err error
	if sl, ok := s.mbox.(SnapshotLister); ok && !force {
		now, err = sl.Snapshot(c.ctx)
	} else {
		now, err = s.mbox.Messages(c.ctx)
	}
	if err != nil {
		return err
	}
	if n := len(s.msgs); !s.owned && n > 0 && len(now) > n && &now[0] == &s.msgs[0] {
		// The backend appended to the listing the session holds, which
		// it never changes: only the new messages need a look.
		s.msgs = now
		s.noteRecent(now[n:])
		s.uidNext = max(s.uidNext, now[len(now)-1].UID+1)
		c.untagged(strconv.Itoa(len(now)) + " EXISTS")
		if !c.rev2 {
			c.untagged(strconv.Itoa(s.countRecent()) + " RECENT")
		}
		s.dirty = false
		return nil
	}
	var view []MessageInfo // nil while the view so far is now[:j]
	diverge := func(j int) {
		if view == nil {
			view = make([]MessageInfo, j, len(s.msgs)+len(now)-j)
			copy(view, now[:j])
		}
	}
	j, kept, gone := 0, 0, false
	var vanished []uint32
	for _, m := range s.msgs {
		for j < len(now) && now[j].UID < m.UID {
			// A UID never announced, below one the client knows: left
			// out, as the client cannot be told of it.
			diverge(j)
			j++
		}
		if j < len(now) && now[j].UID == m.UID {
			cur := now[j]
			j++
			if !slices.Equal(cur.Flags, m.Flags) || c.condstore && cur.ModSeq != m.ModSeq {
				c.fetchFlags(uint32(kept+1), cur)
			}
			if view != nil {
				view = append(view, cur)
			}
			kept++
			continue
		}
		if allowExpunge {
			diverge(j)
			if c.qresync {
				vanished = append(vanished, m.UID) // RFC 7162 section 3.2.10
			} else {
				c.untagged(strconv.Itoa(kept+1) + " EXPUNGE")
			}
			continue
		}
		diverge(j)
		gone = true
		view = append(view, m)
		kept++
	}
	private := view != nil
	if private {
		view = append(view, now[j:]...)
	} else {
		view = now
	}
	if len(vanished) > 0 {
		c.untagged("VANISHED " + SeqSetOf(vanished...).String())
	}
	added := len(now) - j
	s.msgs, s.owned = view, private
	if added > 0 {
		s.noteRecent(now[j:])
		s.uidNext = max(s.uidNext, now[len(now)-1].UID+1)
		c.untagged(strconv.Itoa(len(s.msgs)) + " EXISTS")
		if !c.rev2 {
			c.untagged(strconv.Itoa(s.countRecent()) + " RECENT")
		}
	}
	s.dirty = gone
	return nil
}

func (c *conn) fetchFlags(seq uint32, m MessageInfo) {
	e := c.enc
	e.WriteString("* ")
	e.num(seq)
	e.WriteString(" FETCH (UID ")
	e.num(m.UID)
	e.WriteString(" FLAGS ")
	e.flags(c.flagsOf(m))
	if c.condstore && m.ModSeq > 0 {
		e.WriteString(" MODSEQ (")
		e.WriteString(strconv.FormatUint(m.ModSeq, 10))
		e.WriteString(")")
	}
	e.WriteString(")\r\n")
}

// flagsOf adds \Recent for IMAP4rev1 sessions.
func (c *conn) flagsOf(m MessageInfo) []string {
	if !c.rev2 && c.sel != nil && c.sel.isRecent(m.UID) {
		return append(slices.Clip(m.Flags), FlagRecent)
	}
	return m.Flags
}

func cmdSelect(c *conn, r *request) error {
	p := r.p
	var name string
	if !p.sp() || !p.mailbox(&name) {
		return p.Err()
	}
	var qr *qresyncParams
	if p.maybeSP() {
		if !p.list(true, func() bool {
			var a string
			if !p.atom(&a) {
				return false
			}
			switch strings.ToUpper(a) {
			case "CONDSTORE":
				c.condstore = true
				return true
			case "QRESYNC":
				if !c.qresync {
					return p.failf("QRESYNC without ENABLE QRESYNC")
				}
				qr = &qresyncParams{}
				return p.sp() && p.qresyncParams(qr)
			}
			return p.failf("unknown SELECT parameter %q", a)
		}) {
			return p.Err()
		}
	}
	if !p.end() {
		return p.Err()
	}
	c.unselect()
	mbox, err := c.sess.Select(c.ctx, name)
	if err != nil {
		return err
	}
	// Status first: a message that comes in between is then in msgs
	// and above UIDNEXT, never below it and missing (so not VANISHED).
	st, err := mbox.Status(c.ctx)
	if err != nil {
		mbox.Close()
		return err
	}
	msgs, err := mbox.Messages(c.ctx)
	if err != nil {
		mbox.Close()
		return err
	}
	c.sel = &selected{mbox: mbox, name: name, readOnly: r.name == "EXAMINE", msgs: msgs}
	c.sel.noteRecent(msgs)
	st.UIDNext = max(st.UIDNext, c.sel.maxUID()+1)
	c.sel.uidNext = st.UIDNext
	c.state = stateSelected
	c.untagged(`FLAGS (\Answered \Flagged \Deleted \Seen \Draft)`)
	c.untagged(strconv.Itoa(len(msgs)) + " EXISTS")
	if !c.rev2 {
		c.untagged(strconv.Itoa(c.sel.countRecent()) + " RECENT")
		for i, m := range msgs {
			if !slices.Contains(m.Flags, FlagSeen) {
				c.untagged("OK [UNSEEN " + strconv.Itoa(i+1) + "] First unseen")
				break
			}
		}
	}
	perm := `\Answered \Flagged \Deleted \Seen \Draft`
	if k, ok := mbox.(PermanentKeywords); ok && k.KeywordsAllowed() {
		perm += ` \*`
	}
	if c.sel.readOnly {
		perm = ""
	}
	c.untagged("OK [PERMANENTFLAGS (" + perm + ")] Flags permitted")
	c.untagged("OK [UIDVALIDITY " + strconv.FormatUint(uint64(st.UIDValidity), 10) + "] UIDs valid")
	c.untagged("OK [UIDNEXT " + strconv.FormatUint(uint64(st.UIDNext), 10) + "] Predicted next UID")
	if st.HighestModSeq > 0 {
		c.untagged("OK [HIGHESTMODSEQ " + strconv.FormatUint(st.HighestModSeq, 10) + "] Highest")
	} else {
		c.untagged("OK [NOMODSEQ] No mod-sequences here")
	}
	if c.rev2 {
		e := c.enc
		e.WriteString(`* LIST () "/" `)
		e.mailbox(name)
		e.crlf()
	}
	c.code = "READ-WRITE"
	if c.sel.readOnly {
		c.code = "READ-ONLY"
	}
	c.saved = nil
	if qr != nil && qr.validity == st.UIDValidity {
		c.resync(qr)
	}
	return nil
}

// goneUIDs are the UIDs of set, up to last (also what "*" stands for),
// that are not here: at most 100000 of them.
func goneUIDs(set SeqSet, last uint32, here map[uint32]bool) []uint32 {
	var gone []uint32
	if last == 0 {
		return nil
	}
	for _, r := range set.Ranges {
		lo, hi := r.Start, r.Stop
		if lo == 0 {
			lo = last
		}
		if hi == 0 {
			hi = last
		}
		if lo > hi {
			lo, hi = hi, lo
		}
		for u := lo; u <= min(hi, last) && len(gone) < 100000; u++ {
			if !here[u] {
				gone = append(gone, u)
			}
		}
	}
	return gone
}

// qresyncParams are SELECT's QRESYNC parameters (RFC 7162 section 3.2.5).
type qresyncParams struct {
	validity  uint32
	modseq    uint64
	knownUIDs *SeqSet
}

func (p *parser) qresyncParams(q *qresyncParams) bool {
	return p.list(false, func() bool {
		if !p.number(&q.validity) || !p.sp() || !p.number64(&q.modseq) {
			return false
		}
		if p.maybeSP() && !p.peek("(") {
			var set SeqSet
			if !p.seqSet(&set) {
				return false
			}
			q.knownUIDs = &set
			p.maybeSP()
		}
		if p.peek("(") { // seq-match-data: a hint we do without
			var a, b SeqSet
			return p.list(false, func() bool { return p.seqSet(&a) && p.sp() && p.seqSet(&b) })
		}
		return true
	})
}

// resync tells a QRESYNC client what changed since its modseq: the UIDs
// it knew that are gone (VANISHED (EARLIER); without known UIDs, every
// UID below UIDNEXT not here, which RFC 7162 allows) and the messages
// changed since (FETCH with FLAGS and MODSEQ).
func (c *conn) resync(q *qresyncParams) {
	s := c.sel
	here := make(map[uint32]bool, len(s.msgs))
	for _, m := range s.msgs {
		here[m.UID] = true
	}
	last := s.lastUID()
	known := SeqSet{Ranges: []SeqRange{{Start: 1, Stop: last}}}
	if q.knownUIDs != nil {
		known = *q.knownUIDs
	}
	gone := goneUIDs(known, last, here)
	if len(gone) > 0 {
		c.untagged("VANISHED (EARLIER) " + SeqSetOf(gone...).String())
	}
	for i, m := range s.msgs {
		if m.ModSeq > q.modseq {
			c.fetchFlags(uint32(i+1), m)
		}
	}
}

func cmdClose(c *conn, r *request) error {
	if !r.p.end() {
		return r.p.Err()
	}
	if r.name == "CLOSE" && !c.sel.readOnly {
		var del []uint32
		if now, err := c.sel.mbox.Messages(c.ctx); err == nil {
			for _, m := range now {
				if slices.Contains(m.Flags, FlagDeleted) {
					del = append(del, m.UID)
				}
			}
		}
		if len(del) > 0 {
			if err := c.sel.mbox.Expunge(c.ctx, del); err != nil {
				return err
			}
		}
	}
	c.unselect()
	return nil
}

func cmdExpunge(c *conn, r *request) error {
	p := r.p
	var set SeqSet
	if r.uid && (!p.sp() || !p.seqSet(&set)) {
		return p.Err()
	}
	if !p.end() {
		return p.Err()
	}
	if c.sel.readOnly {
		return &Error{Code: "READ-ONLY", Text: "Mailbox is read-only"}
	}
	now, err := c.sel.mbox.Messages(c.ctx)
	if err != nil {
		return err
	}
	var del []uint32
	max := c.sel.maxUID()
	for _, m := range now {
		if slices.Contains(m.Flags, FlagDeleted) && (!r.uid || set.Contains(m.UID, max) || set.Dollar && slices.Contains(c.saved, m.UID)) {
			del = append(del, m.UID)
		}
	}
	if len(del) > 0 {
		if err := c.sel.mbox.Expunge(c.ctx, del); err != nil {
			return err
		}
	}
	if err := c.sync(true, true); err != nil {
		return err
	}
	c.highestCode()
	return nil
}

// cmdIdle waits for DONE, telling the client of every change as it
// comes (RFC 2177).
func cmdIdle(c *conn, r *request) error {
	if !r.p.end() {
		return r.p.Err()
	}
	c.bw.WriteString("+ idling\r\n")
	if err := c.bw.Flush(); err != nil {
		return connError{err}
	}
	type result struct {
		line string
		err  error
	}
	// IDLE may last the 29 minutes RFC 2177 asks clients to re-issue it
	// by, even where the idle timeout between commands is shorter; a
	// keepalive keeps the connection from looking dead meanwhile.
	saved := c.lr.IdleTimeout
	if saved > 0 && saved < idleLimit {
		c.lr.IdleTimeout = idleLimit
	}
	done := make(chan result, 1)
	defer func() { c.lr.IdleTimeout = saved }()
	readerDone := false // the goroutine below no longer reads c.br
	if c.quiet() {
		defer func() { c.busy(readerDone) }()
	}
	go func() {
		line, err := c.waitLine()
		done <- result{line, err}
	}()
	var updates <-chan struct{}
	if c.sel != nil {
		updates = c.sel.mbox.Updates()
	}
	var tick <-chan time.Time
	if poll := lifecycle.Timeout(c.s.IdlePoll, DefaultIdlePoll); poll > 0 && c.sel != nil {
		t := time.NewTicker(poll)
		defer t.Stop()
		tick = t.C
	}
	var keepalive <-chan time.Time
	if d := lifecycle.Timeout(c.s.IdleKeepalive, DefaultIdleKeepalive); d > 0 {
		t := time.NewTicker(d)
		defer t.Stop()
		keepalive = t.C
	}
	for {
		select {
		case <-keepalive:
			c.untagged("OK Still here")
		case res := <-done:
			readerDone = true
			if res.err != nil {
				if res.err == errShutdown {
					c.untagged("BYE Server shutting down")
				}
				return connError{res.err}
			}
			if !strings.EqualFold(strings.TrimSpace(res.line), "DONE") {
				return &Error{Type: "BAD", Text: "Expected DONE"}
			}
			return nil
		case _, ok := <-updates:
			if !ok {
				updates = nil
			}
			c.sel.dirty = true
			if err := c.sync(true, false); err != nil {
				// The reader goroutine still waits for DONE: the session
				// cannot go on reading beside it.
				return connError{err}
			}
		case <-tick:
			if err := c.sync(true, true); err != nil {
				return connError{err}
			}
		}
		if err := c.bw.Flush(); err != nil {
			return connError{err}
		}
	}
}
