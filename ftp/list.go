package ftp

import (
	"fmt"
	"hash/fnv"
	"io/fs"
	"strconv"
	"strings"
	"time"
)

// The MLSx facts this server knows (RFC 3659 section 7), and the ones
// it sends unless OPTS MLST chooses.
var mlstKnownFacts = []string{"type", "size", "modify", "perm", "unique"}

const defaultMLSTFacts = "type;size;modify;perm;unique;"

// mlstFeature is the FEAT line's fact list, with the selected ones starred.
func mlstFeature(selected string) string {
	var b strings.Builder
	for _, f := range mlstKnownFacts {
		b.WriteString(f)
		if strings.Contains(";"+selected, ";"+f+";") {
			b.WriteByte('*')
		}
		b.WriteByte(';')
	}
	return b.String()
}

// selectMLSTFacts keeps the known facts of an OPTS MLST argument.
func selectMLSTFacts(arg string) string {
	var b strings.Builder
	for _, f := range strings.Split(arg, ";") {
		f = strings.ToLower(strings.TrimSpace(f))
		for _, k := range mlstKnownFacts {
			if f == k {
				b.WriteString(k)
				b.WriteByte(';')
			}
		}
	}
	return b.String()
}

// listLine formats one entry as "ls -l" does, which is what clients
// parse in a LIST reply:
//
//	-rw-r--r-- 1 ftp ftp 1234 Jan  2 15:04 name
//
// A time more than six months from now shows the year instead of the
// hour. Times are UTC.
func listLine(fi fs.FileInfo, now time.Time) string {
	var b strings.Builder
	b.Grow(64 + len(fi.Name()))
	b.WriteString(modeString(fi.Mode()))
	b.WriteString(" 1 ftp ftp ")
	size := fi.Size()
	if fi.IsDir() && size == 0 {
		size = 4096
	}
	fmt.Fprintf(&b, "%12d ", size)
	t := fi.ModTime().UTC()
	if d := now.Sub(t); d > 180*24*time.Hour || d < -time.Hour {
		b.WriteString(t.Format("Jan _2  2006"))
	} else {
		b.WriteString(t.Format("Jan _2 15:04"))
	}
	b.WriteByte(' ')
	b.WriteString(fi.Name())
	return b.String()
}

// modeString is the "ls -l" mode column: a type letter and rwx triples.
func modeString(m fs.FileMode) string {
	var b [10]byte
	switch {
	case m.IsDir():
		b[0] = 'd'
	case m&fs.ModeSymlink != 0:
		b[0] = 'l'
	default:
		b[0] = '-'
	}
	const rwx = "rwxrwxrwx"
	for i := 0; i < 9; i++ {
		if m&(1<<uint(8-i)) != 0 {
			b[i+1] = rwx[i]
		} else {
			b[i+1] = '-'
		}
	}
	return string(b[:])
}

// mlsxFacts formats the facts of one entry for MLSD and MLST (RFC 3659
// section 7), without the name: "type=file;size=3;modify=...;".
// vpath names the entry for the "unique" fact when the file system
// gives no device and inode.
func mlsxFacts(fi fs.FileInfo, vpath string, readOnly bool, facts string) string {
	var b strings.Builder
	want := func(f string) bool { return strings.Contains(";"+facts, ";"+f+";") }
	if want("type") {
		if fi.IsDir() {
			b.WriteString("type=dir;")
		} else if fi.Mode().IsRegular() {
			b.WriteString("type=file;")
		} else {
			b.WriteString("type=OS.unix=special;")
		}
	}
	if want("size") && !fi.IsDir() {
		b.WriteString("size=" + strconv.FormatInt(fi.Size(), 10) + ";")
	}
	if want("modify") {
		b.WriteString("modify=" + fi.ModTime().UTC().Format("20060102150405") + ";")
	}
	if want("perm") {
		switch {
		case fi.IsDir() && readOnly:
			b.WriteString("perm=el;")
		case fi.IsDir():
			b.WriteString("perm=cdeflmp;")
		case readOnly:
			b.WriteString("perm=r;")
		default:
			b.WriteString("perm=adfrw;")
		}
	}
	if want("unique") {
		b.WriteString("unique=" + uniqueID(fi, vpath) + ";")
	}
	return b.String()
}

func uniqueID(fi fs.FileInfo, vpath string) string {
	if id, ok := fileID(fi); ok {
		return id
	}
	h := fnv.New64a()
	h.Write([]byte(vpath))
	return strconv.FormatUint(h.Sum64(), 16)
}
