package ftp

import (
	"io/fs"
	"strings"
	"testing"
	"time"
)

func TestParseListLine(t *testing.T) {
	now := time.Date(2024, time.March, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		line   string
		name   string
		typ    EntryType
		size   int64
		mtime  time.Time
		target string
		mode   fs.FileMode
	}{
		{"-rw-r--r--    1 ftp      ftp       3145745 Mar 09 11:22 a file ü.bin", "a file ü.bin", EntryFile, 3145745,
			time.Date(2024, 3, 9, 11, 22, 0, 0, time.UTC), "", 0o644},
		{"drwxr-xr-x   2 alice    staff        4096 Dec 31 23:59 old dir", "old dir", EntryDir, 4096,
			time.Date(2023, 12, 31, 23, 59, 0, 0, time.UTC), "", 0o755},
		{"-rw-------   1 owner group 12 Jan  5  2019   two leading spaces", "  two leading spaces", EntryFile, 12,
			time.Date(2019, 1, 5, 0, 0, 0, 0, time.UTC), "", 0o600},
		{"lrwxrwxrwx   1 root     root            7 Feb 29 00:00 link -> target dir", "link", EntryLink, 7,
			time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), "target dir", 0o777},
		// No group column, as some servers print.
		{"-rwxr-sr-t 1 owner 999 Mar  1 09:00 x", "x", EntryFile, 999,
			time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC), "", 0o3755 & fs.ModePerm},
		// A name that looks like a date: only the first date counts.
		{"-rw-r--r-- 1 u g 5 Mar 1 2020 Mar 1 2021 notes", "Mar 1 2021 notes", EntryFile, 5,
			time.Date(2020, 3, 1, 0, 0, 0, 0, time.UTC), "", 0o644},
		// DOS form (IIS).
		{"01-16-23  02:15PM       <DIR>          Program Files", "Program Files", EntryDir, 0,
			time.Date(2023, 1, 16, 14, 15, 0, 0, time.UTC), "", 0},
		{"03-10-2024  09:05AM              1234 report.txt", "report.txt", EntryFile, 1234,
			time.Date(2024, 3, 10, 9, 5, 0, 0, time.UTC), "", 0},
	}
	for _, tt := range tests {
		e, err := parseListLine(tt.line, now)
		if err != nil {
			t.Errorf("parseListLine(%q): %v", tt.line, err)
			continue
		}
		if e.Name != tt.name || e.Type != tt.typ || e.Size != tt.size || !e.ModTime.Equal(tt.mtime) || e.Target != tt.target || e.Mode != tt.mode {
			t.Errorf("parseListLine(%q) = {%q %v %d %v %q %v}, want {%q %v %d %v %q %v}", tt.line,
				e.Name, e.Type, e.Size, e.ModTime, e.Target, e.Mode, tt.name, tt.typ, tt.size, tt.mtime, tt.target, tt.mode)
		}
		if e.Raw != tt.line {
			t.Errorf("parseListLine(%q).Raw = %q", tt.line, e.Raw)
		}
	}
	for _, line := range []string{
		"total 12",
		"",
		"-rw-r--r-- 1 u g notasize Mar 1 2020 x",
		"-rw-r--r-- 1 u g 5 Mar 1 2020",
		"-rw-r--r-- 1 u g 5 Mar 32 2020 x",
		"-rw-r--r-- 1 u g 5 Mar 1 24:00 x",
		"Xrw-r--r-- 1 u g 5 Mar 1 2020 x",
	} {
		if e, err := parseListLine(line, now); err == nil {
			t.Errorf("parseListLine(%q) = %+v, want an error", line, e)
		}
	}
}

