package nntp

import (
	"errors"
	"sort"
	"strings"
	"time"
)

// Limits of the command grammar (RFC 3977 section 3.1).
const (
	maxKeyword = 12
	maxArgs    = 8
)

var errSyntax = errors.New("nntp: syntax error")

// command is one parsed client line.
type command struct {
	name string   // upper case keyword
	args []string // space-separated arguments
}

// parseCommand parses a command line without its line end: a keyword
// and arguments separated by spaces or tabs. Control characters are a
// syntax error.
func parseCommand(line string) (command, error) {
	var c command
	for i := 0; i < len(line); i++ {
		if b := line[i]; b < ' ' && b != '\t' || b == 0x7f {
			return c, errSyntax
		}
	}
	f := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' })
	if len(f) == 0 || len(f[0]) > maxKeyword || len(f) > maxArgs+1 {
		return c, errSyntax
	}
	for _, b := range []byte(f[0]) {
		if !(b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '.' || b == '-') {
			return c, errSyntax // RFC 3977 section 9.2: a keyword is letters, digits, "." and "-"
		}
	}
	c.name = strings.ToUpper(f[0])
	c.args = f[1:]
	return c, nil
}

// access is what a command needs of the session.
type access int

const (
	anyone access = iota
	reader        // reading: authentication when Server.ReadAuth
	poster        // POST: authentication unless Server.AnonymousPost
	feeder        // IHAVE, CHECK, TAKETHIS: a feed peer or authenticated
)

type handler struct {
	fn     func(c *conn, cmd command) error
	access access
	usage  string // for HELP and 501 replies
}

// handlers is the verb table.
var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"CAPABILITIES": {(*conn).cmdCapabilities, anyone, "CAPABILITIES [keyword]"},
		"MODE":         {(*conn).cmdMode, anyone, "MODE READER|STREAM"},
		"QUIT":         {(*conn).cmdQuit, anyone, "QUIT"},
		"HELP":         {(*conn).cmdHelp, anyone, "HELP"},
		"DATE":         {(*conn).cmdDate, anyone, "DATE"},
		"AUTHINFO":     {(*conn).cmdAuthinfo, anyone, "AUTHINFO USER name|PASS password|SASL mechanism [initial-response]"},
		"STARTTLS":     {(*conn).cmdStartTLS, anyone, "STARTTLS"},
		"COMPRESS":     {(*conn).cmdCompress, anyone, "COMPRESS DEFLATE"},
		"GROUP":        {(*conn).cmdGroup, reader, "GROUP newsgroup"},
		"LISTGROUP":    {(*conn).cmdListGroup, reader, "LISTGROUP [newsgroup [range]]"},
		"LAST":         {(*conn).cmdLast, reader, "LAST"},
		"NEXT":         {(*conn).cmdNext, reader, "NEXT"},
		"ARTICLE":      {(*conn).cmdArticle, reader, "ARTICLE [message-id|number]"},
		"HEAD":         {(*conn).cmdArticle, reader, "HEAD [message-id|number]"},
		"BODY":         {(*conn).cmdArticle, reader, "BODY [message-id|number]"},
		"STAT":         {(*conn).cmdArticle, reader, "STAT [message-id|number]"},
		"NEWGROUPS":    {(*conn).cmdNewGroups, reader, "NEWGROUPS [yy]yymmdd hhmmss [GMT]"},
		"NEWNEWS":      {(*conn).cmdNewNews, reader, "NEWNEWS wildmat [yy]yymmdd hhmmss [GMT]"},
		"LIST":         {(*conn).cmdList, reader, "LIST [ACTIVE|ACTIVE.TIMES|NEWSGROUPS|DISTRIB.PATS|HEADERS|OVERVIEW.FMT] [wildmat]"},
		"OVER":         {(*conn).cmdOver, reader, "OVER [range|message-id]"},
		"XOVER":        {(*conn).cmdOver, reader, "XOVER [range]"},
		"HDR":          {(*conn).cmdHdr, reader, "HDR header [range|message-id]"},
		"XHDR":         {(*conn).cmdHdr, reader, "XHDR header [range|message-id]"},
		"XPAT":         {(*conn).cmdXPat, reader, "XPAT header range|message-id pattern..."},
		"POST":         {(*conn).cmdPost, poster, "POST"},
		"IHAVE":        {(*conn).cmdIHave, feeder, "IHAVE message-id"},
		"CHECK":        {(*conn).cmdCheck, feeder, "CHECK message-id"},
		"TAKETHIS":     {(*conn).cmdTakeThis, feeder, "TAKETHIS message-id"},
	}
}

