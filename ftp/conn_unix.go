//go:build unix

package ftp

import (
	"errors"
	"io/fs"
	"net"
	"strconv"
	"syscall"
	"time"
)

// fileID is the "unique" MLSx fact from the device and inode numbers.
func fileID(fi fs.FileInfo) (string, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", false
	}
	return strconv.FormatUint(uint64(st.Dev), 16) + "g" + strconv.FormatUint(uint64(st.Ino), 16), true
}

// sysConn finds the socket under c, through TLS and listener wrappers
// that expose it with NetConn (crypto/tls and plumb's daemon) or Raw
// (go-proxyproto).
func sysConn(c net.Conn) syscall.Conn {
	for range 8 {
		if sc, ok := c.(syscall.Conn); ok {
			return sc
		}
		switch w := c.(type) {
		case interface{ NetConn() net.Conn }:
			c = w.NetConn()
		case interface{ Raw() net.Conn }:
			c = w.Raw()
		default:
			return nil
		}
	}
	return nil
}

// setOOBInline keeps TCP urgent data in the stream: clients send ABOR
// (or the telnet IP/DM before it) as urgent data, which the kernel
// would otherwise take out of the stream.
func setOOBInline(c net.Conn) {
	sc := sysConn(c)
	if sc == nil {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_OOBINLINE, 1)
	})
}

// controlGoneGrace is how long controlGone waits for the control
// connection's end to arrive after the data connection's.
const controlGoneGrace = time.Millisecond

// controlGone reports whether the client closed its control connection
// by the time its data connection ended. A process that dies has its
// sockets closed by the kernel in an order of its own (on Linux the
// last opened first, so the data connection before the control one),
// so a moment is given for the second close to arrive.
func controlGone(c net.Conn) bool {
	if sysConn(c) == nil {
		return false
	}
	if peerClosed(c) {
		return true
	}
	time.Sleep(controlGoneGrace)
	return peerClosed(c)
}

// peerClosed reports, without consuming anything, whether the client
// has closed (or reset) connection c. A client killed mid-upload closes
// its control connection before (or with) its data connection, and a
// stream-mode upload cannot otherwise tell its end from a cut.
func peerClosed(c net.Conn) bool {
	sc := sysConn(c)
	if sc == nil {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	closed := false
	rc.Control(func(fd uintptr) {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == nil:
			closed = n == 0
		case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EINTR):
		default:
			closed = true
		}
	})
	return closed
}
