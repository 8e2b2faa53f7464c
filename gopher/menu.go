package gopher

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"unicode/utf8"
)

// typesByExt gives a file's item type by its extension; a file with
// none is text (README, LICENSE), one with an unknown one is binary.
var typesByExt = map[string]byte{
	"txt": TypeText, "text": TypeText, "md": TypeText, "asc": TypeText, "csv": TypeText, "log": TypeText,
	"conf": TypeText, "ini": TypeText, "toml": TypeText, "json": TypeText, "xml": TypeText, "gph": TypeText,
	"c": TypeText, "h": TypeText, "go": TypeText, "py": TypeText, "sh": TypeText, "pl": TypeText, "rs": TypeText,
	"gif": TypeGIF,
	"png": TypeImage, "jpg": TypeImage, "jpeg": TypeImage, "webp": TypeImage, "bmp": TypeImage, "ico": TypeImage,
	"tif": TypeImage, "tiff": TypeImage, "svg": TypeImage,
	"html": TypeHTML, "htm": TypeHTML, "xhtml": TypeHTML,
	"wav": TypeSound, "mp3": TypeSound, "ogg": TypeSound, "flac": TypeSound, "au": TypeSound, "aiff": TypeSound,
	"opus": TypeSound, "m4a": TypeSound, "mid": TypeSound,
}

// ItemType is the type the server gives a file named name in a
// generated menu: TypeMenu for a directory, else by its extension.
func ItemType(name string, dir bool) byte { return itemType(name, dir, nil) }

func itemType(name string, dir bool, override map[string]byte) byte {
	if dir {
		return TypeMenu
	}
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))
	if t, ok := override[ext]; ok {
		return t
	}
	if ext == "" {
		return TypeText
	}
	if t, ok := typesByExt[ext]; ok {
		return t
	}
	return TypeBinary
}

// listed reports whether a directory entry shows in generated menus
// and searches: hidden files, gophermaps and what the selector parser
// would refuse do not.
func listed(name string) bool {
	return name != "" && name[0] != '.' && name != MapName && !strings.HasSuffix(name, "."+MapName) &&
		!strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f || r == '\\' }) && utf8.ValidString(name)
}

// menuBuilder builds one menu for one request. Besides the limits of
// each gophermap, one request has a budget: at most MaxMapReads
// gophermap files read and MaxMapEntries of their lines expanded, each
// file included at most once, and the users listed at most once.
type menuBuilder struct {
	s     *Server
	ctx   context.Context
	tree  FS
	user  string
	host  string
	port  int
	items []Item
	full  bool // MaxMenuItems reached

	reads   int             // gophermap files read so far
	entries int             // gophermap entries expanded so far
	visited map[string]bool // gophermaps read (or tried), by name in the tree
	users   []string        // the users, once listed
	listed  bool            // users is set
}

func (m *menuBuilder) add(it Item) {
	if len(m.items) >= m.s.maxMenuItems() {
		m.full = true
		return
	}
	m.items = append(m.items, it)
}

// local fills in this server's host and port where a gophermap item
// names none, resolving a relative selector against dir.
func (m *menuBuilder) local(it Item, dir string) Item {
	if it.Host != "" {
		return it
	}
	it.Host, it.Port = m.host, m.port
	if !strings.HasPrefix(it.Selector, "/") && !strings.HasPrefix(it.Selector, "URL:") {
		it.Selector = join(m.user, dir, it.Selector)
	}
	return it
}

// menu builds the menu of directory dir: its gophermap, or the listing.
func (m *menuBuilder) menu(dir string) error {
	text, err := m.readMap(path.Join(dir, MapName))
	switch {
	case err == nil:
		return m.expand(parseGophermap(text), dir, 0)
	case errors.Is(err, fs.ErrNotExist):
		if dir == "." && !m.s.NoSearch {
			m.add(Item{Type: TypeSearch, Display: "Search file names", Selector: selectorOf(m.user, ".", true), Host: m.host, Port: m.port})
		}
		return m.listing(dir, nil, 0)
	}
	return err
}

// errMapBudget is readMap's answer once the request's budget of
// gophermap reads is spent, or for a map read before.
var errMapBudget = errors.New("gopher: gophermap budget spent")

// readMap reads a gophermap, at most MaxMapSize bytes of it, unless it
// was read before for this request or the budget of reads is spent.
func (m *menuBuilder) readMap(name string) (string, error) {
	if m.visited[name] || m.reads >= m.s.maxMapReads() {
		return "", errMapBudget
	}
	if m.visited == nil {
		m.visited = map[string]bool{}
	}
	m.visited[name] = true
	m.reads++
	fi, err := m.tree.Stat(m.ctx, name)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission} // a FIFO would block the open
	}
	f, err := m.tree.Open(m.ctx, name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(m.s.maxMapSize())))
	return string(b), err
}

