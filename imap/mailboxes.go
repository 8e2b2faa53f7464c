package imap

import (
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
)

func cmdCreate(c *conn, r *request) error {
	p := r.p
	var name string
	if !p.sp() || !p.mailbox(&name) {
		return p.Err()
	}
	if p.maybeSP() { // create-param (RFC 6154 USE): accepted, the backend decides
		if !p.list(true, func() bool {
			var a string
			return p.atom(&a) && p.maybeSP() && p.list(true, func() bool { return p.flag(&a) }) || p.ok()
		}) {
			return p.Err()
		}
	}
	if !p.end() {
		return p.Err()
	}
	name = strings.TrimSuffix(name, "/")
	if name == "INBOX" {
		return ErrMailboxExists
	}
	return c.sess.Create(c.ctx, name)
}

func cmdDelete(c *conn, r *request) error {
	p := r.p
	var name string
	if !p.sp() || !p.mailbox(&name) || !p.end() {
		return p.Err()
	}
	if name == "INBOX" {
		return &Error{Code: "CANNOT", Text: "INBOX cannot be deleted"}
	}
	if c.sel != nil && c.sel.name == name {
		c.unselect()
	}
	return c.sess.Delete(c.ctx, name)
}

func cmdRename(c *conn, r *request) error {
	p := r.p
	var from, to string
	if !p.sp() || !p.mailbox(&from) || !p.sp() || !p.mailbox(&to) || !p.end() {
		return p.Err()
	}
	if to == "INBOX" {
		return ErrMailboxExists
	}
	return c.sess.Rename(c.ctx, from, to)
}

func cmdSubscribe(c *conn, r *request) error {
	p := r.p
	var name string
	if !p.sp() || !p.mailbox(&name) || !p.end() {
		return p.Err()
	}
	return c.sess.SetSubscribed(c.ctx, name, r.name == "SUBSCRIBE")
}

// listOptions are LIST-EXTENDED's selection and return options (RFC 5258, 5819, 6154).
type listOptions struct {
	subscribed, recursive, specialUse bool // selection
	retSubscribed, retChildren        bool
	retSpecialUse                     bool
	status                            []string
}

