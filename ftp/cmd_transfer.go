package ftp

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"path"
	"strconv"
	"strings"
	"time"
)

func (s *session) cmdTYPE(arg string) bool {
	f := strings.Fields(strings.ToUpper(arg))
	switch {
	case len(f) == 1 && f[0] == "I", len(f) == 2 && f[0] == "L" && f[1] == "8":
		s.ascii = false
		s.reply(200, "Switching to Binary mode")
	case len(f) == 1 && f[0] == "A", len(f) == 2 && f[0] == "A" && f[1] == "N":
		s.ascii = true
		s.reply(200, "Switching to ASCII mode")
	case len(f) >= 1 && (f[0] == "A" || f[0] == "E" || f[0] == "L"):
		s.reply(504, "Type not supported; use TYPE A or TYPE I")
	default:
		s.reply(501, "Unknown type")
	}
	return false
}

func (s *session) cmdSTRU(arg string) bool {
	if strings.EqualFold(arg, "F") {
		s.reply(200, "Structure set to File")
	} else {
		s.reply(504, "Only STRU F is supported")
	}
	return false
}

func (s *session) cmdMODE(arg string) bool {
	if strings.EqualFold(arg, "S") {
		s.reply(200, "Mode set to Stream")
	} else {
		s.reply(504, "Only MODE S is supported")
	}
	return false
}

func (s *session) cmdREST(arg string) bool {
	n, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || n < 0 {
		s.reply(501, "REST needs a non-negative byte offset")
		return false
	}
	s.rest = n
	s.reply(350, fmt.Sprintf("Restarting at %d; send STOR, APPE or RETR", n))
	return false
}

func (s *session) cmdABOR(arg string) bool {
	x := s.current()
	if x == nil {
		s.closePassive()
		s.reply(225, "No transfer to abort")
		return false
	}
	x.abort()
	<-x.done
	s.reply(226, "ABOR successful")
	return false
}

// transferMode names the TYPE for the 150 reply.
func (s *session) transferMode() string {
	if s.ascii {
		return "ASCII"
	}
	return "BINARY"
}

// dataOpenFailed answers a data connection that could not be made.
func (s *session) dataOpenFailed(x *transfer, err error) {
	var fe *Error
	switch {
	case x.aborted.Load():
		s.reply(426, "Transfer aborted")
	case errors.Is(err, errDataSession):
		setting := s.srv.SessionReuseSetting
		if setting == "" {
			setting = "AllowDataSessionChange"
		}
		s.log.Warn("PROT P data connection without TLS session reuse refused", "setting", setting)
		s.reply(425, "Data connection refused: it must reuse the control connection's TLS session "+
			"(the client must resume it; the server's "+setting+" setting lifts this rule)")
	case errors.As(err, &fe): // an injected fault (Server.Faults)
		s.reply(fe.Code, fe.Msg)
	case errors.Is(err, errDataRefused):
		s.log.Info("data connection refused", "err", err)
		s.reply(425, "Data connection refused: over the server's connection limits; try again later")
	default:
		s.log.Info("data connection failed", "err", err)
		s.reply(425, "Cannot open data connection")
	}
}

// openFile opens a file for RETR and describes it: from the open file
// when it can say (an *os.File: one lookup of the name, not two), else
// with Stat. A name that cannot be opened is looked at to say why.
func (s *session) openFile(name string) (io.ReadSeekCloser, fs.FileInfo, bool) {
	f, err := s.fs.Open(s.ctx, name)
	if err != nil {
		if fi, serr := s.fs.Stat(s.ctx, name); serr == nil && !fi.Mode().IsRegular() {
			s.reply(550, "Not a plain file")
		} else {
			s.replyFSError("RETR", err)
		}
		return nil, nil, false
	}
	var fi fs.FileInfo
	if st, ok := f.(interface{ Stat() (fs.FileInfo, error) }); ok {
		fi, err = st.Stat()
	} else {
		fi, err = s.fs.Stat(s.ctx, name)
	}
	if err != nil {
		f.Close()
		s.replyFSError("RETR", err)
		return nil, nil, false
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		s.reply(550, "Not a plain file")
		return nil, nil, false
	}
	return f, fi, true
}

