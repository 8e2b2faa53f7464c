package gopher

import (
	"strconv"
	"strings"
)

// MapName is the file that replaces a directory's generated menu.
const MapName = "gophermap"

// Limits of a gophermap.
const (
	DefaultMaxMapSize = 1 << 20 // bytes of one gophermap file
	MaxMapLines       = 10000   // lines of one gophermap, includes counted apart
	MaxMapLine        = 4096    // bytes of one line; a longer one is cut there
	MaxIncludeDepth   = 4       // gophermaps included from included ones
)

// kinds of gophermap entries.
const (
	entryItem    = iota // a menu line
	entryListing        // "*": the generated listing, then stop
	entryInclude        // "=file": another gophermap's entries here
	entryUsers          // "~": the users with trees
)

// A mapEntry is one effective line of a gophermap.
type mapEntry struct {
	kind int
	// item is the line of an entryItem. An empty Host is this server
	// (and its port); a selector then is relative to the gophermap's
	// directory unless it starts with "/" or "URL:".
	item Item
	arg  string // the file of an entryInclude
}

// A gophermap is a parsed gophermap file in the format gophernicus
// documents: a line without a TAB is text (an info line) unless its
// first character makes it one of the commands
//
//	#...       a comment
//	!title     the menu's title
//	-name      hide name from the generated listing
//	:ext=T     files ending in .ext have type T in the listing
//	~          the users with trees
//	%          virtual hosts (none here: ignored)
//	=file      the lines of another gophermap (never run: files only)
//	*          the generated listing, and the end of the map
//	.          the end of the map
//
// and a line with TABs is an item, "Tname TAB selector TAB host TAB port",
// whose missing selector is its name and whose missing host and port are
// this server's.
type gophermap struct {
	entries []mapEntry
	hidden  map[string]bool
	types   map[string]byte // by extension, without the dot
}

// parseGophermap parses the text of a gophermap; it takes at most
// MaxMapLines lines and cuts each at MaxMapLine bytes.
func parseGophermap(text string) *gophermap {
	m := &gophermap{}
	for n := 0; text != "" && n < MaxMapLines; n++ {
		var line string
		line, text, _ = strings.Cut(text, "\n")
		line = strings.TrimSuffix(line, "\r")
		if len(line) > MaxMapLine {
			line = line[:MaxMapLine]
		}
		line = dropControls(line)
		if !m.line(line) {
			break
		}
	}
	return m
}

// line adds one line; it reports whether the map goes on.
func (m *gophermap) line(line string) bool {
	if strings.Contains(line, "\t") {
		m.add(mapEntry{kind: entryItem, item: mapItem(line)})
		return true
	}
	if line == "" {
		m.add(mapEntry{kind: entryItem, item: info("")})
		return true
	}
	arg := line[1:]
	switch line[0] {
	case '#', '%':
	case '!':
		m.add(mapEntry{kind: entryItem, item: Item{Type: TypeInfo, Display: cut(arg, MaxDisplay), Selector: "TITLE", Host: "null.host", Port: 1}})
	case '-':
		if arg != "" {
			if m.hidden == nil {
				m.hidden = map[string]bool{}
			}
			m.hidden[strings.TrimSuffix(arg, "/")] = true
		}
	case ':':
		ext, t, ok := strings.Cut(arg, "=")
		if ok && ext != "" && len(t) == 1 && t[0] > ' ' && t[0] < 0x7f {
			if m.types == nil {
				m.types = map[string]byte{}
			}
			m.types[strings.ToLower(strings.TrimPrefix(ext, "."))] = t[0]
		}
	case '~':
		m.add(mapEntry{kind: entryUsers})
	case '=':
		if arg != "" {
			m.add(mapEntry{kind: entryInclude, arg: arg})
		}
	case '*':
		m.add(mapEntry{kind: entryListing})
		return false
	case '.':
		return false
	default:
		m.add(mapEntry{kind: entryItem, item: info(line)})
	}
	return true
}

// dropControls removes the control characters but TAB from line,
// byte by byte: a gophermap need not be UTF-8.
func dropControls(line string) string {
	b := make([]byte, 0, len(line))
	for i := 0; i < len(line); i++ {
		if c := line[i]; (c >= ' ' || c == '\t') && c != 0x7f {
			b = append(b, c)
		}
	}
	return string(b)
}

func (m *gophermap) add(e mapEntry) { m.entries = append(m.entries, e) }

// mapItem parses a gophermap line with a TAB into an item; its Host
// and Port stay empty where the line names none.
func mapItem(line string) Item {
	f := strings.SplitN(line, "\t", 5)
	it := Item{Type: TypeInfo}
	if f[0] != "" {
		it.Type, it.Display = f[0][0], f[0][1:]
	}
	if len(f) > 1 {
		it.Selector = f[1]
	}
	if it.Selector == "" && it.Type != TypeInfo && it.Type != TypeError {
		it.Selector = it.Display
	}
	if len(f) > 2 {
		it.Host = f[2]
	}
	if len(f) > 3 {
		if p, err := strconv.Atoi(strings.TrimSpace(f[3])); err == nil && p > 0 && p <= 65535 {
			it.Port = p
		}
	}
	it.Display, it.Selector, it.Host = cut(it.Display, MaxDisplay), cut(it.Selector, MaxSelector), cut(it.Host, MaxHost)
	if it.Host != "" && it.Port == 0 {
		it.Port = DefaultPort
	}
	if it.Type == TypeInfo && it.Host == "" {
		it.Host, it.Port = "null.host", 1
	}
	return it
}

// cut keeps at most n bytes of s.
func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