func cmdList(c *conn, r *request) error {
	p := r.p
	var opt listOptions
	lsub := r.name == "LSUB"
	if !p.sp() {
		return p.Err()
	}
	extended := false
	if !lsub && p.peek("(") {
		extended = true
		if !p.list(true, func() bool {
			var a string
			if !p.atom(&a) {
				return false
			}
			switch strings.ToUpper(a) {
			case "SUBSCRIBED":
				opt.subscribed = true
			case "RECURSIVEMATCH":
				opt.recursive = true
			case "SPECIAL-USE":
				opt.specialUse = true
			case "REMOTE":
			default:
				return p.failf("unknown LIST selection option %q", a)
			}
			return true
		}) || !p.sp() {
			return p.Err()
		}
	}
	var ref string
	var patterns []string
	if !p.mailbox(&ref) || !p.sp() {
		return p.Err()
	}
	if ref == "INBOX" {
		ref = ""
	}
	pattern := func() bool {
		var s string
		if !p.listMailbox(&s) {
			return false
		}
		d, err := DecodeMailboxName(s)
		if err != nil {
			return p.failf("%v", err)
		}
		patterns = append(patterns, d)
		return true
	}
	if !lsub && p.peek("(") {
		extended = true
		if !p.list(false, pattern) {
			return p.Err()
		}
	} else if !pattern() {
		return p.Err()
	}
	if !lsub && p.maybeSP() {
		extended = true
		if !p.expect("RETURN") || !p.sp() || !p.list(true, func() bool {
			var a string
			if !p.atom(&a) {
				return false
			}
			switch strings.ToUpper(a) {
			case "SUBSCRIBED":
				opt.retSubscribed = true
			case "CHILDREN":
				opt.retChildren = true
			case "SPECIAL-USE":
				opt.retSpecialUse = true
			case "STATUS":
				return p.sp() && p.statusItems(&opt.status)
			default:
				return p.failf("unknown LIST return option %q", a)
			}
			return true
		}) {
			return p.Err()
		}
	}
	if !p.end() {
		return p.Err()
	}
	if opt.recursive && !opt.subscribed {
		return &Error{Type: "BAD", Text: "RECURSIVEMATCH needs another selection option"}
	}
	if len(patterns) == 1 && patterns[0] == "" {
		c.enc.WriteString("* " + r.name + ` (\Noselect) "/" ""` + "\r\n")
		return nil
	}
	var all []MailboxInfo
	if err := c.sess.List(c.ctx, func(m MailboxInfo) error { all = append(all, m); return nil }); err != nil {
		return err
	}
	names := map[string]bool{}
	for _, m := range all {
		names[m.Name] = true
	}
	// A level that exists only as the parent of others is listed as
	// \Noselect (RFC 9051 section 6.3.9: the hierarchy stays walkable).
	for _, m := range all {
		for i := strings.LastIndexByte(m.Name, '/'); i > 0; i = strings.LastIndexByte(m.Name[:i], '/') {
			if p := m.Name[:i]; !names[p] {
				names[p] = true
				all = append(all, MailboxInfo{Name: p, Attrs: []string{AttrNoselect}})
			}
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	hasChildren := func(name string) bool {
		for n := range names {
			if strings.HasPrefix(n, name+"/") {
				return true
			}
		}
		return false
	}
	for _, m := range all {
		if !slices.ContainsFunc(patterns, func(pat string) bool { return matchList(ref+pat, m.Name) }) {
			continue
		}
		if (lsub || opt.subscribed) && !m.Subscribed {
			continue
		}
		if opt.specialUse && !slices.ContainsFunc(m.Attrs, isSpecialUse) {
			continue
		}
		var attrs []string
		for _, a := range m.Attrs {
			if isSpecialUse(a) && extended && !opt.retSpecialUse && !opt.specialUse {
				continue
			}
			attrs = append(attrs, a)
		}
		if !lsub {
			if hasChildren(m.Name) {
				attrs = append(attrs, AttrHasChildren)
			} else {
				attrs = append(attrs, AttrHasNoChildren)
			}
			if m.Subscribed && (opt.subscribed || opt.retSubscribed) {
				attrs = append(attrs, AttrSubscribed)
			}
		}
		e := c.enc
		e.WriteString("* " + r.name + " ")
		e.flags(attrs)
		e.WriteString(` "/" `)
		e.mailbox(m.Name)
		e.crlf()
		if len(opt.status) > 0 && !slices.Contains(m.Attrs, AttrNoselect) {
			st, err := c.status(m.Name, opt.status)
			if err != nil {
				return err
			}
			c.writeStatus(m.Name, st, opt.status)
		}
	}
	return nil
}

func isSpecialUse(a string) bool {
	switch a {
	case AttrSent, AttrDrafts, AttrTrash, AttrJunk, AttrArchive, AttrAll, AttrFlagged:
		return true
	}
	return false
}

// matchList matches a LIST pattern: * is anything, % anything but
// "/"; names are case-sensitive but for INBOX.
func matchList(pat, name string) bool {
	if len(pat) >= 5 && strings.EqualFold(pat[:5], "INBOX") && (len(pat) == 5 || pat[5] == '/') {
		pat = "INBOX" + pat[5:]
	}
	return glob(pat, name)
}

func glob(pat, name string) bool {
	for len(pat) > 0 {
		if pat[0] == '*' || pat[0] == '%' {
			for i := 0; i <= len(name); i++ {
				if glob(pat[1:], name[i:]) {
					return true
				}
				if i < len(name) && pat[0] == '%' && name[i] == '/' {
					return false
				}
			}
			return false
		}
		if len(name) == 0 || pat[0] != name[0] {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return name == ""
}

var statusNames = map[string]bool{"MESSAGES": true, "RECENT": true, "UIDNEXT": true, "UIDVALIDITY": true, "UNSEEN": true, "SIZE": true, "DELETED": true, "APPENDLIMIT": true, "HIGHESTMODSEQ": true}

func (p *parser) statusItems(items *[]string) bool {
	return p.list(false, func() bool {
		var a string
		if !p.atom(&a) {
			return false
		}
		a = strings.ToUpper(a)
		if !statusNames[a] {
			return p.failf("unknown STATUS item %q", a)
		}
		*items = append(*items, a)
		return true
	})
}

func cmdStatus(c *conn, r *request) error {
	p := r.p
	var name string
	var items []string
	if !p.sp() || !p.mailbox(&name) || !p.sp() || !p.statusItems(&items) || !p.end() {
		return p.Err()
	}
	st, err := c.status(name, items)
	if err != nil {
		return err
	}
	if slices.Contains(items, "HIGHESTMODSEQ") {
		c.condstore = true
	}
	c.writeStatus(name, st, items)
	return nil
}

// status asks the backend for the STATUS items of mailbox name.
func (c *conn) status(name string, items []string) (MailboxStatus, error) {
	if s, ok := c.sess.(StatusItemsSession); ok {
		return s.StatusItems(c.ctx, name, items)
	}
	return c.sess.Status(c.ctx, name)
}

func (c *conn) writeStatus(name string, st MailboxStatus, items []string) {
	e := c.enc
	e.WriteString("* STATUS ")
	e.mailbox(name)
	e.WriteString(" (")
	for i, it := range items {
		if i > 0 {
			e.sp()
		}
		e.atom(it)
		e.sp()
		switch it {
		case "MESSAGES":
			e.num(st.Messages)
		case "RECENT":
			e.num(st.Recent)
		case "UIDNEXT":
			e.num(st.UIDNext)
		case "UIDVALIDITY":
			e.num(st.UIDValidity)
		case "UNSEEN":
			e.num(st.Unseen)
		case "SIZE":
			e.num64(st.Size)
		case "DELETED":
			e.num(st.Deleted)
		case "HIGHESTMODSEQ":
			e.WriteString(strconv.FormatUint(st.HighestModSeq, 10))
		case "APPENDLIMIT":
			e.num64(lifecycle.OrDefault(c.s.MaxLiteralSize, DefaultMaxLiteralSize))
		}
	}
	e.WriteString(")\r\n")
}

func cmdAppend(c *conn, r *request) error {
	p := r.p
	var name string
	var flags []string
	var date time.Time
	if !p.sp() || !p.mailbox(&name) || !p.sp() {
		return p.Err()
	}
	if p.peek("(") {
		if !p.flagList(&flags) || !p.sp() {
			return p.Err()
		}
	}
	if p.peek("\"") {
		if !p.dateTime(&date) || !p.sp() {
			return p.Err()
		}
	}
	var n int64
	var nonSync bool
	p.maybe("~") // literal8 (BINARY, UTF8=ACCEPT): the same bytes
	if !p.literalNext(&n, &nonSync) {
		if p.ok() {
			return syntaxErr("want a literal")
		}
		return p.Err()
	}
	if !p.checkLiteral(n, lifecycle.OrDefault(c.s.MaxLiteralSize, DefaultMaxLiteralSize), nonSync) {
		return p.Err()
	}
	for _, f := range flags {
		if f == FlagRecent || f == `\*` {
			return syntaxErr("flag %s cannot be stored", f)
		}
	}
	lr, ok := p.literal(n, nonSync)
	if !ok {
		return p.Err()
	}
	// lr ends in io.ErrUnexpectedEOF when the client hangs up inside the
	// literal, so the backend aborts and stores nothing.
	validity, uid, err := c.sess.Append(c.ctx, name, lr, flags, date)
	// Whatever the backend left of the literal is read, so the session
	// stays in step with the client.
	if _, derr := io.Copy(io.Discard, lr); derr != nil {
		return connError{derr}
	}
	if !p.nextLine() || !p.end() {
		return p.Err()
	}
	if err != nil {
		return err
	}
	if uid != 0 {
		c.code = "APPENDUID " + strconv.FormatUint(uint64(validity), 10) + " " + strconv.FormatUint(uint64(uid), 10)
	}
	if c.sel != nil && c.sel.name == name {
		c.sel.dirty = true
	}
	return nil
}

func cmdGetQuotaRoot(c *conn, r *request) error {
	p := r.p
	var name string
	if !p.sp() || !p.mailbox(&name) || !p.end() {
		return p.Err()
	}
	qs, ok := c.sess.(QuotaSession)
	if !ok {
		return &Error{Text: "No quota"}
	}
	e := c.enc
	e.WriteString("* QUOTAROOT ")
	e.mailbox(name)
	e.WriteString(` ""` + "\r\n")
	return c.writeQuota(qs)
}

func cmdGetQuota(c *conn, r *request) error {
	p := r.p
	var root string
	if !p.sp() || !p.astring(&root) || !p.end() {
		return p.Err()
	}
	qs, ok := c.sess.(QuotaSession)
	if !ok || root != "" {
		return &Error{Code: "NONEXISTENT", Text: "No such quota root"}
	}
	return c.writeQuota(qs)
}

func (c *conn) writeQuota(qs QuotaSession) error {
	used, limit, err := qs.Quota(c.ctx)
	if err != nil {
		return err
	}
	if limit <= 0 {
		c.untagged(`QUOTA "" ()`)
		return nil
	}
	c.untagged(`QUOTA "" (STORAGE ` + strconv.FormatInt((used+1023)/1024, 10) + " " + strconv.FormatInt(limit/1024, 10) + ")")
	return nil
}