func (s *session) cmdRETR(arg string) bool {
	vpath, name := s.resolve(arg)
	f, fi, ok := s.openFile(name)
	if !ok {
		return false
	}
	offset := s.takeRest()
	if offset > fi.Size() {
		f.Close()
		s.reply(554, "REST offset beyond the end of the file")
		return false
	}
	if offset > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			f.Close()
			s.replyFSError("RETR", err)
			return false
		}
	}
	d, ok := s.dataEndpoint()
	if !ok {
		f.Close()
		s.reply(425, "Use PORT, EPRT, PASV or EPSV first")
		return false
	}
	ascii, size := s.ascii, fi.Size()-offset
	opening := fmt.Sprintf("Opening %s mode data connection for %s (%d bytes)", s.transferMode(), vpath, size)
	s.startTransfer(vpath, func(x *transfer) {
		defer f.Close()
		c, err := d.open(x.ctx, func() { s.reply(150, opening) })
		if err != nil {
			s.dataOpenFailed(x, err)
			return
		}
		if !x.setData(c) {
			s.reply(426, "Transfer aborted")
			return
		}
		err = s.sendData(x, c, f, size, ascii)
		if cerr := c.Close(); err == nil {
			err = cerr
		}
		if se := (*storeError)(nil); errors.As(err, &se) && !x.aborted.Load() {
			s.replyFSError("RETR", se.err)
			return
		}
		s.finishTransfer(x, err, "Transfer complete")
	})
	return false
}

// finishTransfer sends a transfer's last reply.
func (s *session) finishTransfer(x *transfer, err error, ok string) {
	switch {
	case x.aborted.Load():
		s.reply(426, "Transfer aborted")
	case err != nil:
		s.log.Info("transfer failed", "file", x.name, "bytes", x.bytes.Load(), "err", err)
		s.reply(426, "Connection closed; transfer aborted")
	default:
		s.reply(226, ok)
	}
}

func (s *session) cmdSTOR(arg string) bool { return s.store("STOR", arg, s.takeRest(), false) }

func (s *session) cmdAPPE(arg string) bool {
	s.takeRest()
	return s.store("APPE", arg, AppendOffset, false)
}

func (s *session) cmdSTOU(arg string) bool {
	s.takeRest()
	if arg == "" {
		arg = "file"
	}
	return s.store("STOU", arg, 0, true)
}

// uniqueName picks a name like vpath that does not exist yet.
func (s *session) uniqueName(vpath string) string {
	for i := 0; i < 1000; i++ {
		p := vpath
		if i > 0 {
			p = vpath + "." + strconv.Itoa(i)
		}
		_, name := s.resolve(p)
		if _, err := s.fs.Stat(s.ctx, name); errors.Is(err, fs.ErrNotExist) {
			return p
		}
	}
	return fmt.Sprintf("%s.%d", vpath, time.Now().UnixNano())
}

// store runs STOR, APPE and STOU: the upload is committed only when
// the data connection ended cleanly and the control connection is
// still there; otherwise nothing shows under the name.
func (s *session) store(verb, arg string, offset int64, unique bool) bool {
	vpath, name := s.resolve(arg)
	if unique {
		vpath = s.uniqueName(vpath)
		_, name = s.resolve(vpath)
	}
	if fi, err := s.fs.Stat(s.ctx, name); err == nil && fi.IsDir() {
		s.reply(550, "Is a directory")
		return false
	}
	up, err := s.fs.Create(s.ctx, name, offset)
	if err != nil {
		if offset > 0 && errors.Is(err, fs.ErrInvalid) {
			s.reply(554, "REST offset beyond the end of the file")
		} else {
			s.replyFSError(verb, err)
		}
		return false
	}
	d, ok := s.dataEndpoint()
	if !ok {
		up.Abort()
		s.reply(425, "Use PORT, EPRT, PASV or EPSV first")
		return false
	}
	ascii := s.ascii
	opening := fmt.Sprintf("Opening %s mode data connection for %s", s.transferMode(), vpath)
	if unique {
		opening = "FILE: " + path.Base(vpath)
	}
	s.startTransfer(vpath, func(x *transfer) {
		c, err := d.open(x.ctx, func() { s.reply(150, opening) })
		if err != nil {
			up.Abort()
			s.dataOpenFailed(x, err)
			return
		}
		if !x.setData(c) {
			up.Abort()
			s.reply(426, "Transfer aborted")
			return
		}
		err = s.receiveData(x, c, up, ascii)
		var se *storeError
		if errors.As(err, &se) {
			up.Abort()
			s.replyFSError(verb, se.err)
			drainRefused(c)
			c.Close()
			return
		}
		if err == nil && !x.aborted.Load() && controlGone(s.raw) {
			err = errControlClosed
		}
		c.Close()
		if err != nil || x.aborted.Load() {
			up.Abort()
			s.finishTransfer(x, err, "")
			return
		}
		if err := up.Commit(x.ctx); err != nil {
			s.replyFSError(verb, err)
			return
		}
		if unique {
			s.reply(226, "Transfer complete (unique file name: "+path.Base(vpath)+")")
		} else {
			s.reply(226, "Transfer complete")
		}
	})
	return false
}

// Limits on reading what is left of a refused upload.
const (
	drainMaxBytes = 64 << 20
	drainMaxTime  = 2 * time.Second
)

