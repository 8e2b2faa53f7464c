//go:build !linux

package daemon

import "net"

// corkSocket is TCP_CORK's, which this system has not: nothing.
func corkSocket(net.Conn) (uncork func()) { return nil }