// expand adds the entries of a gophermap of directory dir.
func (m *menuBuilder) expand(g *gophermap, dir string, depth int) error {
	for _, e := range g.entries {
		if m.full || m.entries >= m.s.maxMapEntries() {
			return nil
		}
		if err := m.ctx.Err(); err != nil {
			return err
		}
		m.entries++
		switch e.kind {
		case entryItem:
			m.add(m.local(e.item, dir))
		case entryListing:
			if err := m.listing(dir, g, depth); err != nil {
				return err
			}
		case entryUsers:
			m.addUsers()
		case entryInclude:
			if err := m.include(e.arg, dir, depth); err != nil {
				return err
			}
		}
	}
	return nil
}

// include adds the entries of the gophermap file name (relative to
// dir, or from the tree's top when it starts with "/"). A file that
// cannot be read, one included before, or one included too deep, adds
// nothing; its relative selectors stay relative to dir, the menu's
// directory. The error is only the request's end (its deadline).
func (m *menuBuilder) include(name, dir string, depth int) error {
	if depth >= MaxIncludeDepth {
		return nil
	}
	p := name
	if !strings.HasPrefix(name, "/") {
		p = path.Join(dir, name)
	}
	r, err := parseRequest(p, MaxSelector)
	if err != nil || r.user != "" || r.web != "" || r.path == "." {
		return nil
	}
	text, err := m.readMap(r.path)
	if err != nil {
		return m.ctx.Err()
	}
	return m.expand(parseGophermap(text), dir, depth+1)
}

// users adds a link to each user's tree, when the backend lists them.
// The backend is asked once per request, however many "~" lines.
func (m *menuBuilder) addUsers() {
	ul, ok := m.s.Backend.(UserLister)
	if !ok {
		return
	}
	if !m.listed {
		m.listed = true
		names, err := ul.Users(m.ctx)
		if err != nil {
			return
		}
		m.users = names
	}
	for _, n := range m.users {
		if userName(n) {
			m.add(Item{Type: TypeMenu, Display: "~" + n, Selector: selectorOf(n, ".", true), Host: m.host, Port: m.port})
		}
	}
}

// listing adds the generated listing of dir: directories first, then
// files, each by name, without what g hides. A file named
// "*.gophermap" is an inline gophermap: its entries stand in its place.
func (m *menuBuilder) listing(dir string, g *gophermap, depth int) error {
	ents, err := m.tree.ReadDir(m.ctx, dir, m.s.maxMenuItems())
	if err != nil {
		return err
	}
	var hidden map[string]bool
	var types map[string]byte
	if g != nil {
		hidden, types = g.hidden, g.types
	}
	slices.SortStableFunc(ents, func(a, b fs.FileInfo) int {
		switch {
		case a.IsDir() == b.IsDir():
			return strings.Compare(a.Name(), b.Name())
		case a.IsDir():
			return -1
		}
		return 1
	})
	for _, fi := range ents {
		name := fi.Name()
		p := path.Join(dir, name)
		if strings.HasSuffix(name, "."+MapName) && name[0] != '.' && fi.Mode().IsRegular() && !hidden[name] && depth < MaxIncludeDepth {
			if text, err := m.readMap(p); err == nil {
				if err := m.expand(parseGophermap(text), dir, depth+1); err != nil {
					return err
				}
			} else if m.ctx.Err() != nil {
				return m.ctx.Err()
			}
			continue
		}
		if !listed(name) || hidden[name] || !(fi.IsDir() || fi.Mode().IsRegular()) {
			continue
		}
		m.add(Item{Type: itemType(name, fi.IsDir(), types), Display: name,
			Selector: selectorOf(m.user, p, fi.IsDir()), Host: m.host, Port: m.port})
	}
	return nil
}

// search adds the files and directories under dir whose names hold
// every word of words (case does not matter), walking at most
// MaxSearchVisits entries.
func (m *menuBuilder) search(dir, words string) error {
	terms := strings.Fields(strings.ToLower(words))
	if len(terms) == 0 {
		m.add(info("Give one or more words to look for in file names."))
		return nil
	}
	visits, found := 0, 0
	queue := []string{dir}
	for len(queue) > 0 && visits < m.s.maxSearchVisits() && found < m.s.maxSearchResults() {
		d := queue[0]
		queue = queue[1:]
		ents, err := m.tree.ReadDir(m.ctx, d, m.s.maxSearchVisits()-visits)
		if err != nil {
			if m.ctx.Err() != nil {
				return m.ctx.Err()
			}
			continue
		}
		for _, fi := range ents {
			visits++
			name := fi.Name()
			if !listed(name) || !(fi.IsDir() || fi.Mode().IsRegular()) {
				continue
			}
			p := path.Join(d, name)
			if fi.IsDir() && strings.Count(p, "/") < MaxDepth-1 {
				queue = append(queue, p)
			}
			if matches(strings.ToLower(name), terms) && found < m.s.maxSearchResults() {
				found++
				rel := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
				m.add(Item{Type: itemType(name, fi.IsDir(), nil), Display: rel,
					Selector: selectorOf(m.user, p, fi.IsDir()), Host: m.host, Port: m.port})
			}
		}
	}
	if found == 0 {
		m.add(info("No file name matches " + strings.Join(terms, " ") + "."))
	}
	return nil
}

func matches(name string, terms []string) bool {
	for _, t := range terms {
		if !strings.Contains(name, t) {
			return false
		}
	}
	return true
}
