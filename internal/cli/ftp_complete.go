package cli

import (
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"plumb/ftp"
)

// complete handles Tab at pos in line: the command name for the first
// word, else a remote or local path as the command takes. One match is
// filled in; several are filled to their common prefix and listed.
func (sh *ftpShell) complete(w io.Writer, line string, pos int) (string, int, bool) {
	head := line[:pos]
	start := strings.LastIndexAny(head, " \t") + 1
	word := head[start:]
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
	return line[:start] + fill + line[pos:], start + len(fill), true
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

func commonPrefix(a, b string) string {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	return a[:i]
}
