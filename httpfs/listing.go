package httpfs

import (
	"cmp"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Listing is a directory as the JSON listing has it, and as
// [ParseListing] reads any listing back.
type Listing struct {
	Path    string  `json:"path"`
	Entries []Entry `json:"entries"`
}

// Entry is one name in a Listing.
type Entry struct {
	Name    string    `json:"name"`
	Dir     bool      `json:"dir"`
	Size    int64     `json:"size"`           // bytes; -1 when unknown
	ModTime time.Time `json:"mtime,omitzero"` // zero when unknown
	Href    string    `json:"href"`           // relative URL of the entry ("a%20b.txt", "sub/")
}

// list answers a directory: JSON for "Accept: application/json", else
// HTML, sorted as ?sort=name|size|date&order=asc|desc ask.
func (s *Server) list(w http.ResponseWriter, r *http.Request, t FS, name string) {
	fis, err := t.ReadDir(r.Context(), name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	l := Listing{Path: r.URL.Path, Entries: make([]Entry, 0, len(fis))}
	for _, fi := range fis {
		e := Entry{Name: fi.Name(), Dir: fi.IsDir(), Size: fi.Size(), ModTime: fi.ModTime().UTC(),
			Href: (&url.URL{Path: fi.Name()}).EscapedPath()}
		if strings.Contains(fi.Name(), ":") && !strings.HasPrefix(e.Href, "./") {
			e.Href = "./" + e.Href // not a scheme
		}
		if e.Dir {
			e.Size = -1
			e.Href += "/"
		}
		l.Entries = append(l.Entries, e)
	}
	q := r.URL.Query()
	key, desc := q.Get("sort"), q.Get("order") == "desc"
	sortEntries(l.Entries, key, desc)
	h := w.Header()
	h.Add("Vary", "Accept")
	h.Set("Cache-Control", "no-cache")
	if acceptsJSON(r) {
		h.Set("Content-Type", "application/json")
		b, _ := json.Marshal(l)
		w.Write(append(b, '\n'))
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.Write(listingHTML(l, key, desc))
}

func acceptsJSON(r *http.Request) bool {
	for _, a := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := strings.Cut(a, ";")
		if strings.TrimSpace(mt) == "application/json" {
			return true
		}
	}
	return false
}

// sortEntries orders directories first, then by key.
func sortEntries(es []Entry, key string, desc bool) {
	slices.SortStableFunc(es, func(a, b Entry) int {
		if a.Dir != b.Dir {
			if a.Dir {
				return -1
			}
			return 1
		}
		var c int
		switch key {
		case "size":
			c = cmp.Compare(a.Size, b.Size)
		case "date":
			c = a.ModTime.Compare(b.ModTime)
		}
		if c == 0 {
			c = strings.Compare(a.Name, b.Name)
		}
		if desc {
			c = -c
		}
		return c
	})
}

const listingStyle = `body{font:16px/1.4 system-ui,sans-serif;margin:0 auto;max-width:60em;padding:.5em}
table{border-collapse:collapse;width:100%}th,td{padding:.35em .5em;text-align:left}
tr:nth-child(even){background:#f4f4f4}td.s,th.s{text-align:right;white-space:nowrap}
td.n{word-break:break-all}a{text-decoration:none}th a{color:inherit}
@media(max-width:40em){td.d,th.d{display:none}}`

// listingHTML renders l; every name is escaped, every link is a
// relative, path-escaped URL.
func listingHTML(l Listing, key string, desc bool) []byte {
	var b strings.Builder
	title := html.EscapeString(l.Path)
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n")
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	b.WriteString("<title>Index of " + title + "</title>\n<style>" + listingStyle + "</style></head>\n<body>\n")
	b.WriteString("<h1>Index of " + title + "</h1>\n<table>\n<thead><tr>")
	for _, c := range []struct{ key, label, class string }{{"name", "Name", "n"}, {"size", "Size", "s"}, {"date", "Modified (UTC)", "d"}} {
		order := "asc"
		arrow := ""
		if c.key == key || (key == "" && c.key == "name") {
			arrow = " ▲"
			if desc {
				arrow = " ▼"
			} else {
				order = "desc"
			}
		}
		b.WriteString(`<th class="` + c.class + `"><a href="?sort=` + c.key + "&amp;order=" + order + `">` + c.label + arrow + "</a></th>")
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	if l.Path != "/" {
		b.WriteString("<tr><td class=\"n\"><a href=\"../\">../</a></td><td class=\"s\">-</td><td class=\"d\"></td></tr>\n")
	}
	for _, e := range l.Entries {
		name := html.EscapeString(e.Name)
		size := "-"
		if e.Dir {
			name += "/"
		} else {
			size = `<span title="` + strconv.FormatInt(e.Size, 10) + ` bytes">` + humanSize(e.Size) + "</span>"
		}
		b.WriteString(`<tr><td class="n"><a href="` + html.EscapeString(e.Href) + `">` + name + `</a></td><td class="s">` + size +
			`</td><td class="d">` + e.ModTime.Format("2006-01-02 15:04") + "</td></tr>\n")
	}
	b.WriteString("</tbody></table>\n</body></html>\n")
	return []byte(b.String())
}

// humanSize is n bytes in the largest unit that keeps it at least 1.
func humanSize(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	f := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		f /= 1024
		if f < 1024 || u == "TiB" {
			return strconv.FormatFloat(f, 'f', 1, 64) + " " + u
		}
	}
	return ""
}
