package ftp

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"
)

// EntryType is the kind of a listed directory entry.
type EntryType int

// The kinds of entry a listing can name.
const (
	EntryFile EntryType = iota
	EntryDir
	EntryLink
	EntryOther // devices, sockets, pipes, and types a server made up
)

func (t EntryType) String() string {
	switch t {
	case EntryFile:
		return "file"
	case EntryDir:
		return "dir"
	case EntryLink:
		return "link"
	}
	return "other"
}

// Entry is one file or directory of a listing (LIST, MLSD, MLST).
type Entry struct {
	Name    string
	Type    EntryType
	Size    int64
	ModTime time.Time   // zero when the listing does not give it
	Mode    fs.FileMode // permission bits when the listing gives them
	Target  string      // a symbolic link's target, when the listing gives it
	// Facts holds the MLSD/MLST facts by lower-case name ("type",
	// "size", "modify", "perm", "unique", "unix.mode"); nil for LIST.
	Facts map[string]string
	Raw   string // the line as the server sent it
}

var errListLine = errors.New("ftp: unrecognised listing line")

// parseMLSDLine parses one line of MLSD or MLST (RFC 3659 section 7):
// "fact=value;fact=value; name". The name is everything after the first
// "; ", so it may hold spaces and any byte but CR and LF.
func parseMLSDLine(line string) (*Entry, error) {
	var facts, name string
	if strings.HasPrefix(line, " ") {
		name = line[1:]
	} else {
		i := strings.Index(line, "; ")
		if i < 0 {
			return nil, fmt.Errorf("ftp: malformed MLSD line %q", truncate(line, 80))
		}
		facts, name = line[:i+1], line[i+2:]
	}
	if name == "" {
		return nil, fmt.Errorf("ftp: MLSD line without a name %q", truncate(line, 80))
	}
	e := &Entry{Name: name, Type: EntryOther, Facts: map[string]string{}, Raw: line}
	for _, f := range strings.Split(strings.TrimSuffix(facts, ";"), ";") {
		if f == "" {
			continue
		}
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("ftp: malformed MLSD fact %q", truncate(f, 80))
		}
		e.Facts[strings.ToLower(k)] = v
	}
	switch t := strings.ToLower(e.Facts["type"]); {
	case t == "file":
		e.Type = EntryFile
	case t == "dir" || t == "cdir" || t == "pdir":
		e.Type = EntryDir
	case t == "os.unix=symlink" || strings.HasPrefix(t, "os.unix=slink"):
		e.Type = EntryLink
		if _, target, ok := strings.Cut(e.Facts["type"], ":"); ok {
			e.Target = target
		}
	}
	for _, k := range []string{"size", "sizd"} {
		if v, ok := e.Facts[k]; ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("ftp: bad MLSD size %q", truncate(v, 40))
			}
			e.Size = n
			break
		}
	}
	if v, ok := e.Facts["modify"]; ok {
		if t, ok := parseTimeVal(v); ok {
			e.ModTime = t
		}
	}
	if v, ok := e.Facts["unix.mode"]; ok {
		if m, err := strconv.ParseUint(v, 8, 32); err == nil {
			e.Mode = fs.FileMode(m) & fs.ModePerm
		}
	}
	return e, nil
}

// isCurrentOrParent reports whether an MLSD entry names the listed
// directory itself or its parent.
func (e *Entry) isCurrentOrParent() bool {
	t := strings.ToLower(e.Facts["type"])
	return t == "cdir" || t == "pdir"
}

