package httpfs

import (
	"net/http"
	"net/url"
	"strings"
)

// ifHeaderFails reports whether the WebDAV If header (RFC 4918 §10.4)
// of r is false by its entity-tag conditions alone: every list holds an
// entity tag that does not match (or, under Not, matches) its
// resource's current ETag. The webdav package evaluates the state
// tokens (locks) but not the entity tags; this is the other half.
// current returns the ETag of a path under /dav/ ("" when it does not
// exist). A header it cannot read is left to the webdav package.
func ifHeaderFails(r *http.Request, current func(davPath string) string) bool {
	h := r.Header.Get("If")
	if h == "" || len(h) > 8<<10 {
		return false
	}
	lists, ok := parseIfLists(h)
	if !ok || len(lists) == 0 {
		return false
	}
	cache := map[string]string{}
	tagOf := func(resource string) (string, bool) {
		p := r.URL.Path
		if resource != "" {
			u, err := url.Parse(resource)
			if err != nil || (u.Host != "" && u.Host != r.Host) {
				return "", false
			}
			p = u.Path
		}
		dp, ok := strings.CutPrefix(p, "/dav")
		if !ok {
			return "", false
		}
		if t, ok := cache[dp]; ok {
			return t, true
		}
		t := current(dp)
		cache[dp] = t
		return t, true
	}
	for _, l := range lists {
		if !l.falseByTags(tagOf) {
			return false
		}
	}
	return true
}

type ifCondition struct {
	not  bool
	etag string // empty for a state token
}

type ifList struct {
	resource string // the Resource-Tag, "" for the request URI
	conds    []ifCondition
}

// falseByTags reports whether one of the list's entity-tag conditions
// is false.
func (l ifList) falseByTags(tagOf func(string) (string, bool)) bool {
	for _, c := range l.conds {
		if c.etag == "" {
			continue
		}
		cur, ok := tagOf(l.resource)
		if !ok {
			return false
		}
		match := cur != "" && identityTag(strings.TrimPrefix(c.etag, "W/")) == identityTag(cur)
		if match == c.not {
			return true
		}
	}
	return false
}

// identityTag is the ETag of the identity encoding for the tag of a
// gzip variant ("…-gz").
func identityTag(tag string) string {
	if t, ok := strings.CutSuffix(tag, `-gz"`); ok {
		return t + `"`
	}
	return tag
}

// parseIfLists reads the If header's lists, each with its resource tag.
func parseIfLists(h string) ([]ifList, bool) {
	var out []ifList
	resource := ""
	s := strings.TrimSpace(h)
	for s != "" {
		switch s[0] {
		case '<':
			end := strings.IndexByte(s, '>')
			if end < 0 {
				return nil, false
			}
			resource = s[1:end]
			s = s[end+1:]
		case '(':
			end := strings.IndexByte(s, ')')
			if end < 0 {
				return nil, false
			}
			conds, ok := parseIfConditions(s[1:end])
			if !ok {
				return nil, false
			}
			out = append(out, ifList{resource: resource, conds: conds})
			s = s[end+1:]
		default:
			return nil, false
		}
		s = strings.TrimSpace(s)
	}
	return out, true
}

func parseIfConditions(s string) ([]ifCondition, bool) {
	var out []ifCondition
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		c := ifCondition{}
		if rest, ok := strings.CutPrefix(s, "Not"); ok {
			c.not, s = true, strings.TrimSpace(rest)
		}
		if s == "" {
			return nil, false
		}
		var close byte = '>'
		if s[0] == '[' {
			close = ']'
		} else if s[0] != '<' {
			return nil, false
		}
		end := strings.IndexByte(s, close)
		if end < 0 {
			return nil, false
		}
		if close == ']' {
			c.etag = s[1:end]
		}
		out = append(out, c)
		s = s[end+1:]
	}
	return out, len(out) > 0
}
