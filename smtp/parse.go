package smtp

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// Limits of RFC 5321 section 4.5.3.1 on the parts of a path.
const (
	maxLocalPart = 64
	maxDomain    = 255
	maxPath      = 256
)

// errSyntax is a parse failure; its text is safe to send to the peer.
type syntaxError string

func (e syntaxError) Error() string { return string(e) }

// parseCommand splits a command line (without CRLF) into its verb, in
// upper case, and the rest.
func parseCommand(line string) (verb, arg string, err error) {
	if line == "" {
		return "", "", syntaxError("Empty command")
	}
	for i := 0; i < len(line); i++ {
		if c := line[i]; c < ' ' && c != '\t' || c == 0x7f {
			return "", "", syntaxError("Control character in command")
		}
	}
	verb, arg, _ = strings.Cut(line, " ")
	if len(verb) > 16 || !isASCII(verb) {
		return "", "", syntaxError("Command unrecognized")
	}
	return strings.ToUpper(verb), strings.TrimSpace(arg), nil
}

// A param is one ESMTP parameter, KEY or KEY=VALUE.
type param struct {
	Key, Value string
	HasValue   bool
}

// parsePathArg parses the argument of MAIL or RCPT: prefix ("FROM:" or
// "TO:"), optional spaces (a common client laxity), a path in angle
// brackets, and ESMTP parameters. null allows "<>". utf8 allows UTF-8
// in the path (SMTPUTF8).
func parsePathArg(arg, prefix string, null, utf8ok bool) (addr string, params []param, err error) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", nil, syntaxError("Syntax: " + strings.TrimSuffix(prefix, ":") + ":<address>")
	}
	rest := strings.TrimLeft(arg[len(prefix):], " ")
	if !strings.HasPrefix(rest, "<") {
		return "", nil, syntaxError("Address must be in angle brackets")
	}
	end := closingBracket(rest)
	if end < 0 {
		return "", nil, syntaxError("Unbalanced angle brackets")
	}
	path := rest[1:end]
	rest = rest[end+1:]
	if rest != "" && rest[0] != ' ' {
		return "", nil, syntaxError("Space required after address")
	}
	addr, err = parsePath(path, null, utf8ok)
	if err != nil {
		return "", nil, err
	}
	params, err = parseParams(strings.TrimLeft(rest, " "), utf8ok)
	return addr, params, err
}

// closingBracket returns the index of the '>' closing s's leading '<',
// skipping quoted strings, or -1.
func closingBracket(s string) int {
	quoted := false
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == '>':
			return i
		}
	}
	return -1
}

// parsePath checks a path's content (between the brackets) and returns
// the mailbox, with any source route dropped (RFC 5321 section 4.1.2
// says to ignore it). null allows the empty path.
func parsePath(path string, null, utf8ok bool) (string, error) {
	if path == "" {
		if null {
			return "", nil
		}
		return "", syntaxError("Empty address")
	}
	if len(path) > maxPath {
		return "", syntaxError("Path too long")
	}
	if path[0] == '@' { // A-d-l: "@one,@two:user@host"
		i := strings.IndexByte(path, ':')
		if i < 0 {
			return "", syntaxError("Bad source route")
		}
		for _, hop := range strings.Split(path[:i], ",") {
			if len(hop) < 2 || hop[0] != '@' || checkDomain(hop[1:], false) != nil {
				return "", syntaxError("Bad source route")
			}
		}
		path = path[i+1:]
	}
	if strings.EqualFold(path, "postmaster") {
		return path, nil
	}
	if err := CheckMailbox(path, utf8ok); err != nil {
		return "", err
	}
	return path, nil
}

// CheckMailbox reports whether addr is a mailbox local-part@domain as
// RFC 5321 section 4.1.2 allows (with UTF-8 when utf8ok, RFC 6531).
func CheckMailbox(addr string, utf8ok bool) error {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return syntaxError("Address must be local-part@domain")
	}
	local, domain := addr[:at], addr[at+1:]
	if len(local) > maxLocalPart {
		return syntaxError("Local part too long")
	}
	if err := checkLocal(local, utf8ok); err != nil {
		return err
	}
	return checkDomain(domain, utf8ok)
}

