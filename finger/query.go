package finger

import (
	"errors"
	"fmt"
	"strings"
)

// Limits of a query's parts.
const (
	// MaxUserLength bounds the user part of a query.
	MaxUserLength = 64
	// MaxHosts bounds the "@host" parts of a query (a forwarding chain).
	MaxHosts = 8
	// MaxHostLength bounds one host name (RFC 1035: 253).
	MaxHostLength = 253
)

// ErrBadQuery is wrapped by the errors of [ParseQuery] and of a
// [Client] given a query it cannot send.
var ErrBadQuery = errors.New("finger: bad query")

// ErrBadArgument is wrapped by a [Client]'s error for a query part
// holding CR, LF, NUL or another control character (command injection).
var ErrBadArgument = fmt.Errorf("%w: control character in query", ErrBadQuery)

// A Query is one finger query line (RFC 1288 section 2.3):
//
//	{Q1} ::= [{W}|{W}{S}{U}]{C}
//	{Q2} ::= [{W}{S}][{U}]{H}{C}
//	{U}  ::= username
//	{H}  ::= @hostname | @hostname{H}
//	{W}  ::= /W
//
// An empty User with no Hosts asks for the users logged in now; Hosts
// ask the server to forward the query (the last host first: "u@a@b"
// sent to b asks b to ask a for u).
type Query struct {
	// Verbose is the /W token: the client asks for the long form.
	Verbose bool
	// User is the user asked for; "" lists the users logged in.
	User string
	// Hosts are the forwarding hosts, as written left to right.
	Hosts []string
}

// ParseQuery parses a query line without its line end. The /W token is
// matched in either case (BSD finger sends "/W"; people type "/w"), any
// run of spaces or tabs separates it from the rest, and leading and
// trailing blanks are ignored.
func ParseQuery(line string) (Query, error) {
	var q Query
	s := strings.Trim(line, " \t")
	if len(s) >= 2 && s[0] == '/' && (s[1] == 'W' || s[1] == 'w') && (len(s) == 2 || s[2] == ' ' || s[2] == '\t') {
		q.Verbose = true
		s = strings.TrimLeft(s[2:], " \t")
	}
	if strings.ContainsAny(s, " \t") {
		return Query{}, fmt.Errorf("%w: more than one name", ErrBadQuery)
	}
	parts := strings.Split(s, "@")
	q.User = parts[0]
	if err := checkUser(q.User); err != nil {
		return Query{}, err
	}
	if len(parts)-1 > MaxHosts {
		return Query{}, fmt.Errorf("%w: more than %d hosts", ErrBadQuery, MaxHosts)
	}
	for _, h := range parts[1:] {
		if err := checkHost(h); err != nil {
			return Query{}, err
		}
		q.Hosts = append(q.Hosts, h)
	}
	return q, nil
}

// String returns the query line, without its line end, in the form
// ParseQuery reads back to the same Query.
func (q Query) String() string {
	var b strings.Builder
	if q.Verbose {
		b.WriteString("/W")
		if q.User != "" || len(q.Hosts) > 0 {
			b.WriteByte(' ')
		}
	}
	b.WriteString(q.User)
	for _, h := range q.Hosts {
		b.WriteByte('@')
		b.WriteString(h)
	}
	return b.String()
}

// Check reports whether q can be sent as a query line.
func (q Query) Check() error {
	if err := checkUser(q.User); err != nil {
		return err
	}
	if len(q.Hosts) > MaxHosts {
		return fmt.Errorf("%w: more than %d hosts", ErrBadQuery, MaxHosts)
	}
	for _, h := range q.Hosts {
		if err := checkHost(h); err != nil {
			return err
		}
	}
	return nil
}

func checkUser(u string) error {
	if len(u) > MaxUserLength {
		return fmt.Errorf("%w: user name longer than %d bytes", ErrBadQuery, MaxUserLength)
	}
	if strings.HasPrefix(u, "/") {
		return fmt.Errorf("%w: unknown token %q", ErrBadQuery, u)
	}
	return checkChars(u, "user name")
}

func checkHost(h string) error {
	if h == "" {
		return fmt.Errorf("%w: empty host name", ErrBadQuery)
	}
	if len(h) > MaxHostLength {
		return fmt.Errorf("%w: host name longer than %d bytes", ErrBadQuery, MaxHostLength)
	}
	return checkChars(h, "host name")
}

// checkChars refuses control characters (ErrBadArgument), blanks and '@'.
func checkChars(s, what string) error {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("%w in %s", ErrBadArgument, what)
		case c == ' ' || c == '@':
			return fmt.Errorf("%w: %q in %s", ErrBadQuery, c, what)
		}
	}
	return nil
}
