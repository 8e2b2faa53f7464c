package httpfs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// MaxListingEntries bounds the entries ParseListing returns.
const MaxListingEntries = 100_000

// ParseListing reads the directory listing at base (a URL ending in
// "/"): plumb's JSON (contentType application/json) or any HTML page
// with links, such as plumb's own, nginx's and Apache's autoindex and
// Python's http.server. It keeps only links to direct children of
// base, once each, named after the link's last path element;
// directories are links ending in "/". Sort links, parent links and
// links elsewhere are left out.
func ParseListing(base *url.URL, contentType string, body []byte) (*Listing, error) {
	if !strings.HasSuffix(base.Path, "/") {
		return nil, errors.New("httpfs: a listing's URL ends in /")
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	var hrefs []Entry
	switch mt {
	case "application/json":
		var l Listing
		if err := json.Unmarshal(body, &l); err != nil {
			return nil, fmt.Errorf("httpfs: JSON listing: %w", err)
		}
		hrefs = l.Entries
	default:
		z := html.NewTokenizer(bytes.NewReader(body))
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				break
			}
			if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
				continue
			}
			name, attr := z.TagName()
			if string(name) != "a" || !attr {
				continue
			}
			for {
				k, v, more := z.TagAttr()
				if string(k) == "href" {
					hrefs = append(hrefs, Entry{Href: string(v), Size: -1})
				}
				if !more {
					break
				}
			}
			if len(hrefs) > 4*MaxListingEntries {
				return nil, errors.New("httpfs: too many links in the listing")
			}
		}
	}
	out := &Listing{Path: base.Path}
	seen := map[string]bool{}
	for _, e := range hrefs {
		name, dir, ok := childOf(base, e.Href)
		if !ok || seen[name] {
			continue
		}
		seen[name] = true
		href := (&url.URL{Path: name}).EscapedPath()
		if strings.Contains(name, ":") {
			href = "./" + href
		}
		if dir {
			href += "/"
		}
		if !dir && e.Size < 0 {
			e.Size = -1
		}
		out.Entries = append(out.Entries, Entry{Name: name, Dir: dir, Size: e.Size, ModTime: e.ModTime, Href: href})
		if len(out.Entries) > MaxListingEntries {
			return nil, errors.New("httpfs: too many entries in the listing")
		}
	}
	return out, nil
}

// childOf resolves href against base and returns the name of the
// direct child of base it leads to.
func childOf(base *url.URL, href string) (name string, dir, ok bool) {
	ref, err := url.Parse(strings.TrimSpace(href))
	if err != nil || ref.RawQuery != "" || ref.ForceQuery || ref.Fragment != "" && ref.Path == "" {
		return "", false, false
	}
	u := base.ResolveReference(ref)
	if u.Scheme != base.Scheme || u.Host != base.Host || !strings.HasPrefix(u.Path, base.Path) {
		return "", false, false
	}
	rest := u.Path[len(base.Path):]
	rest, dir = strings.CutSuffix(rest, "/")
	if rest == "" || rest == "." || rest == ".." || strings.ContainsAny(rest, "/\\\x00") {
		return "", false, false
	}
	return rest, dir, true
}