func checkLocal(local string, utf8ok bool) error {
	if !utf8.ValidString(local) {
		return syntaxError("Address is not valid UTF-8")
	}
	if local[0] == '"' {
		if len(local) < 2 || local[len(local)-1] != '"' {
			return syntaxError("Bad quoted local part")
		}
		q := local[1 : len(local)-1]
		for i := 0; i < len(q); i++ {
			c := q[i]
			switch {
			case c == '\\':
				if i+1 >= len(q) || q[i+1] < ' ' || q[i+1] > '~' {
					return syntaxError("Bad quoted local part")
				}
				i++
			case c == '"' || c < ' ' || c == 0x7f:
				return syntaxError("Bad quoted local part")
			case c >= 0x80 && !utf8ok:
				return syntaxError("UTF-8 address needs SMTPUTF8")
			}
		}
		return nil
	}
	for _, atom := range strings.Split(local, ".") {
		if atom == "" {
			return syntaxError("Bad dots in local part")
		}
		for _, r := range atom {
			if r >= 0x80 {
				if !utf8ok {
					return syntaxError("UTF-8 address needs SMTPUTF8")
				}
				continue
			}
			if !isAtext(byte(r)) {
				return syntaxError("Bad character in local part")
			}
		}
	}
	return nil
}

func isAtext(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

func checkDomain(d string, utf8ok bool) error {
	if d == "" || len(d) > maxDomain {
		return syntaxError("Bad domain")
	}
	if d[0] == '[' { // address literal
		if d[len(d)-1] != ']' || len(d) < 3 {
			return syntaxError("Bad address literal")
		}
		for i := 1; i < len(d)-1; i++ {
			if c := d[i]; c < '!' || c > '~' || c == '[' || c == ']' || c == '\\' {
				return syntaxError("Bad address literal")
			}
		}
		return nil
	}
	if !utf8.ValidString(d) {
		return syntaxError("Domain is not valid UTF-8")
	}
	for _, label := range strings.Split(strings.TrimSuffix(d, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return syntaxError("Bad domain")
		}
		for _, r := range label {
			switch {
			case r >= 0x80:
				if !utf8ok {
					return syntaxError("UTF-8 domain needs SMTPUTF8")
				}
			case r == '-' || r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9':
			default:
				return syntaxError("Bad character in domain")
			}
		}
	}
	return nil
}

// parseParams parses "KEY=VALUE KEY ..." (RFC 5321 esmtp-param).
func parseParams(s string, utf8ok bool) ([]param, error) {
	var params []param
	for _, f := range strings.Fields(s) {
		k, v, hasValue := strings.Cut(f, "=")
		if k == "" {
			return nil, syntaxError("Bad parameter")
		}
		for i := 0; i < len(k); i++ {
			c := k[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' && i > 0) {
				return nil, syntaxError("Bad parameter name")
			}
		}
		if hasValue && v == "" {
			return nil, syntaxError("Empty parameter value")
		}
		for i := 0; i < len(v); i++ {
			if c := v[i]; c < '!' || c == '=' || c == 0x7f || c >= 0x80 && !utf8ok {
				return nil, syntaxError("Bad parameter value")
			}
		}
		params = append(params, param{Key: strings.ToUpper(k), Value: v, HasValue: hasValue})
	}
	return params, nil
}

// checkXtext reports whether s is RFC 3461 xtext: printable ASCII
// without '+' and '=' except in "+XX" hex escapes.
func checkXtext(s string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			if i+2 >= len(s) || !isUpperHex(s[i+1]) || !isUpperHex(s[i+2]) {
				return errors.New("bad xtext escape")
			}
			i += 2
		case c < '!' || c > '~' || c == '=':
			return errors.New("bad xtext character")
		}
	}
	return nil
}

func isUpperHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }
