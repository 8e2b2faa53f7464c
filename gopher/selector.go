package gopher

import (
	"errors"
	"net/url"
	"path"
	"strings"
	"unicode/utf8"
)

// MaxDepth bounds the directories of a selector's path.
const MaxDepth = 64

// A request is a selector line as the server reads it: which tree,
// which path in it, and the words of a search.
type request struct {
	user   string // the tree of "/~user/"; "" is the server's root tree
	path   string // slash-separated, relative to the tree's top: "." for the top
	dir    bool   // the selector ended in "/"
	search string // after the first TAB: a type-7 search's words
	web    string // a "URL:" selector: the address to send the client to
}

// errSelector is a selector the server refuses; its text is what the
// client is told in the type-3 error item.
type errSelector string

func (e errSelector) Error() string { return string(e) }

var (
	errTooLong = errSelector("Selector too long")
	errControl = errSelector("Selector holds a control character")
	errJail    = errSelector("Selector leaves the tree or names a hidden file")
	errNoUser  = errSelector("No such user")
)

// parseRequest takes a request line (its CRLF removed) apart: the
// selector up to the first TAB, the search words up to a second one
// (anything after it is Gopher+ and ignored, as is a lone Gopher+ "+",
// "!" or "$" in place of the words). A selector is a path: a leading
// "/" is optional, "/~user/" starts a user's tree, and "..", ".",
// empty elements, names starting with "." and backslashes are refused,
// so no selector reaches outside its tree.
func parseRequest(line string, maxLen int) (request, error) {
	if len(line) > maxLen {
		return request{}, errTooLong
	}
	for i := 0; i < len(line); i++ {
		if c := line[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return request{}, errControl
		}
	}
	if !utf8.ValidString(line) {
		return request{}, errSelector("Selector is not UTF-8")
	}
	sel, rest, _ := strings.Cut(line, "\t")
	search, _, _ := strings.Cut(rest, "\t")
	switch search {
	case "+", "!", "$":
		search = ""
	}
	if web, ok := strings.CutPrefix(sel, "URL:"); ok {
		if !webURL(web) {
			return request{}, errSelector("Not a URL this server links to")
		}
		return request{web: web}, nil
	}
	r := request{search: search}
	p := strings.TrimPrefix(sel, "/")
	if name, ok := strings.CutPrefix(p, "~"); ok {
		name, p, _ = strings.Cut(name, "/")
		if !userName(name) {
			return request{}, errNoUser
		}
		r.user = name
		if p == "" {
			r.dir = true
		}
	}
	if p == "" {
		r.path = "."
		return r, nil
	}
	if strings.HasSuffix(p, "/") {
		r.dir = true
		p = strings.TrimSuffix(p, "/")
	}
	els := strings.Split(p, "/")
	if len(els) > MaxDepth {
		return request{}, errTooLong
	}
	for _, el := range els {
		if el == "" || el[0] == '.' || strings.ContainsRune(el, '\\') {
			return request{}, errJail
		}
	}
	r.path = p
	return r, nil
}

// userName reports whether s may name a user's tree: a name of account
// characters, which the backend then looks up.
func userName(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '.' || s[0] == '-' {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// webURL reports whether s is an address an h item may send a client to:
// absolute, of a scheme that runs no code in a browser.
func webURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "javascript", "data", "vbscript", "file":
		return false
	}
	return true
}

// selector is the selector of a request, which parseRequest reads back
// as the same request.
func (r request) selector() string {
	if r.web != "" {
		return "URL:" + r.web
	}
	return selectorOf(r.user, r.path, r.dir)
}

// selectorOf is the selector of name (relative to the tree of user) in
// the server's own menus; dir ends it in "/".
func selectorOf(user, name string, dir bool) string {
	s := "/"
	if user != "" {
		s = "/~" + user + "/"
	}
	if name != "." && name != "" {
		s += name
		if dir {
			s += "/"
		}
	}
	return s
}

// join resolves a gophermap's relative selector against the
// directory dir of the tree of user.
func join(user, dir, rel string) string {
	return selectorOf(user, path.Join(dir, rel), strings.HasSuffix(rel, "/"))
}

// isSelectorError reports whether err is a refusal the client is told.
func isSelectorError(err error) (errSelector, bool) {
	var e errSelector
	ok := errors.As(err, &e)
	return e, ok
}
