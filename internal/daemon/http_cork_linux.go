package daemon

import (
	"net"
	"syscall"
)

// corkSocket sets TCP_CORK on c's socket and returns the function that
// clears it, or nil when c is no TCP socket.
//
// While corked, the kernel sends only full segments: a file's body
// goes out in as few segments as its size allows. Without it (Go sets
// TCP_NODELAY on every connection) each sendfile(2) call, and each
// chunk of one that fills the socket's buffer, ends in a short segment
// sent at once: on loopback, 1 GiB went out in a third more segments,
// drawing two fifths more ACKs, and the server's CPU time per MB,
// mostly the kernel's receive path, followed. Clearing the cork sends
// what is left at once, so the response's end is not delayed.
func corkSocket(c net.Conn) (uncork func()) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK, 1)
	}); err != nil || serr != nil {
		return nil
	}
	return func() {
		rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK, 0) })
	}
}
