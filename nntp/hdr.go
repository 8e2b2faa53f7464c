package nntp

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// overviewField returns the value of header (or metadata item) h from
// an overview, and whether the overview holds it.
func overviewField(o Overview, h string) (string, bool) {
	switch strings.ToLower(h) {
	case "subject":
		return o.Subject, true
	case "from":
		return o.From, true
	case "date":
		return o.Date, true
	case "message-id":
		return o.MessageID, true
	case "references":
		return o.References, true
	case ":bytes", "bytes":
		return strconv.FormatInt(o.Bytes, 10), true
	case ":lines", "lines":
		return strconv.FormatInt(o.Lines, 10), true
	case "xref":
		return o.Xref, true
	}
	return "", false
}

// headerOf reads the value of header h from an article's text.
func headerOf(rc io.Reader, h string) string {
	br := bufio.NewReaderSize(io.LimitReader(rc, DefaultMaxHeaderBytes), 4096)
	var head []byte
	for {
		line, err := br.ReadSlice('\n')
		if string(line) == "\r\n" || string(line) == "\n" {
			break
		}
		head = append(head, line...)
		if err != nil && err != bufio.ErrBufferFull {
			break
		}
	}
	a, err := ParseArticle(head)
	if err != nil {
		return ""
	}
	return a.Get(h)
}

// headerValue returns header h of article o, from the overview when it
// has it and from the article's text otherwise.
func (c *conn) headerValue(o Overview, h string) string {
	if v, ok := overviewField(o, h); ok {
		return v
	}
	var rc io.ReadCloser
	var err error
	if o.Number > 0 {
		_, rc, err = c.s.Backend.Article(c.ctx, c.group, o.Number)
	} else {
		_, rc, err = c.s.Backend.ArticleByID(c.ctx, o.MessageID)
	}
	if err != nil {
		return ""
	}
	defer rc.Close()
	return headerOf(rc, h)
}

// cmdHdr answers HDR (225) and XHDR (221).
func (c *conn) cmdHdr(cmd command) error {
	if len(cmd.args) < 1 || len(cmd.args) > 2 {
		return c.syntax(cmd)
	}
	h := cmd.args[0]
	arg := ""
	if len(cmd.args) == 2 {
		arg = cmd.args[1]
	}
	ok := "225 Headers follow"
	if cmd.name == "XHDR" {
		ok = "221 Header follows"
	}
	return c.headers(h, arg, ok, func(string) bool { return true })
}

// cmdXPat answers XPAT header range|id pattern... with the articles
// whose header matches one of the wildmats (221).
func (c *conn) cmdXPat(cmd command) error {
	if len(cmd.args) < 3 {
		return c.syntax(cmd)
	}
	pats := cmd.args[2:]
	return c.headers(cmd.args[0], cmd.args[1], "221 Header follows", func(v string) bool {
		for _, p := range pats {
			if Wildmat(p, v) {
				return true
			}
		}
		return false
	})
}

func (c *conn) headers(h, arg, ok string, keep func(string) bool) error {
	var one Overview
	lo, hi, byID, fine := c.span(arg, func(o Overview) { one = o })
	if !fine {
		return nil
	}
	if byID {
		c.reply(ok)
		if v := c.headerValue(one, h); keep(v) {
			c.reply("0 " + field(v))
		}
		c.reply(".")
		return nil
	}
	return c.overviews(lo, hi, ok, func(o Overview) {
		if v := c.headerValue(o, h); keep(v) {
			c.reply(strconv.FormatInt(o.Number, 10) + " " + field(v))
		}
	})
}
