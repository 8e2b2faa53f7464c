package ftp

import (
	"strings"
	"time"
)

// cmdMFMT sets a file's modification time (draft-somers-ftp-mfxx):
// "MFMT YYYYMMDDHHMMSS[.sss] path", in UTC; the reply gives the time set.
func (s *session) cmdMFMT(arg string) bool {
	tv, p, ok := strings.Cut(arg, " ")
	mtime, valid := parseTimeVal(tv)
	if !ok || p == "" || !valid {
		s.reply(501, "Syntax: MFMT YYYYMMDDHHMMSS <path>")
		return false
	}
	vpath, ok := s.setModTime("MFMT", p, mtime)
	if ok {
		s.reply(213, "Modify="+mtime.Format("20060102150405")+"; "+vpath)
	}
	return false
}

// siteUTIME is SITE UTIME in both forms clients send (lftp among them):
// "YYYYMMDDhhmmss path", and ProFTPD's "path atime mtime ctime UTC",
// where only mtime is used. A path may hold spaces, so the second form
// is read from its end.
func (s *session) siteUTIME(rest string) {
	const usage = "Syntax: SITE UTIME YYYYMMDDhhmmss <path>, or SITE UTIME <path> <atime> <mtime> <ctime> UTC"
	var p string
	var mtime time.Time
	f := strings.Fields(rest)
	if n := len(f); n >= 5 && strings.EqualFold(f[n-1], "UTC") {
		t, ok := parseTimeVal(f[n-3])
		_, okA := parseTimeVal(f[n-4])
		_, okC := parseTimeVal(f[n-2])
		if !ok || !okA || !okC {
			s.reply(501, usage)
			return
		}
		i := len(rest)
		for range 4 { // cut the four last fields, keeping the path's own spaces
			rest = strings.TrimRight(rest[:i], " ")
			i = strings.LastIndexByte(rest, ' ')
		}
		p, mtime = rest[:max(i, 0)], t
	} else {
		tv, q, ok := strings.Cut(rest, " ")
		t, valid := parseTimeVal(tv)
		if !ok || q == "" || !valid {
			s.reply(501, usage)
			return
		}
		p, mtime = q, t
	}
	if p == "" {
		s.reply(501, usage)
		return
	}
	if _, ok := s.setModTime("SITE UTIME", p, mtime); ok {
		s.reply(200, "SITE UTIME command ok")
	}
}

// setModTime sets the modification time of the client's path p,
// answering the failures itself.
func (s *session) setModTime(op, p string, mtime time.Time) (vpath string, ok bool) {
	mt, can := s.fs.(ModTimeSetter)
	if !can {
		s.reply(502, op+" is not supported by this file system")
		return "", false
	}
	vpath, name := s.resolve(p)
	if vpath == "/" {
		s.reply(550, "Permission denied")
		return "", false
	}
	if err := mt.SetModTime(s.ctx, name, mtime); err != nil {
		s.replyFSError(op, err)
		return "", false
	}
	return vpath, true
}
