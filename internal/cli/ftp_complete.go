package cli

import (
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/plumbnet/plumb/ftp"
)

// complete handles Tab at pos in line: the command name for the first
// word, else a remote or local path as the command takes. One match is
// filled in; several are filled to their common prefix and listed. The
// word is read and filled in as splitShellWords reads it, so a name with
// a space or a quote is inserted with backslashes and stays one argument.
func (sh *ftpShell) complete(w io.Writer, line string, pos int) (string, int, bool) {
	head := line[:pos]
	start, word := completionWord(head)
	var candidates []string
	if strings.TrimSpace(head[:start]) == "" {
		for name := range ftpCommands {
			if strings.HasPrefix(name, word) {
				candidates = append(candidates, name+" ")
			}
		}
	} else {
		first := strings.Fields(head)[0]
		c, ok := ftpCommands[strings.ToLower(first)]
		if !ok {
			return "", 0, false
		}
		switch c.complet {
		case completeRemote:
			candidates = sh.remoteCandidates(word)
		case completeLocal:
			candidates = localCandidates(word)
		}
	}
	if len(candidates) == 0 {
		return "", 0, false
	}
	sort.Strings(candidates)
	fill := candidates[0]
	for _, c := range candidates[1:] {
		fill = commonPrefix(fill, c)
	}
	if len(candidates) > 1 && fill == word {
		io.WriteString(w, strings.Join(candidates, "  ")+"\n")
		return "", 0, false
	}
	sep := ""
	if len(candidates) == 1 && strings.HasSuffix(fill, " ") {
		fill, sep = fill[:len(fill)-1], " " // the space that ends a whole name
	}
	fill = escapeWord(fill) + sep
	return line[:start] + fill + line[pos:], start + len(fill), true
}

// completionWord finds the last word of head, the text before the
// cursor: where it starts and what it says with its quotes and
// backslashes undone, as splitShellWords would read it.
func completionWord(head string) (start int, word string) {
	var b strings.Builder
	var quote byte
	for i := 0; i < len(head); i++ {
		ch := head[i]
		switch {
		case quote != 0 && ch == quote:
			quote = 0
		case quote != '\'' && ch == '\\' && i+1 < len(head):
			i++
			b.WriteByte(head[i])
		case quote != 0:
			b.WriteByte(ch)
		case ch == '"' || ch == '\'':
			quote = ch
		case ch == ' ' || ch == '\t':
			start = i + 1
			b.Reset()
		default:
			b.WriteByte(ch)
		}
	}
	return start, b.String()
}

// escapeWord puts a backslash before each character splitShellWords
// would otherwise take as a separator, quote or escape.
func escapeWord(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '"', '\'', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// remoteCandidates lists the remote entries whose path starts with word.
func (sh *ftpShell) remoteCandidates(word string) []string {
	dir, prefix := "", word
	if i := strings.LastIndexByte(word, '/'); i >= 0 {
		dir, prefix = word[:i+1], word[i+1:]
	}
	entries, ok := sh.cache[dir]
	if !ok {
		var err error
		listDir := strings.TrimSuffix(dir, "/")
		if dir == "/" {
			listDir = "/"
		}
		if entries, err = sh.c.ReadDir(listDir); err != nil {
			return nil
		}
		sh.cache[dir] = entries
	}
	var out []string
	for _, e := range entries {
		name := path.Base(e.Name)
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		if e.Type == ftp.EntryDir {
			out = append(out, dir+name+"/")
		} else {
			out = append(out, dir+name+" ")
		}
	}
	return out
}

// invalidate forgets cached listings after the remote tree changed.
func (sh *ftpShell) invalidate() { clear(sh.cache) }

func localCandidates(word string) []string {
	dir, prefix := filepath.Split(word)
	list := dir
	if list == "" {
		list = "."
	}
	entries, err := os.ReadDir(list)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		if e.IsDir() {
			out = append(out, dir+e.Name()+"/")
		} else {
			out = append(out, dir+e.Name()+" ")
		}
	}
	return out
}

// commonPrefix returns the longest common prefix of a and b that ends
// on a character boundary, so that "café" and "cafè" share "caf", not
// half of an é.
func commonPrefix(a, b string) string {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	for i > 0 && i < len(a) && !utf8.RuneStart(a[i]) {
		i--
	}
	return a[:i]
}
