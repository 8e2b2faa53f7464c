package ftp

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// replyFSError answers a failed file operation with the RFC code its
// kind calls for. What the client asked for that cannot be (a missing
// name, a name the tree refuses, a link leading out of it) is the
// client's error: a 5xx reply, logged at most at Info. Only what fails
// on the server's side (an I/O error, a full table of files, an error of
// the Backend's own) is a 451 logged as an error. The error's text never
// reaches the client: it may name paths outside the client's view.
func (s *session) replyFSError(op string, err error) {
	var errno syscall.Errno
	isErrno := errors.As(err, &errno)
	var fe *Error
	switch {
	case errors.As(err, &fe) && fe.Code >= 400 && fe.Code < 600:
		s.reply(fe.Code, fe.Msg) // the backend chose the reply
	case errors.Is(err, ErrQuotaExceeded):
		s.reply(552, "Quota exceeded: "+op+" not done")
	case errors.Is(err, ErrFileTooLarge), isErrno && errno == syscall.EFBIG:
		s.reply(552, "File too large: "+op+" not done")
	case isErrno && (errno == syscall.ENOSPC || errno == syscall.EDQUOT):
		s.log.Warn("file operation failed: no space", "op", op, "err", err)
		s.reply(452, "Insufficient storage space: "+op+" not done")
	case errors.Is(err, errors.ErrUnsupported):
		s.reply(502, op+" is not supported by this file system")
	case errors.Is(err, fs.ErrNotExist):
		s.reply(550, "No such file or directory")
	case errors.Is(err, fs.ErrPermission), isErrno && errno == syscall.EROFS:
		s.reply(550, "Permission denied")
	case isErrno && errno == syscall.ENOTEMPTY: // before ErrExist, which it matches
		s.reply(550, "Directory not empty")
	case errors.Is(err, fs.ErrExist):
		s.reply(550, "File exists")
	case isErrno && errno == syscall.ENOTDIR:
		s.reply(550, "Not a directory")
	case isErrno && errno == syscall.EISDIR:
		s.reply(550, "Is a directory")
	case isErrno && errno == syscall.ELOOP:
		s.reply(550, "Too many levels of symbolic links")
	case isErrno && errno == syscall.ENAMETOOLONG:
		s.reply(553, "File name not allowed: too long")
	case isErrno && (errno == syscall.EXDEV || errno == syscall.EBUSY || errno == syscall.EMLINK):
		s.reply(550, "Requested action not taken: "+op+" not possible here")
	case errors.Is(err, fs.ErrInvalid), isErrno && errno == syscall.EINVAL:
		s.reply(550, "Requested action not taken: "+op+" not possible")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		s.reply(451, "Requested action aborted")
	case !isErrno && isPathError(err):
		// The file system refused the name before any system call: a
		// symbolic link leading out of the tree (os.Root), and the like.
		s.log.Info("file operation refused", "op", op, "err", err)
		s.reply(550, "Requested action not taken: "+op+" refused")
	default:
		s.log.Error("file operation failed", "op", op, "err", err)
		s.reply(451, "Requested action aborted: local error in processing")
	}
}

// isPathError reports whether err is about a name: an *fs.PathError or
// an *os.LinkError (which rename returns).
func isPathError(err error) bool {
	var pe *fs.PathError
	var le *os.LinkError
	return errors.As(err, &pe) || errors.As(err, &le)
}

// quote writes a path as RFC 959 quotes it in a 257 reply.
func quote(p string) string {
	return `"` + strings.ReplaceAll(p, `"`, `""`) + `"`
}

func (s *session) cmdPWD(arg string) bool {
	s.reply(257, quote(s.cwd)+" is the current directory")
	return false
}

func (s *session) cmdCWD(arg string) bool {
	if arg == "" {
		arg = "/"
	}
	vpath, name := s.resolve(arg)
	fi, err := s.fs.Stat(s.ctx, name)
	if err != nil {
		s.replyFSError("CWD", err)
		return false
	}
	if !fi.IsDir() {
		s.reply(550, "Not a directory")
		return false
	}
	s.cwd = vpath
	s.reply(250, "Directory changed to "+vpath)
	return false
}

func (s *session) cmdCDUP(arg string) bool { return s.cmdCWD("..") }

func (s *session) cmdMKD(arg string) bool {
	vpath, name := s.resolve(arg)
	if err := s.fs.Mkdir(s.ctx, name); err != nil {
		s.replyFSError("MKD", err)
		return false
	}
	s.reply(257, quote(vpath)+" created")
	return false
}

func (s *session) cmdRMD(arg string) bool {
	vpath, name := s.resolve(arg)
	if vpath == "/" {
		s.reply(550, "Permission denied")
		return false
	}
	if err := s.fs.RemoveDir(s.ctx, name); err != nil {
		s.replyFSError("RMD", err)
		return false
	}
	if s.cwd == vpath || strings.HasPrefix(s.cwd, vpath+"/") {
		s.cwd = "/"
	}
	s.reply(250, "Directory removed")
	return false
}

func (s *session) cmdDELE(arg string) bool {
	_, name := s.resolve(arg)
	fi, err := s.fs.Stat(s.ctx, name)
	if err == nil && fi.IsDir() {
		s.reply(550, "Is a directory; use RMD")
		return false
	}
	if err := s.fs.Remove(s.ctx, name); err != nil {
		s.replyFSError("DELE", err)
		return false
	}
	s.reply(250, "File deleted")
	return false
}

