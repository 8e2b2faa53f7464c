package httpfs

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const nginxAutoindex = `<html>
<head><title>Index of /pub/</title></head>
<body>
<h1>Index of /pub/</h1><hr><pre><a href="../">../</a>
<a href="docs/">docs/</a>                                              01-Dec-2026 23:41       -
<a href="a%20b.txt">a b.txt</a>                                            01-Dec-2026 23:41      12
<a href="http://elsewhere/x">x</a>
</pre><hr></body>
</html>`

const apacheAutoindex = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<html><head><title>Index of /pub</title></head><body><h1>Index of /pub</h1>
<table><tr><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th></tr>
<tr><td><a href="/">Parent Directory</a></td></tr>
<tr><td><a href="docs/">docs/</a></td></tr>
<tr><td><a href="a%20b.txt">a b.txt</a></td></tr>
<tr><td><a href="/pub/a%20b.txt">again</a></td></tr>
</table></body></html>`

func TestParseListingAutoindex(t *testing.T) {
	base, _ := url.Parse("http://h/pub/")
	for name, page := range map[string]string{"nginx": nginxAutoindex, "apache": apacheAutoindex} {
		l, err := ParseListing(base, "text/html", []byte(page))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got []string
		for _, e := range l.Entries {
			s := e.Name
			if e.Dir {
				s += "/"
			}
			got = append(got, s)
		}
		if strings.Join(got, "|") != "docs/|a b.txt" {
			t.Errorf("ParseListing(%s) = %q, want docs/ and a b.txt", name, got)
		}
	}
}

// FuzzParseListing checks that whatever a page holds, every entry is
// one direct child of the base, named once, with an href that leads
// back to it; and that our own listing of those entries parses back to
// the same names.
func FuzzParseListing(f *testing.F) {
	f.Add("text/html", nginxAutoindex)
	f.Add("text/html", apacheAutoindex)
	f.Add("application/json", `{"path":"/pub/","entries":[{"name":"x","href":"x"},{"name":"d","dir":true,"href":"../d/"}]}`)
	f.Add("text/html", `<a href="a/../../b">x</a><a href="%2e%2e/">y</a><a href="c:d">z</a><a href="./e%2Ff">`)
	base, _ := url.Parse("http://h/pub/")
	f.Fuzz(func(t *testing.T, ct, page string) {
		l, err := ParseListing(base, ct, []byte(page))
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, e := range l.Entries {
			if seen[e.Name] || e.Name == "" || e.Name == "." || e.Name == ".." || strings.ContainsAny(e.Name, "/\\\x00") {
				t.Fatalf("bad or repeated name %q in %+v", e.Name, l.Entries)
			}
			seen[e.Name] = true
			name, dir, ok := childOf(base, e.Href)
			if !ok || name != e.Name || dir != e.Dir {
				t.Fatalf("href %q of %q leads to %q (dir %v, ok %v)", e.Href, e.Name, name, dir, ok)
			}
			e.ModTime = time.Time{}
		}
		again, err := ParseListing(base, "text/html", listingHTML(Listing{Path: "/pub/", Entries: l.Entries}, "", false))
		if err != nil || len(again.Entries) != len(l.Entries) {
			t.Fatalf("our listing of %+v parses back as %+v, %v", l.Entries, again, err)
		}
		for i := range again.Entries {
			if again.Entries[i].Name != l.Entries[i].Name || again.Entries[i].Dir != l.Entries[i].Dir {
				t.Fatalf("entry %d: %+v parses back as %+v", i, l.Entries[i], again.Entries[i])
			}
		}
	})
}

func TestIfHeaderEntityTags(t *testing.T) {
	cur := func(p string) string {
		if p == "/f" {
			return `"v1"`
		}
		return ""
	}
	for h, want := range map[string]bool{
		`(<urn:x> ["bogus"]) (Not <DAV:no-lock> ["bogus"])`: true,
		`(<urn:x> ["v1"]) (Not <DAV:no-lock> ["v1"])`:       false,
		`(Not ["v1"])`:                     true,
		`(["v1-gz"])`:                      false,
		`(<urn:x>)`:                        false,
		`</dav/other> (["v1"])`:            true,
		`(["bogus"]) (<urn:only-a-token>)`: false,
		`(["unterminated`:                  false,
	} {
		r, _ := http.NewRequest("PUT", "http://h/dav/f", nil)
		r.Header.Set("If", h)
		if got := ifHeaderFails(r, cur); got != want {
			t.Errorf("If: %s fails = %v, want %v", h, got, want)
		}
	}
}

// formatIf writes lists back in the If header's syntax.
func formatIf(lists []ifList) string {
	var b strings.Builder
	for _, l := range lists {
		if l.resource != "" {
			b.WriteString("<" + l.resource + "> ")
		}
		b.WriteString("(")
		for i, c := range l.conds {
			if i > 0 {
				b.WriteString(" ")
			}
			if c.not {
				b.WriteString("Not ")
			}
			if c.etag != "" {
				b.WriteString("[" + c.etag + "]")
			} else {
				b.WriteString("<urn:t>")
			}
		}
		b.WriteString(") ")
	}
	return b.String()
}

// FuzzIfHeader checks that the If header parser reads what it prints
// back to the same lists (state tokens aside), whatever it is given.
func FuzzIfHeader(f *testing.F) {
	f.Add(`(<urn:x> ["bogus"]) (Not <DAV:no-lock> ["bogus"])`)
	f.Add(`</dav/a> (["e1"] Not ["e2"]) </dav/b> (<urn:y>)`)
	f.Add(`((`)
	f.Fuzz(func(t *testing.T, h string) {
		lists, ok := parseIfLists(h)
		if !ok {
			return
		}
		again, ok := parseIfLists(formatIf(lists))
		if !ok || len(again) != len(lists) {
			t.Fatalf("%q parsed as %+v, printed %q, parsed again as %+v (%v)", h, lists, formatIf(lists), again, ok)
		}
		for i := range lists {
			if again[i].resource != lists[i].resource || len(again[i].conds) != len(lists[i].conds) {
				t.Fatalf("list %d: %+v then %+v", i, lists[i], again[i])
			}
			for j, c := range lists[i].conds {
				if again[i].conds[j] != c {
					t.Fatalf("condition %d.%d: %+v then %+v", i, j, c, again[i].conds[j])
				}
			}
		}
	})
}
