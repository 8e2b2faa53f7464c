package pop3

import (
	"errors"
	"strconv"
	"strings"
)

// Limits of the command grammar (RFC 1939 §3, RFC 2449 §4).
const (
	maxKeyword = 4
	maxArg     = 255 // RFC 2449 allows 255 octets per argument
	maxArgs    = 4
)

var (
	errSyntax  = errors.New("pop3: syntax error")
	errUnknown = errors.New("pop3: unknown command")
)

// command is one parsed client line.
type command struct {
	name string   // upper case keyword
	args []string // space-separated arguments
	rest string   // everything after the keyword and one space (PASS takes spaces)
}

// parseCommand parses a command line without its line end: a keyword of
// up to four letters, then arguments separated by spaces. Control
// characters anywhere are a syntax error.
func parseCommand(line string) (command, error) {
	var c command
	for i := 0; i < len(line); i++ {
		if b := line[i]; b < ' ' && b != '\t' || b == 0x7f {
			return c, errSyntax
		}
	}
	kw, rest, _ := strings.Cut(line, " ")
	if len(kw) == 0 || len(kw) > maxKeyword {
		return c, errSyntax
	}
	for i := 0; i < len(kw); i++ {
		if b := kw[i] | 0x20; b < 'a' || b > 'z' {
			return c, errSyntax
		}
	}
	c.name = strings.ToUpper(kw)
	c.rest = rest
	c.args = strings.Fields(rest)
	if len(c.args) > maxArgs {
		return c, errSyntax
	}
	for _, a := range c.args {
		if len(a) > maxArg {
			return c, errSyntax
		}
	}
	return c, nil
}

// parseMsgNum parses a message number: decimal digits only, no sign.
func parseMsgNum(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}
