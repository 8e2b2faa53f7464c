package gopher

import (
	"io/fs"
	"strings"
	"testing"
)

// FuzzParseRequest: a selector the parser takes never leaves its tree
// (no "..", ".", empty or hidden element, no backslash, a valid
// io/fs path), and it reads back as the same request from the selector
// the server would print for it.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{"", "/", "/a/b.txt", "/~alice/x/", "/../x", "/a\tb", "URL:https://x/", "~bob", "/a//b", "/.x", "x\\y", "/a\t+", "/\twords\t+"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, err := parseRequest(line, 256)
		if err != nil {
			if _, ok := isSelectorError(err); !ok {
				t.Fatalf("parseRequest(%q) = %v, want an errSelector", line, err)
			}
			return
		}
		if len(line) > 256 {
			t.Fatalf("parseRequest took a %d-byte line over the limit 256", len(line))
		}
		if r.web != "" {
			if !webURL(r.web) {
				t.Fatalf("parseRequest(%q) took web address %q", line, r.web)
			}
		} else {
			if !fs.ValidPath(r.path) {
				t.Fatalf("parseRequest(%q).path = %q, not a valid fs path", line, r.path)
			}
			for _, el := range strings.Split(r.path, "/") {
				if r.path != "." && (el == "" || el[0] == '.' || strings.Contains(el, "\\")) {
					t.Fatalf("parseRequest(%q).path = %q has element %q", line, r.path, el)
				}
			}
			if r.user != "" && !userName(r.user) {
				t.Fatalf("parseRequest(%q).user = %q", line, r.user)
			}
		}
		if strings.ContainsAny(r.path+r.user+r.search+r.web, "\r\n\x00") {
			t.Fatalf("parseRequest(%q) = %+v holds a control character", line, r)
		}
		again := r.selector()
		if r.search != "" {
			again += "\t" + r.search
		}
		r2, err := parseRequest(again, 1<<20)
		if err != nil || r2 != r {
			t.Fatalf("parseRequest(%q) = %+v; its selector %q reads back as %+v, %v", line, r, again, r2, err)
		}
	})
}

// FuzzGophermap: whatever a gophermap holds, every item it yields is a
// menu line that ParseItem reads back as the same item.
func FuzzGophermap(f *testing.F) {
	for _, s := range []string{"!t\ninfo\n1a\tb\tc\t70\n-x\n:png=g\n=inc\n*\n", "0x\t\n.\nrest", "\t\t\t\n", "i\tTITLE\n", "~\n%\n#c\n", "0a\tb\tc\tnotaport\tmore"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		m := parseGophermap(text)
		if len(m.entries) > MaxMapLines {
			t.Fatalf("%d entries from one map, over MaxMapLines", len(m.entries))
		}
		mb := &menuBuilder{host: "h", port: 70, user: "", s: &Server{}}
		for _, e := range m.entries {
			if e.kind != entryItem {
				continue
			}
			it := mb.local(e.item, "d")
			line := it.Line()
			if strings.ContainsAny(line, "\r\n\x00") || strings.Count(line, "\t") != 3 {
				t.Fatalf("map %q gave menu line %q", text, line)
			}
			back, err := ParseItem(line)
			if err != nil {
				t.Fatalf("ParseItem(%q) = %v", line, err)
			}
			if want := normalized(it); back != want && back.Type != TypeInfo {
				t.Fatalf("ParseItem(%q) = %+v, want %+v", line, back, want)
			}
		}
	})
}

// normalized is it as Line writes it.
func normalized(it Item) Item {
	if it.Type <= ' ' || it.Type >= 0x7f {
		it.Type = TypeInfo
	}
	it.Display, it.Selector, it.Host = field(it.Display), field(it.Selector), field(it.Host)
	return it
}

// FuzzParseURL: a URL ParseURL takes prints as one it reads back the same.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"gopher://h/", "gophers://h:1/0/a%09b", "gopher://[::1]/7x?y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := ParseURL(raw)
		if err != nil {
			return
		}
		if strings.ContainsAny(u.Selector+u.Search, "\r\n\x00") || strings.Contains(u.Selector, "\t") {
			t.Fatalf("ParseURL(%q) = %+v holds a control character", raw, u)
		}
		again, err := ParseURL(u.String())
		if err != nil || again != u {
			t.Fatalf("ParseURL(%q) = %+v; String %q reads back as %+v, %v", raw, u, u.String(), again, err)
		}
	})
}
