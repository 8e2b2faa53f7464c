package nntp

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/plumbnet/plumb/internal/wire"
)

// parseRange parses RFC 3977's range: "n", "n-" or "n-m"; hi < 0 is
// no upper bound.
func parseRange(s string) (lo, hi int64, ok bool) {
	a, b, dash := strings.Cut(s, "-")
	lo, err := strconv.ParseInt(a, 10, 64)
	if err != nil || lo < 0 || len(a) > 16 {
		return 0, 0, false
	}
	if !dash {
		return lo, lo, true
	}
	if b == "" {
		return lo, -1, true
	}
	hi, err = strconv.ParseInt(b, 10, 64)
	if err != nil || hi < 0 || len(b) > 16 {
		return 0, 0, false
	}
	return lo, hi, true
}

func (c *conn) cmdGroup(cmd command) error {
	if len(cmd.args) != 1 {
		return c.syntax(cmd)
	}
	g, err := c.s.Backend.Group(c.ctx, cmd.args[0])
	if err != nil {
		c.backendError(err, "403 Cannot open the group now", "GROUP")
		return nil
	}
	c.group = g.Name
	c.cur = 0
	if g.Count > 0 {
		c.cur = g.Low
	}
	c.replyf("211 %d %d %d %s", g.Count, g.Low, g.High, g.Name)
	return nil
}

func (c *conn) cmdListGroup(cmd command) error {
	if len(cmd.args) > 2 {
		return c.syntax(cmd)
	}
	name := c.group
	if len(cmd.args) > 0 {
		name = cmd.args[0]
	}
	if name == "" {
		c.reply("412 No newsgroup selected")
		return nil
	}
	lo, hi := int64(1), int64(-1)
	if len(cmd.args) == 2 {
		var ok bool
		if lo, hi, ok = parseRange(cmd.args[1]); !ok {
			return c.syntax(cmd)
		}
	}
	g, err := c.s.Backend.Group(c.ctx, name)
	if err != nil {
		c.backendError(err, "403 Cannot open the group now", "LISTGROUP")
		return nil
	}
	nums, err := c.s.Backend.Numbers(c.ctx, g.Name, lo, hi)
	if err != nil {
		c.backendError(err, "403 Cannot list the group now", "LISTGROUP")
		return nil
	}
	c.group, c.cur = g.Name, 0
	if g.Count > 0 {
		c.cur = g.Low
	}
	c.replyf("211 %d %d %d %s list follows", g.Count, g.Low, g.High, g.Name)
	for _, n := range nums {
		c.reply(strconv.FormatInt(n, 10))
	}
	c.reply(".")
	return nil
}

// step answers LAST (dir -1) and NEXT (dir +1).
func (c *conn) step(dir int) {
	switch {
	case c.group == "":
		c.reply("412 No newsgroup selected")
		return
	case c.cur == 0:
		c.reply("420 Current article number is invalid")
		return
	}
	var nums []int64
	var err error
	if dir > 0 {
		nums, err = c.s.Backend.Numbers(c.ctx, c.group, c.cur+1, -1)
	} else {
		nums, err = c.s.Backend.Numbers(c.ctx, c.group, 1, c.cur-1)
	}
	if err != nil {
		c.backendError(err, "403 Cannot read the group now", "LAST/NEXT")
		return
	}
	if len(nums) == 0 {
		if dir > 0 {
			c.reply("421 No next article in this group")
		} else {
			c.reply("422 No previous article in this group")
		}
		return
	}
	n := nums[0]
	if dir < 0 {
		n = nums[len(nums)-1]
	}
	ov, rc, err := c.s.Backend.Article(c.ctx, c.group, n)
	if err != nil {
		c.backendError(err, "403 Cannot read the article now", "LAST/NEXT")
		return
	}
	rc.Close()
	c.cur = n
	c.replyf("223 %d %s retrieved", n, ov.MessageID)
}

func (c *conn) cmdLast(cmd command) error {
	if len(cmd.args) != 0 {
		return c.syntax(cmd)
	}
	c.step(-1)
	return nil
}

func (c *conn) cmdNext(cmd command) error {
	if len(cmd.args) != 0 {
		return c.syntax(cmd)
	}
	c.step(1)
	return nil
}

// open finds the article a command names (none: the current one; a
// number in the selected group; a message-id), answering the error
// itself when there is none.
func (c *conn) open(args []string) (Overview, io.ReadCloser, bool) {
	switch {
	case len(args) == 1 && strings.HasPrefix(args[0], "<"):
		if !ValidMessageID(args[0]) {
			c.bad++
			c.reply("501 Malformed message-id")
			return Overview{}, nil, false
		}
		ov, rc, err := c.s.Backend.ArticleByID(c.ctx, args[0])
		if err != nil {
			c.backendError(err, "403 Cannot read the article now", "article by id")
			return ov, nil, false
		}
		ov.Number = 0
		return ov, rc, true
	case c.group == "":
		c.reply("412 No newsgroup selected")
		return Overview{}, nil, false
	}
	n := c.cur
	if len(args) == 1 {
		v, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil || v < 0 || len(args[0]) > 16 {
			c.bad++
			c.reply("501 Syntax: article number or message-id")
			return Overview{}, nil, false
		}
		n = v
	} else if n == 0 {
		c.reply("420 Current article number is invalid")
		return Overview{}, nil, false
	}
	ov, rc, err := c.s.Backend.Article(c.ctx, c.group, n)
	if err != nil {
		c.backendError(err, "403 Cannot read the article now", "article by number")
		return ov, nil, false
	}
	c.cur = n
	ov.Number = n
	return ov, rc, true
}

