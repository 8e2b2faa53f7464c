package simple

import (
	"errors"
	"net"
	"runtime"
	"sync"
)

// MaxDatagram is the largest UDP payload over IPv4 (65,535 less the IP
// and UDP headers); echo answers datagrams up to this size.
const MaxDatagram = 65507

// ServePacket answers datagrams on pc until Close or Shutdown, then
// returns ErrServerClosed. Echo sends each datagram back; discard
// answers nothing; chargen answers 1 to 512 characters of the pattern
// whatever the request's size; daytime, qotd and time send their reply.
// Datagrams from port 0 or from another small service's port are
// dropped (see the package documentation).
func (s *Server) ServePacket(pc net.PacketConn) error {
	if serviceInfo[s.Service].name == "" {
		return errors.New("simple: Server.Service is not a known service")
	}
	s.mu.Lock()
	if s.inShutdown.Load() {
		s.mu.Unlock()
		return ErrServerClosed
	}
	if s.packets == nil {
		s.packets = make(map[net.PacketConn]struct{})
	}
	s.packets[pc] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.packets, pc)
		s.mu.Unlock()
	}()

	// Several readers, each with its own buffer, so one slow reply does
	// not hold up the rest; a datagram is read whole into one buffer.
	readers := min(runtime.GOMAXPROCS(0), 4)
	errs := make(chan error, readers)
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() { errs <- s.readPackets(pc) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if s.inShutdown.Load() || errors.Is(err, net.ErrClosed) {
			continue
		}
		return err
	}
	return ErrServerClosed
}

func (s *Server) readPackets(pc net.PacketConn) error {
	buf := make([]byte, MaxDatagram+1)
	failures := 0
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			if s.inShutdown.Load() || errors.Is(err, net.ErrClosed) {
				return net.ErrClosed
			}
			// A datagram-level error (an ICMP unreachable reported on the
			// socket) is about one peer; keep serving the rest unless the
			// socket itself keeps failing.
			if failures++; failures < 100 {
				s.logger().Debug("udp read", "service", s.Service.String(), "err", err)
				continue
			}
			return err
		}
		failures = 0
		if s.Service == Discard || dropSource(addr) {
			continue
		}
		if n > MaxDatagram {
			continue // not UDP over IPv4 or IPv6 without jumbograms; ignore
		}
		reply := s.reply(buf[:n])
		if _, err := pc.WriteTo(reply, addr); err != nil {
			if s.inShutdown.Load() || errors.Is(err, net.ErrClosed) {
				return net.ErrClosed
			}
			s.logger().Debug("udp write", "service", s.Service.String(), "remote", addr.String(), "err", err)
		}
	}
}

// dropSource reports whether a datagram from addr must go unanswered.
func dropSource(addr net.Addr) bool {
	switch a := addr.(type) {
	case *net.UDPAddr:
		return loopPort(a.Port)
	case nil:
		return true
	}
	return false
}