func TestParseMLSDLine(t *testing.T) {
	tests := []struct {
		line  string
		name  string
		typ   EntryType
		size  int64
		mtime time.Time
	}{
		{"type=file;size=3145745;modify=20240309112233;perm=adfrw;unique=801g2; a file ü.bin", "a file ü.bin", EntryFile, 3145745,
			time.Date(2024, 3, 9, 11, 22, 33, 0, time.UTC)},
		{"Type=DIR;Modify=20240309112233.5; sub; dir", "sub; dir", EntryDir, 0,
			time.Date(2024, 3, 9, 11, 22, 33, 500e6, time.UTC)},
		{"type=OS.unix=slink:/etc/passwd;size=11; pw", "pw", EntryLink, 11, time.Time{}},
		{" name only", "name only", EntryOther, 0, time.Time{}},
		{"type=cdir;sizd=4096; .", ".", EntryDir, 4096, time.Time{}},
	}
	for _, tt := range tests {
		e, err := parseMLSDLine(tt.line)
		if err != nil {
			t.Errorf("parseMLSDLine(%q): %v", tt.line, err)
			continue
		}
		if e.Name != tt.name || e.Type != tt.typ || e.Size != tt.size || !e.ModTime.Equal(tt.mtime) {
			t.Errorf("parseMLSDLine(%q) = {%q %v %d %v}, want {%q %v %d %v}", tt.line,
				e.Name, e.Type, e.Size, e.ModTime, tt.name, tt.typ, tt.size, tt.mtime)
		}
	}
	if e, _ := parseMLSDLine("type=OS.unix=slink:/etc/passwd; pw"); e.Target != "/etc/passwd" {
		t.Errorf("parseMLSDLine slink target = %q, want /etc/passwd", e.Target)
	}
	if e, _ := parseMLSDLine("type=file;unix.mode=0640; f"); e.Mode != 0o640 {
		t.Errorf("parseMLSDLine unix.mode = %v, want 0640", e.Mode)
	}
	for _, line := range []string{"type=file;size=1;name-without-space", "type=file; ", "size=-1; x", "size=abc; x", "=v; x", "novalue; x"} {
		if e, err := parseMLSDLine(line); err == nil {
			t.Errorf("parseMLSDLine(%q) = %+v, want an error", line, e)
		}
	}
}

func TestParseTimeVal(t *testing.T) {
	for in, want := range map[string]time.Time{
		"20240102030405":      time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		"20240102030405.123":  time.Date(2024, 1, 2, 3, 4, 5, 123e6, time.UTC),
		"19991231235959.9999": time.Date(1999, 12, 31, 23, 59, 59, 999900000, time.UTC),
	} {
		if got, ok := parseTimeVal(in); !ok || !got.Equal(want) {
			t.Errorf("parseTimeVal(%q) = %v, %v, want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"2024010203040", "20241302030405", "20240102030405.", "20240102030405.1234567890", "20240102030405.-1", "x"} {
		if got, ok := parseTimeVal(in); ok {
			t.Errorf("parseTimeVal(%q) = %v, true; want false", in, got)
		}
	}
}

func FuzzParseListLine(f *testing.F) {
	for _, s := range []string{
		"-rw-r--r--    1 ftp      ftp       3145745 Mar 09 11:22 a file.bin",
		"lrwxrwxrwx 1 root root 7 Feb 29 00:00 link -> target",
		"01-16-23  02:15PM       <DIR>          Program Files",
		"total 0",
	} {
		f.Add(s)
	}
	now := time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, line string) {
		e, err := parseListLine(line, now)
		if err != nil {
			return
		}
		if e.Name == "" || e.Size < 0 || !strings.Contains(line, e.Name) {
			t.Fatalf("parseListLine(%q) = name %q size %d", line, e.Name, e.Size)
		}
	})
}

func FuzzParseMLSDLine(f *testing.F) {
	for _, s := range []string{
		"type=file;size=3;modify=20240309112233;perm=r; a b",
		"type=OS.unix=slink:/x; l",
		" bare",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		e, err := parseMLSDLine(line)
		if err != nil {
			return
		}
		if e.Name == "" || e.Size < 0 || !strings.HasSuffix(line, e.Name) {
			t.Fatalf("parseMLSDLine(%q) = name %q size %d", line, e.Name, e.Size)
		}
	})
}