func (s *session) cmdRNFR(arg string) bool {
	vpath, name := s.resolve(arg)
	if _, err := s.fs.Stat(s.ctx, name); err != nil {
		s.replyFSError("RNFR", err)
		return false
	}
	if vpath == "/" {
		s.reply(550, "Permission denied")
		return false
	}
	s.rnfr = vpath
	s.reply(350, "Ready for RNTO")
	return false
}

func (s *session) cmdRNTO(arg string) bool {
	if s.rnfrArg == "" {
		s.reply(503, "RNFR required first")
		return false
	}
	_, from := s.resolve(s.rnfrArg)
	_, to := s.resolve(arg)
	if err := s.fs.Rename(s.ctx, from, to); err != nil {
		s.replyFSError("RNTO", err)
		return false
	}
	s.reply(250, "Rename successful")
	return false
}

func (s *session) cmdSIZE(arg string) bool {
	_, name := s.resolve(arg)
	fi, err := s.fs.Stat(s.ctx, name)
	if err != nil {
		s.replyFSError("SIZE", err)
		return false
	}
	if !fi.Mode().IsRegular() {
		s.reply(550, "Not a regular file")
		return false
	}
	s.reply(213, strconv.FormatInt(fi.Size(), 10))
	return false
}

func (s *session) cmdMDTM(arg string) bool {
	_, name := s.resolve(arg)
	fi, err := s.fs.Stat(s.ctx, name)
	if err != nil {
		s.replyFSError("MDTM", err)
		return false
	}
	if !fi.Mode().IsRegular() {
		s.reply(550, "Not a regular file")
		return false
	}
	s.reply(213, fi.ModTime().UTC().Format("20060102150405"))
	return false
}

func (s *session) cmdSITE(arg string) bool {
	sub, rest, _ := strings.Cut(arg, " ")
	switch strings.ToUpper(sub) {
	case "HELP":
		s.replyLines(214, "SITE commands:", []string{"CHMOD <mode> <path>", "UTIME YYYYMMDDhhmmss <path>", "HELP"}, "End")
	case "UTIME":
		s.siteUTIME(rest)
	case "CHMOD":
		modeArg, p, ok := strings.Cut(rest, " ")
		mode, err := strconv.ParseUint(modeArg, 8, 32)
		if !ok || p == "" || err != nil || mode > 0o777 {
			s.reply(501, "Syntax: SITE CHMOD <octal mode> <path>")
			return false
		}
		ch, ok := s.fs.(Chmoder)
		if !ok {
			s.reply(502, "SITE CHMOD not supported by this file system")
			return false
		}
		_, name := s.resolve(p)
		if err := ch.Chmod(s.ctx, name, fs.FileMode(mode)); err != nil {
			s.replyFSError("SITE CHMOD", err)
			return false
		}
		s.reply(200, "SITE CHMOD command ok")
	default:
		s.reply(500, "Unknown SITE command; try SITE HELP")
	}
	return false
}

func (s *session) readOnly() bool {
	ro, ok := s.fs.(ReadOnlyFS)
	return ok && ro.ReadOnly()
}

func (s *session) cmdMLST(arg string) bool {
	vpath, name := s.resolve(arg)
	fi, err := s.fs.Stat(s.ctx, name)
	if err != nil {
		s.replyFSError("MLST", err)
		return false
	}
	facts := mlsxFacts(fi, vpath, s.readOnly(), s.mlstFacts)
	s.replyLines(250, "Listing "+vpath, []string{facts + " " + vpath}, "End")
	return false
}

// cmdSTAT answers with the transfer's progress while one runs, the
// session's status without an argument, and a listing of a path (over
// the control connection) with one.
func (s *session) cmdSTAT(arg string) bool {
	if x := s.current(); x != nil {
		s.reply(213, fmt.Sprintf("Status: transferring %s, %d bytes so far", x.name, x.bytes.Load()))
		return false
	}
	if arg == "" {
		lines := []string{"plumb FTP server status:", "Connected from " + s.remote.String()}
		if s.loggedIn {
			lines = append(lines, "Logged in, current directory "+s.cwd)
		} else {
			lines = append(lines, "Not logged in")
		}
		typ := "BINARY"
		if s.ascii {
			typ = "ASCII"
		}
		lines = append(lines, "TYPE: "+typ+"; STRUcture: File; transfer MODE: Stream")
		if s.tls {
			prot := "clear"
			if s.protP {
				prot = "private"
			}
			lines = append(lines, "Control connection TLS; data protection "+prot)
		}
		s.replyLines(211, lines[0], lines[1:], "End of status")
		return false
	}
	if !s.loggedIn {
		s.reply(530, "Please log in with USER and PASS")
		return false
	}
	vpath, entries, err := s.listEntries(stripListOptions(arg))
	if err != nil {
		s.replyFSError("STAT", err)
		return false
	}
	now := time.Now()
	lines := make([]string, len(entries))
	for i, fi := range entries {
		lines[i] = listLine(fi, now)
	}
	s.replyLines(213, "Status of "+vpath+":", lines, "End of status")
	return false
}