// parseTimeVal parses an RFC 3659 time-val, YYYYMMDDHHMMSS[.sss], in UTC.
func parseTimeVal(s string) (time.Time, bool) {
	main, frac, hasFrac := strings.Cut(s, ".")
	if len(main) != 14 {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation("20060102150405", main, time.UTC)
	if err != nil {
		return time.Time{}, false
	}
	if hasFrac {
		if frac == "" || len(frac) > 9 {
			return time.Time{}, false
		}
		n, err := strconv.Atoi(frac)
		if err != nil || n < 0 {
			return time.Time{}, false
		}
		for i := len(frac); i < 9; i++ {
			n *= 10
		}
		t = t.Add(time.Duration(n))
	}
	return t, true
}

// field is one whitespace-separated token of a line and where it ends.
type field struct {
	s   string
	end int
}

func splitFields(line string, max int) []field {
	var fs []field
	i := 0
	for len(fs) < max {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i == len(line) {
			break
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
			j++
		}
		fs = append(fs, field{line[i:j], j})
		i = j
	}
	return fs
}

var months = map[string]time.Month{
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
	"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}

// parseListLine parses one line of LIST output: the Unix "ls -l" form
// most servers send, with or without the group column, or the DOS form
// of IIS. now resolves "Jan  2 15:04" dates, which leave out the year.
func parseListLine(line string, now time.Time) (*Entry, error) {
	if e, err := parseUnixLine(line, now); err == nil {
		return e, nil
	}
	return parseDOSLine(line)
}

func parseUnixLine(line string, now time.Time) (*Entry, error) {
	f := splitFields(line, 9)
	if len(f) < 7 || len(f[0].s) < 10 {
		return nil, errListLine
	}
	perm := f[0].s
	e := &Entry{Type: EntryOther, Raw: line}
	switch perm[0] {
	case '-':
		e.Type = EntryFile
	case 'd':
		e.Type = EntryDir
	case 'l':
		e.Type = EntryLink
	case 'b', 'c', 'p', 's':
	default:
		return nil, errListLine
	}
	for i, c := range perm[1:10] {
		if c != '-' && c != rune("rwxrwxrwx"[i]) && !strings.ContainsRune("sStTl", c) {
			return nil, errListLine
		}
		if c != '-' && c != 'S' && c != 'T' && c != 'l' {
			e.Mode |= 1 << (8 - i)
		}
	}
	// The month is at index 5 with owner and group, 4 without; the
	// size is the field before it, then day and time or year.
	for m := 3; m <= 6 && m+2 < len(f); m++ {
		month, ok := months[strings.ToLower(f[m].s)]
		if !ok {
			continue
		}
		size, err := strconv.ParseInt(f[m-1].s, 10, 64)
		if err != nil || size < 0 {
			continue
		}
		day, err := strconv.Atoi(f[m+1].s)
		if err != nil || day < 1 || day > 31 {
			continue
		}
		t, ok := listTime(month, day, f[m+2].s, now)
		if !ok {
			continue
		}
		end := f[m+2].end
		if end+1 >= len(line) {
			return nil, errListLine
		}
		e.Name, e.Size, e.ModTime = line[end+1:], size, t
		if e.Type == EntryLink {
			if name, target, ok := strings.Cut(e.Name, " -> "); ok {
				e.Name, e.Target = name, target
			}
		}
		if e.Name == "" {
			return nil, errListLine
		}
		return e, nil
	}
	return nil, errListLine
}

// listTime reads "15:04" (this year, or last year if that is in the
// future) or "2006" as the last date field of an ls -l line.
func listTime(month time.Month, day int, s string, now time.Time) (time.Time, bool) {
	if h, m, ok := strings.Cut(s, ":"); ok {
		hh, err1 := strconv.Atoi(h)
		mm, err2 := strconv.Atoi(m)
		if err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 || len(m) != 2 {
			return time.Time{}, false
		}
		t := time.Date(now.Year(), month, day, hh, mm, 0, 0, time.UTC)
		if t.After(now.Add(48 * time.Hour)) {
			t = t.AddDate(-1, 0, 0)
		}
		return t, true
	}
	y, err := strconv.Atoi(s)
	if err != nil || len(s) != 4 {
		return time.Time{}, false
	}
	return time.Date(y, month, day, 0, 0, 0, 0, time.UTC), true
}

// parseDOSLine parses "01-16-23  02:15PM  <DIR>  name" or
// "01-16-2023  02:15PM  1234 name".
func parseDOSLine(line string) (*Entry, error) {
	f := splitFields(line, 3)
	if len(f) < 3 {
		return nil, errListLine
	}
	var t time.Time
	var err error
	for _, layout := range []string{"01-02-06 03:04PM", "01-02-2006 03:04PM", "01-02-06 15:04", "01-02-2006 15:04"} {
		if t, err = time.ParseInLocation(layout, f[0].s+" "+f[1].s, time.UTC); err == nil {
			break
		}
	}
	if err != nil {
		return nil, errListLine
	}
	e := &Entry{Type: EntryFile, ModTime: t, Raw: line}
	if f[2].s == "<DIR>" {
		e.Type = EntryDir
	} else if e.Size, err = strconv.ParseInt(f[2].s, 10, 64); err != nil || e.Size < 0 {
		return nil, errListLine
	}
	e.Name = strings.TrimLeft(line[f[2].end:], " \t")
	if e.Name == "" {
		return nil, errListLine
	}
	return e, nil
}
