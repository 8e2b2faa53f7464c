package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// datagramPeer is the UDP socket of plumb connect --udp (connected to
// its server) or plumb listen --udp (which learns its peer from the
// first datagram, or with keep from the latest one).
type datagramPeer struct {
	conn      *net.UDPConn
	connected bool
	keep      bool
	stderr    io.Writer

	mu     sync.Mutex
	peer   netip.AddrPort
	known  chan struct{} // closed once peer is set
	warned bool
}

func newConnectedPeer(c *net.UDPConn) *datagramPeer {
	p := &datagramPeer{conn: c, connected: true, known: make(chan struct{})}
	close(p.known)
	return p
}

func newListeningPeer(c *net.UDPConn, keep bool, stderr io.Writer) *datagramPeer {
	return &datagramPeer{conn: c, keep: keep, stderr: stderr, known: make(chan struct{})}
}

// accept reports whether a datagram from "from" belongs to the session,
// learning the peer from the first one.
func (p *datagramPeer) accept(from netip.AddrPort) bool {
	if p.connected {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case !p.peer.IsValid():
		p.peer = from
		close(p.known)
		fmt.Fprintf(p.stderr, "plumb: datagrams from %s\n", from)
	case p.peer == from:
	case p.keep:
		p.peer = from
	default:
		if !p.warned {
			p.warned = true
			fmt.Fprintf(p.stderr, "plumb: ignoring datagrams from %s (talking to %s; --keep answers any sender)\n", from, p.peer)
		}
		return false
	}
	return true
}

func (p *datagramPeer) send(ctx context.Context, b []byte) error {
	if p.connected {
		_, err := p.conn.Write(b)
		return err
	}
	select {
	case <-p.known:
	case <-ctx.Done():
		return ctx.Err()
	}
	p.mu.Lock()
	to := p.peer
	p.mu.Unlock()
	_, err := p.conn.WriteToUDPAddrPort(b, to)
	return err
}

// pipeDatagrams sends each read of in as one datagram and writes each
// datagram received to out. UDP has no end of stream, so once in has
// ended (and the peer is known) it stops after a silence of opt.idle,
// or udpLinger; with opt.idle it also stops after that much silence
// either way. A listener with keep runs until interrupted.
func pipeDatagrams(ctx context.Context, p *datagramPeer, in io.Reader, out io.Writer, opt pipeOptions) error {
	stop := context.AfterFunc(ctx, func() { p.conn.Close() })
	defer stop()
	linger := opt.idle
	if linger <= 0 {
		linger = udpLinger
	}
	var inEnded atomic.Bool
	extend := func() {
		switch {
		case inEnded.Load() && !p.keep:
			p.conn.SetReadDeadline(time.Now().Add(linger))
		case opt.idle > 0:
			p.conn.SetReadDeadline(time.Now().Add(opt.idle))
		}
	}
	sendErr := make(chan error, 1)
	go func() {
		buf := make([]byte, maxDatagram)
		for {
			n, err := in.Read(buf)
			if n > 0 {
				b := buf[:n]
				if opt.crlf {
					b = appendCRLF(nil, b)
				}
				if werr := p.send(ctx, b); werr != nil {
					sendErr <- werr
					p.conn.Close()
					return
				}
				extend()
			}
			if err != nil {
				inEnded.Store(true)
				select {
				case <-p.known:
					extend()
				default: // the silence counts from the first datagram
				}
				if errors.Is(err, io.EOF) {
					err = nil
				}
				sendErr <- err
				return
			}
		}
	}()
	extend()
	buf := make([]byte, 1<<16)
	for {
		n, from, err := p.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			select {
			case serr := <-sendErr:
				if serr != nil && ctx.Err() == nil {
					return &sessionError{fmt.Errorf("sending: %w", serr)}
				}
			default:
			}
			switch {
			case ctx.Err() != nil:
				return ctx.Err()
			case isTimeout(err) && inEnded.Load():
				return nil
			case isTimeout(err):
				return &sessionError{fmt.Errorf("idle timeout: no datagram for %s", opt.idle)}
			case errors.Is(err, syscall.ECONNREFUSED):
				return &sessionError{fmt.Errorf("%s: connection refused: nothing is listening on that UDP port", p.conn.RemoteAddr())}
			}
			return &sessionError{err}
		}
		if !p.accept(from) {
			continue
		}
		if inEnded.Load() || opt.idle > 0 {
			extend()
		}
		if _, err := out.Write(buf[:n]); err != nil {
			return fmt.Errorf("writing standard output: %w", err)
		}
	}
}

// appendCRLF appends b to dst with each bare LF made CRLF.
func appendCRLF(dst, b []byte) []byte {
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			dst = append(dst, '\r')
		}
		dst = append(dst, c)
	}
	return dst
}
