package gopher

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Item types of RFC 1436 section 3.8, and the ones every client
// knows since (h, i, I, s).
const (
	TypeText      byte = '0' // a text file, dot-terminated on the wire
	TypeMenu      byte = '1' // a directory: a menu
	TypeCSO       byte = '2'
	TypeError     byte = '3' // an error message in place of an item
	TypeBinHex    byte = '4'
	TypeDOS       byte = '5' // an archive (zip, tar) by today's use
	TypeUUEncoded byte = '6'
	TypeSearch    byte = '7' // a full-text search: the selector, TAB, the words
	TypeTelnet    byte = '8'
	TypeBinary    byte = '9' // a binary file, raw to the end of the connection
	TypeGIF       byte = 'g'
	TypeImage     byte = 'I'
	TypeHTML      byte = 'h' // HTML; a "URL:" selector links out of gopherspace
	TypeInfo      byte = 'i' // a line of text in a menu, not a link
	TypeSound     byte = 's'
	TypeDocument  byte = 'd'
)

// IsText reports whether items of type t are sent as dot-terminated
// text (text files, menus, search results, errors); every other type
// is raw bytes to the end of the connection.
func IsText(t byte) bool {
	return t == TypeText || t == TypeMenu || t == TypeSearch || t == TypeError || t == TypeInfo
}

// IsMenu reports whether items of type t answer with a menu.
func IsMenu(t byte) bool { return t == TypeMenu || t == TypeSearch }

// An Item is one line of a menu (RFC 1436 section 3.8): a type, the
// text a user sees, and where the item is: selector, host and port.
type Item struct {
	Type     byte
	Display  string
	Selector string
	Host     string
	Port     int
}

// Limits of the fields of the server's menu lines (RFC 1436 section
// 3.8 recommends display strings under 70 characters, selectors under
// 255; servers send longer ones). A client takes any line up to its
// line limit, with a host name up to MaxHost.
const (
	MaxDisplay  = 1024
	MaxSelector = 1024
	MaxHost     = 255
)

// ErrBadItem is a menu line that is not "<type><display>TAB<selector>TAB<host>TAB<port>".
var ErrBadItem = errors.New("gopher: malformed menu line")

// Line returns the item as a menu line, without its CRLF. Characters
// no menu line may hold (TAB, CR, LF, NUL) are made spaces, so that a
// line always reads back as the same number of fields.
func (it Item) Line() string {
	var b strings.Builder
	t := it.Type
	if t <= ' ' || t >= 0x7f {
		t = TypeInfo
	}
	b.WriteByte(t)
	b.WriteString(field(it.Display))
	b.WriteByte('\t')
	b.WriteString(field(it.Selector))
	b.WriteByte('\t')
	b.WriteString(field(it.Host))
	b.WriteByte('\t')
	b.WriteString(strconv.Itoa(max(it.Port, 0)))
	return b.String()
}

// field keeps s to one menu field.
func field(s string) string {
	if !strings.ContainsAny(s, "\t\r\n\x00") {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\r', '\n', 0:
			return ' '
		}
		return r
	}, s)
}

// ParseItem parses one menu line (without its line end). Fields after
// the port (a Gopher+ "+") are ignored. A line with fewer than four
// fields is ErrBadItem, except that a line without TAB (which some
// servers send for text, errors among them) is an info item of the
// whole line, and an "i" line may stop after its selector.
func ParseItem(line string) (Item, error) {
	if line == "" {
		return Item{}, fmt.Errorf("%w: empty line", ErrBadItem)
	}
	if strings.ContainsAny(line, "\r\n\x00") {
		return Item{}, fmt.Errorf("%w: control character", ErrBadItem)
	}
	f := strings.SplitN(line, "\t", 5)
	if len(f) == 1 {
		// No TAB: a server's bare text line, all of it to show.
		return Item{Type: TypeInfo, Display: line}, nil
	}
	if f[0] == "" {
		return Item{}, fmt.Errorf("%w: no type", ErrBadItem)
	}
	it := Item{Type: line[0], Display: f[0][1:]}
	if len(f) < 4 {
		if it.Type == TypeInfo {
			it.Selector = f[1]
			return it, nil
		}
		return Item{}, fmt.Errorf("%w: %d fields, want 4", ErrBadItem, len(f))
	}
	it.Selector, it.Host = f[1], f[2]
	port, err := strconv.Atoi(strings.TrimSpace(f[3]))
	if err != nil || port < 0 || port > 65535 {
		if it.Type != TypeInfo && it.Type != TypeError {
			return Item{}, fmt.Errorf("%w: port %q", ErrBadItem, f[3])
		}
		port = 0
	}
	it.Port = port
	if len(it.Host) > MaxHost {
		return Item{}, fmt.Errorf("%w: host name too long", ErrBadItem)
	}
	return it, nil
}

// info returns an info line of the server's own menus; its selector,
// host and port are the placeholders clients ignore.
func info(text string) Item {
	return Item{Type: TypeInfo, Display: cut(text, MaxDisplay), Host: "null.host", Port: 1}
}

// errorItem is the type-3 item a refused request gets.
func errorItem(msg string) Item {
	return Item{Type: TypeError, Display: msg, Host: "error.host", Port: 1}
}