func (c *conn) cmdArticle(cmd command) error {
	if len(cmd.args) > 1 {
		return c.syntax(cmd)
	}
	ov, rc, ok := c.open(cmd.args)
	if !ok {
		return nil
	}
	defer rc.Close()
	var code int
	switch cmd.name {
	case "ARTICLE":
		code = 220
	case "HEAD":
		code = 221
	case "BODY":
		code = 222
	default:
		c.replyf("223 %d %s", ov.Number, ov.MessageID)
		return nil
	}
	c.replyf("%d %d %s", code, ov.Number, ov.MessageID)
	if err := writePart(c.bw, rc, code); err != nil {
		c.s.logger().Error("nntp: sending article", "id", ov.MessageID, "err", err)
		return err // after the status line a failure cannot be answered
	}
	return nil
}

// writePart writes the article rc holds, or its header (221) or body
// (222), as a dot-stuffed multi-line block with CRLF line ends.
func writePart(w *bufio.Writer, rc io.Reader, code int) error {
	dw := wire.NewDotWriter(w)
	br := bufio.NewReaderSize(rc, 16<<10)
	if code != 220 {
		partial := false // the last chunk ended inside a long line
		for {
			line, err := br.ReadSlice('\n')
			full := err == bufio.ErrBufferFull
			if err != nil && !full && err != io.EOF {
				return err
			}
			blank := !partial && !full && (string(line) == "\n" || string(line) == "\r\n")
			if blank {
				break
			}
			if code == 221 {
				if _, werr := dw.Write(line); werr != nil {
					return werr
				}
			}
			if err == io.EOF {
				break
			}
			partial = full
		}
		if code == 221 {
			return dw.Close()
		}
	}
	if _, err := io.Copy(dw, br); err != nil {
		return err
	}
	return dw.Close()
}

// parseDate parses NEWGROUPS' and NEWNEWS' date and time: yymmdd or
// yyyymmdd, hhmmss, and an optional "GMT" (RFC 3977 section 7.3.2);
// without it the time is the server's local time.
func parseDate(args []string) (time.Time, bool) {
	if len(args) < 2 || len(args) > 3 || len(args) == 3 && !strings.EqualFold(args[2], "GMT") {
		return time.Time{}, false
	}
	d := args[0]
	if len(d) == 6 {
		yy, err := strconv.Atoi(d[:2])
		if err != nil {
			return time.Time{}, false
		}
		// Two-digit years: the century that makes the date closest to now.
		cent := time.Now().Year() / 100 * 100
		if cent+yy > time.Now().Year() {
			cent -= 100
		}
		d = strconv.Itoa(cent+yy) + d[2:]
	}
	loc := time.Local
	if len(args) == 3 {
		loc = time.UTC
	}
	t, err := time.ParseInLocation("20060102150405", d+args[1], loc)
	if err != nil || len(args[1]) != 6 {
		return time.Time{}, false
	}
	return t, true
}

func (c *conn) cmdNewGroups(cmd command) error {
	since, ok := parseDate(cmd.args)
	if !ok {
		return c.syntax(cmd)
	}
	groups, err := c.s.Backend.Groups(c.ctx)
	if err != nil {
		c.backendError(err, "403 Cannot list groups now", "NEWGROUPS")
		return nil
	}
	c.reply("231 List of new newsgroups follows")
	for _, g := range groups {
		if !g.Created.Before(since) {
			c.replyf("%s %d %d %c", g.Name, g.High, g.Low, status(g))
		}
	}
	c.reply(".")
	return nil
}

func status(g Group) byte {
	if g.Status == 0 {
		return 'y'
	}
	return g.Status
}

func (c *conn) cmdNewNews(cmd command) error {
	if len(cmd.args) < 3 || !validWildmat(cmd.args[0]) {
		return c.syntax(cmd)
	}
	since, ok := parseDate(cmd.args[1:])
	if !ok {
		return c.syntax(cmd)
	}
	pat := cmd.args[0]
	ids, err := c.s.Backend.NewNews(c.ctx, since, func(g string) bool { return Wildmat(pat, g) })
	if err != nil {
		c.backendError(err, "403 Cannot list new news now", "NEWNEWS")
		return nil
	}
	c.reply("230 List of new articles follows")
	for _, id := range ids {
		c.reply(id)
	}
	c.reply(".")
	return nil
}

// overviewFormat is LIST OVERVIEW.FMT (RFC 3977 section 8.4).
var overviewFormat = []string{"Subject:", "From:", "Date:", "Message-ID:", "References:", ":bytes", ":lines", "Xref:full"}

