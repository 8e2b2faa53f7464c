package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Limits on a netrc file, which may be written by anyone who can write
// the user's home directory.
const (
	maxNetrcSize  = 1 << 20
	maxNetrcToken = 4096
)

// netrcEntry is one "machine" (or the "default") of a netrc file.
type netrcEntry struct {
	machine  string // empty for default
	login    string
	password string
}

// parseNetrc parses the netrc format ftp(1) and curl read: tokens
// separated by white space, "machine NAME" starting an entry, "login",
// "password" and "account" inside it, "default" matching any machine,
// "macdef NAME" followed by lines up to an empty one, which are skipped.
// Tokens may be double-quoted with backslash escapes, as curl allows.
func parseNetrc(data string) ([]netrcEntry, error) {
	if len(data) > maxNetrcSize {
		return nil, fmt.Errorf("netrc: larger than %d bytes", maxNetrcSize)
	}
	var entries []netrcEntry
	var cur *netrcEntry
	p := &netrcLexer{s: data}
	for {
		tok, err := p.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch tok {
		case "machine", "default":
			entries = append(entries, netrcEntry{})
			cur = &entries[len(entries)-1]
			if tok == "machine" {
				if cur.machine, err = p.value(tok); err != nil {
					return nil, err
				}
			}
		case "login", "password", "account":
			v, err := p.value(tok)
			if err != nil {
				return nil, err
			}
			if cur == nil {
				return nil, fmt.Errorf("netrc: %q before any machine", tok)
			}
			switch tok {
			case "login":
				cur.login = v
			case "password":
				cur.password = v
			}
		case "macdef":
			if _, err := p.value(tok); err != nil {
				return nil, err
			}
			p.skipMacro()
		default:
			return nil, fmt.Errorf("netrc: unknown token %q", truncateText(tok, 40))
		}
	}
	return entries, nil
}

type netrcLexer struct {
	s string
	i int
}

func (p *netrcLexer) next() (string, error) {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
	if p.i < len(p.s) && p.s[p.i] == '#' { // a comment to the end of the line
		for p.i < len(p.s) && p.s[p.i] != '\n' {
			p.i++
		}
		return p.next()
	}
	if p.i == len(p.s) {
		return "", io.EOF
	}
	var b strings.Builder
	if p.s[p.i] == '"' {
		p.i++
		for ; p.i < len(p.s) && p.s[p.i] != '"'; p.i++ {
			if p.s[p.i] == '\\' && p.i+1 < len(p.s) {
				p.i++
			}
			b.WriteByte(p.s[p.i])
			if b.Len() > maxNetrcToken {
				return "", errors.New("netrc: token too long")
			}
		}
		if p.i == len(p.s) {
			return "", errors.New("netrc: unterminated quoted token")
		}
		p.i++
		return b.String(), nil
	}
	start := p.i
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) < 0 {
		p.i++
	}
	if p.i-start > maxNetrcToken {
		return "", errors.New("netrc: token too long")
	}
	return p.s[start:p.i], nil
}

func (p *netrcLexer) value(key string) (string, error) {
	v, err := p.next()
	if err == io.EOF {
		return "", fmt.Errorf("netrc: %q without a value", key)
	}
	return v, err
}

// skipMacro skips a macro body: the lines after macdef, to an empty line.
func (p *netrcLexer) skipMacro() {
	if j := strings.Index(p.s[p.i:], "\n\n"); j >= 0 {
		p.i += j + 2
	} else {
		p.i = len(p.s)
	}
}

// netrcLookup finds the login and password for host (and user, when
// given) in the netrc file named by path, or $NETRC, or ~/.netrc. A
// missing file is no error; found is false.
func netrcLookup(path, host, user string) (login, password string, found bool, err error) {
	if path == "" {
		path = os.Getenv("NETRC")
	}
	if path == "" {
		home, herr := os.UserHomeDir()
		if herr != nil {
			return "", "", false, nil
		}
		path = filepath.Join(home, ".netrc")
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxNetrcSize+1))
	if err != nil {
		return "", "", false, err
	}
	entries, err := parseNetrc(string(data))
	if err != nil {
		return "", "", false, fmt.Errorf("%s: %w", path, err)
	}
	for _, e := range entries {
		if (e.machine == "" || strings.EqualFold(e.machine, host)) && (user == "" || e.login == user) {
			return e.login, e.password, true, nil
		}
	}
	return "", "", false, nil
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
