package gopher

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// DefaultPort is gopher's well-known port (RFC 1436), for gopher:// and
// gophers:// URLs alike: TLS is found on the same port by its first
// byte.
const DefaultPort = 70

// A URL is a gopher:// (RFC 4266) or gophers:// URL taken apart:
// gopher://host:port/<type><selector>%09<search>.
type URL struct {
	TLS      bool   // gophers://
	Host     string // host:port, the port always present
	Type     byte   // the item's type; TypeMenu when the path is empty
	Selector string
	Search   string // the words of a type-7 search; empty otherwise
}

// ParseURL parses a gopher:// or gophers:// URL. The selector is the
// path after its type character, percent-decoded; "%09" separates the
// search words (RFC 4266 section 2.1).
func ParseURL(raw string) (URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return URL{}, err
	}
	var g URL
	switch strings.ToLower(u.Scheme) {
	case "gopher":
	case "gophers":
		g.TLS = true
	default:
		return URL{}, fmt.Errorf("gopher: %q is not a gopher:// or gophers:// URL", raw)
	}
	if u.Hostname() == "" {
		return URL{}, fmt.Errorf("gopher: %q has no host", raw)
	}
	if strings.Contains(u.Hostname(), ":") && !strings.HasPrefix(u.Host, "[") {
		return URL{}, fmt.Errorf("gopher: %q: an IPv6 address goes in brackets", raw)
	}
	port := u.Port()
	if port == "" {
		port = strconv.Itoa(DefaultPort)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return URL{}, fmt.Errorf("gopher: %q: bad port %q", raw, port)
	}
	g.Host = net.JoinHostPort(u.Hostname(), port)
	p := u.EscapedPath()
	if u.RawQuery != "" || u.ForceQuery {
		p += "%3F" + u.RawQuery // a "?" belongs to the selector in gopher
	}
	p, err = url.PathUnescape(strings.TrimPrefix(p, "/"))
	if err != nil {
		return URL{}, fmt.Errorf("gopher: %q: %w", raw, err)
	}
	if p == "" {
		g.Type = TypeMenu
		return g, nil
	}
	g.Type = p[0]
	if g.Type <= ' ' || g.Type >= 0x7f {
		return URL{}, fmt.Errorf("gopher: %q: item type %q is not a printable ASCII character", raw, g.Type)
	}
	sel, search, _ := strings.Cut(p[1:], "\t")
	search, _, _ = strings.Cut(search, "\t") // a Gopher+ string after a second TAB is not ours to send
	if strings.ContainsAny(sel+search, "\r\n\x00") {
		return URL{}, fmt.Errorf("%w: %q holds CR, LF or NUL", ErrBadArgument, raw)
	}
	g.Selector, g.Search = sel, search
	return g, nil
}

// String formats u as a URL that ParseURL reads back as u.
func (u URL) String() string {
	scheme := "gopher"
	if u.TLS {
		scheme = "gophers"
	}
	t := u.Type
	if t == 0 {
		t = TypeMenu
	}
	path := string([]byte{t}) + u.Selector
	if u.Search != "" {
		path += "\t" + u.Search
	}
	esc := (&url.URL{Path: "/" + path}).EscapedPath()
	esc = strings.ReplaceAll(esc, "?", "%3F")
	return scheme + "://" + u.Host + esc
}

// URL returns where the item leads: its host and port with its type and
// selector, over TLS when tls is set (a link followed from a menu read
// over TLS stays on TLS when it names the same server).
func (it Item) URL(tls bool) URL {
	return URL{TLS: tls, Host: net.JoinHostPort(it.Host, strconv.Itoa(it.Port)), Type: it.Type, Selector: it.Selector}
}

// WebURL returns the address of an h item whose selector is "URL:..."
// (the convention that links a menu out of gopherspace), and whether it
// is one.
func (it Item) WebURL() (string, bool) {
	if !strings.HasPrefix(it.Selector, "URL:") {
		return "", false
	}
	return strings.TrimPrefix(it.Selector, "URL:"), true
}
