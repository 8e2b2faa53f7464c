//go:build !unix

package ftp

import (
	"io/fs"
	"net"
)

func fileID(fs.FileInfo) (string, bool) { return "", false }

func setOOBInline(net.Conn) {}

func peerClosed(net.Conn) bool { return false }

func controlGone(net.Conn) bool { return false }
