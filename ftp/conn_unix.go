//go:build unix

package ftp

import (
	"errors"
	"io/fs"
	"net"
	"reflect"
	"strconv"
	"syscall"
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
// that expose it with NetConn (crypto/tls) or Raw (go-proxyproto), or
// that embed the net.Conn they wrap (the usual way to write a wrapper).
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
			inner := embeddedConn(c)
			if inner == nil {
				return nil
			}
			c = inner
		}
	}
	return nil
}

// embeddedConn returns the net.Conn a struct wrapper embeds, or nil.
func embeddedConn(c net.Conn) net.Conn {
	v := reflect.ValueOf(c)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	f := v.Elem().FieldByName("Conn")
	if !f.IsValid() || !f.CanInterface() || f.Kind() != reflect.Interface || f.IsNil() {
		return nil
	}
	inner, _ := f.Interface().(net.Conn)
	return inner
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