// drainRefused reads and discards the rest of an upload refused (over a
// quota, say), up to a bound: closing at once would make a client that is
// still sending fail on its write ("broken pipe") before it reads the
// 552 that says why.
func drainRefused(c net.Conn) {
	c.SetReadDeadline(time.Now().Add(drainMaxTime))
	io.CopyN(io.Discard, c, drainMaxBytes)
}

// errControlClosed: the client's control connection ended during an upload.
var errControlClosed = errors.New("ftp: control connection closed during the upload")

// stripListOptions drops "ls"-style options ("-la") clients put before
// LIST's and NLST's path.
func stripListOptions(arg string) string {
	for strings.HasPrefix(arg, "-") {
		_, rest, found := strings.Cut(arg, " ")
		if !found {
			return ""
		}
		arg = strings.TrimLeft(rest, " ")
	}
	return arg
}

// listEntries returns a directory's entries, or the one entry of a file.
func (s *session) listEntries(arg string) (string, []fs.FileInfo, error) {
	vpath, name := s.resolve(arg)
	fi, err := s.fs.Stat(s.ctx, name)
	if err != nil {
		return vpath, nil, err
	}
	if !fi.IsDir() {
		return vpath, []fs.FileInfo{fi}, nil
	}
	entries, err := s.fs.ReadDir(s.ctx, name)
	return vpath, entries, err
}

func (s *session) cmdLIST(arg string) bool {
	_, entries, err := s.listEntries(stripListOptions(arg))
	if err != nil {
		s.replyFSError("LIST", err)
		return false
	}
	now := time.Now()
	return s.sendListing("LIST", len(entries), func(i int) string { return listLine(entries[i], now) })
}

func (s *session) cmdNLST(arg string) bool {
	arg = stripListOptions(arg)
	vpath, name := s.resolve(arg)
	var names []string
	fi, err := s.fs.Stat(s.ctx, name)
	switch {
	case err == nil && !fi.IsDir():
		names = []string{arg}
	case err == nil:
		entries, err := s.fs.ReadDir(s.ctx, name)
		if err != nil {
			s.replyFSError("NLST", err)
			return false
		}
		for _, e := range entries {
			names = append(names, joinListName(arg, e.Name()))
		}
	case errors.Is(err, fs.ErrNotExist) && strings.ContainsAny(path.Base(vpath), "*?["):
		// A glob, as mget sends: match names of the directory.
		dirArg, pattern := path.Split(arg)
		_, dirName := s.resolve(dirArg)
		entries, err := s.fs.ReadDir(s.ctx, dirName)
		if err != nil {
			s.replyFSError("NLST", err)
			return false
		}
		for _, e := range entries {
			if ok, _ := path.Match(pattern, e.Name()); ok {
				names = append(names, dirArg+e.Name())
			}
		}
	default:
		s.replyFSError("NLST", err)
		return false
	}
	return s.sendListing("NLST", len(names), func(i int) string { return names[i] })
}

func joinListName(dir, name string) string {
	if dir == "" {
		return name
	}
	return strings.TrimSuffix(dir, "/") + "/" + name
}

func (s *session) cmdMLSD(arg string) bool {
	vpath, name := s.resolve(arg)
	fi, err := s.fs.Stat(s.ctx, name)
	if err != nil {
		s.replyFSError("MLSD", err)
		return false
	}
	if !fi.IsDir() {
		s.reply(501, "Not a directory")
		return false
	}
	entries, err := s.fs.ReadDir(s.ctx, name)
	if err != nil {
		s.replyFSError("MLSD", err)
		return false
	}
	ro, facts := s.readOnly(), s.mlstFacts
	return s.sendListing("MLSD", len(entries), func(i int) string {
		e := entries[i]
		return mlsxFacts(e, path.Join(vpath, e.Name()), ro, facts) + " " + e.Name()
	})
}

// sendListing sends n lines made by line over a data connection.
func (s *session) sendListing(verb string, n int, line func(int) string) bool {
	s.takeRest()
	d, ok := s.dataEndpoint()
	if !ok {
		s.reply(425, "Use PORT, EPRT, PASV or EPSV first")
		return false
	}
	s.startTransfer(verb, func(x *transfer) {
		c, err := d.open(x.ctx, func() { s.reply(150, "Here comes the listing") })
		if err != nil {
			s.dataOpenFailed(x, err)
			return
		}
		if !x.setData(c) {
			s.reply(426, "Transfer aborted")
			return
		}
		w := newDeadlineWriter(c, s.srv.dataTimeout(), x)
		for i := 0; i < n && err == nil; i++ {
			_, err = w.WriteString(line(i) + "\r\n")
		}
		if err == nil {
			err = w.Flush()
		}
		if cerr := c.Close(); err == nil {
			err = cerr
		}
		s.finishTransfer(x, err, "Transfer complete")
	})
	return false
}