func (c *conn) cmdList(cmd command) error {
	kw := "ACTIVE"
	if len(cmd.args) > 0 {
		kw = strings.ToUpper(cmd.args[0])
	}
	if len(cmd.args) > 2 || len(cmd.args) == 2 && !validWildmat(cmd.args[1]) {
		return c.syntax(cmd)
	}
	pat := "*"
	if len(cmd.args) == 2 {
		pat = cmd.args[1]
	}
	switch kw {
	case "OVERVIEW.FMT":
		c.reply("215 Order of fields in overview database")
		for _, f := range overviewFormat {
			c.reply(f)
		}
		c.reply(".")
		return nil
	case "HEADERS":
		c.reply("215 Headers and metadata items supported")
		c.reply(":")
		c.reply(":bytes")
		c.reply(":lines")
		c.reply(".")
		return nil
	case "DISTRIB.PATS":
		c.reply("215 Distribution patterns follow")
		c.reply(".")
		return nil
	case "ACTIVE", "ACTIVE.TIMES", "NEWSGROUPS":
	default:
		c.reply("501 Unknown LIST keyword")
		c.bad++
		return nil
	}
	groups, err := c.s.Backend.Groups(c.ctx)
	if err != nil {
		c.backendError(err, "403 Cannot list groups now", "LIST")
		return nil
	}
	c.reply("215 Information follows")
	for _, g := range groups {
		if !Wildmat(pat, g.Name) {
			continue
		}
		switch kw {
		case "ACTIVE":
			c.replyf("%s %d %d %c", g.Name, g.High, g.Low, status(g))
		case "ACTIVE.TIMES":
			creator := g.Creator
			if creator == "" {
				creator = "news"
			}
			c.replyf("%s %d %s", g.Name, g.Created.Unix(), creator)
		case "NEWSGROUPS":
			c.replyf("%s\t%s", g.Name, printable(g.Description, 200))
		}
	}
	c.reply(".")
	return nil
}

// field makes a header value safe for an overview line.
func field(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\r' || r == '\n' || r == 0 {
			return ' '
		}
		return r
	}, s)
}

func overviewLine(o Overview) string {
	xref := ""
	if o.Xref != "" {
		xref = "Xref: " + field(o.Xref)
	}
	return fmt.Sprintf("%d\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s", o.Number, field(o.Subject), field(o.From),
		field(o.Date), field(o.MessageID), field(o.References), o.Bytes, o.Lines, xref)
}

// span resolves the range-or-message-id argument of OVER, HDR and
// XPAT: by id it returns that one article's overview.
func (c *conn) span(arg string, byID func(ov Overview)) (lo, hi int64, id, ok bool) {
	if strings.HasPrefix(arg, "<") {
		if !ValidMessageID(arg) {
			c.bad++
			c.reply("501 Malformed message-id")
			return 0, 0, false, false
		}
		ov, rc, err := c.s.Backend.ArticleByID(c.ctx, arg)
		if err != nil {
			c.backendError(err, "403 Cannot read the article now", "article by id")
			return 0, 0, false, false
		}
		rc.Close()
		ov.Number = 0
		byID(ov)
		return 0, 0, true, true
	}
	if c.group == "" {
		c.reply("412 No newsgroup selected")
		return 0, 0, false, false
	}
	if arg == "" {
		if c.cur == 0 {
			c.reply("420 Current article number is invalid")
			return 0, 0, false, false
		}
		return c.cur, c.cur, false, true
	}
	lo, hi, ok = parseRange(arg)
	if !ok {
		c.bad++
		c.reply("501 Syntax: range or message-id")
	}
	return lo, hi, false, ok
}

func (c *conn) cmdOver(cmd command) error {
	if len(cmd.args) > 1 {
		return c.syntax(cmd)
	}
	arg := ""
	if len(cmd.args) == 1 {
		arg = cmd.args[0]
	}
	var one Overview
	lo, hi, byID, ok := c.span(arg, func(o Overview) { one = o })
	if !ok {
		return nil
	}
	if byID {
		c.reply("224 Overview information follows")
		c.reply(overviewLine(one))
		c.reply(".")
		return nil
	}
	return c.overviews(lo, hi, "224 Overview information follows", func(o Overview) { c.reply(overviewLine(o)) })
}

// overviews streams the overview of [lo, hi] in the selected group
// after the status line ok, or answers 423 when the range is empty.
func (c *conn) overviews(lo, hi int64, ok string, each func(Overview)) error {
	started := false
	err := c.s.Backend.Overview(c.ctx, c.group, lo, hi, func(o Overview) error {
		if !started {
			c.reply(ok)
			started = true
		}
		each(o)
		if c.bw.Buffered() > 8<<10 {
			return c.bw.Flush()
		}
		return nil
	})
	switch {
	case err != nil && started:
		return err // cut short after the status line
	case err != nil:
		c.backendError(err, "403 Cannot read the overview now", "OVER")
	case !started:
		c.reply("423 No articles in that range")
	default:
		c.reply(".")
	}
	return nil
}