// dispatch runs one command line; an error ends the session.
func (c *conn) dispatch(line string) error {
	cmd, err := parseCommand(line)
	if err != nil {
		c.bad++
		c.reply("501 Syntax error")
		return nil
	}
	h, ok := handlers[cmd.name]
	if !ok {
		c.bad++
		c.reply("500 Unknown command")
		return nil
	}
	switch {
	case h.access == reader && !c.canRead(),
		h.access == poster && !c.canPost():
		c.reply("480 Authentication required")
		return nil
	case h.access == feeder && !c.canFeed():
		if cmd.name == "TAKETHIS" {
			// Its article follows unasked: read it, lest its lines
			// run as commands.
			if _, err := c.readArticle(); err != nil && !errors.Is(err, errTooLarge) && !errors.Is(err, errBare) {
				return err
			}
		}
		c.reply("480 Transfer permission denied; authenticate first")
		return nil
	}
	return h.fn(c, cmd)
}

// syntax answers 501 with the command's usage.
func (c *conn) syntax(cmd command) error {
	c.bad++
	c.reply("501 Syntax: " + handlers[cmd.name].usage)
	return nil
}

func (c *conn) cmdCapabilities(cmd command) error {
	c.reply("101 Capability list:")
	c.reply("VERSION 2")
	c.reply("IMPLEMENTATION plumb")
	c.reply("READER")
	if c.canPost() {
		c.reply("POST")
	}
	if c.canFeed() {
		c.reply("IHAVE")
		c.reply("STREAMING")
	}
	c.reply("NEWNEWS")
	c.reply("HDR")
	c.reply("OVER MSGID")
	c.reply("LIST ACTIVE ACTIVE.TIMES NEWSGROUPS DISTRIB.PATS HEADERS OVERVIEW.FMT")
	if c.user == "" {
		if c.plaintextOK() {
			c.reply("AUTHINFO USER SASL")
			c.reply("SASL " + strings.Join(c.mechanisms(), " "))
		} else {
			c.reply("AUTHINFO")
		}
	}
	if c.s.TLSConfig != nil && c.tls == nil && c.user == "" {
		c.reply("STARTTLS")
	}
	if !c.compress {
		c.reply("COMPRESS DEFLATE")
	}
	c.reply(".")
	return nil
}

func (c *conn) cmdMode(cmd command) error {
	if len(cmd.args) != 1 {
		return c.syntax(cmd)
	}
	switch strings.ToUpper(cmd.args[0]) {
	case "READER":
		if !c.canRead() {
			c.reply("480 Authentication required")
		} else if c.canPost() {
			c.reply("200 Reader mode, posting allowed")
		} else {
			c.reply("201 Reader mode, posting needs AUTHINFO")
		}
	case "STREAM":
		if !c.canFeed() {
			c.reply("480 Transfer permission denied")
			return nil
		}
		c.reply("203 Streaming permitted")
	default:
		return c.syntax(cmd)
	}
	return nil
}

func (c *conn) cmdQuit(cmd command) error {
	c.quit = true
	c.reply("205 Connection closing")
	return nil
}

func (c *conn) cmdHelp(cmd command) error {
	c.reply("100 Help text follows")
	names := make([]string, 0, len(handlers))
	for n := range handlers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c.reply("  " + handlers[n].usage)
	}
	c.reply(".")
	return nil
}

func (c *conn) cmdDate(cmd command) error {
	c.reply("111 " + time.Now().UTC().Format("20060102150405"))
	return nil
}
