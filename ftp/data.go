package ftp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
)

// transfer is one data transfer running in its own goroutine.
type transfer struct {
	name    string
	bytes   atomic.Int64
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}
	aborted atomic.Bool

	mu   sync.Mutex
	data net.Conn
}

// setData records the open data connection so abort can close it; it
// reports false (and closes c) when the transfer was aborted already.
func (x *transfer) setData(c net.Conn) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.aborted.Load() {
		c.Close()
		return false
	}
	x.data = c
	return true
}

func (x *transfer) abort() {
	x.aborted.Store(true)
	x.cancel()
	x.mu.Lock()
	if x.data != nil {
		x.data.Close()
	}
	x.mu.Unlock()
}

// startTransfer runs fn in a transfer goroutine; the session reads
// further commands meanwhile and waits for it before any command not
// allowed during a transfer.
func (s *session) startTransfer(name string, fn func(x *transfer)) {
	ctx, cancel := context.WithCancel(s.ctx)
	x := &transfer{name: name, ctx: ctx, cancel: cancel, done: make(chan struct{})}
	s.mu.Lock()
	s.xfer = x
	s.mu.Unlock()
	go func() {
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic in transfer", "panic", p)
				s.reply(451, "Transfer aborted: local error")
			}
			x.mu.Lock()
			if x.data != nil {
				x.data.Close()
			}
			x.mu.Unlock()
			s.mu.Lock()
			s.xfer = nil
			if s.woken {
				s.conn.SetReadDeadline(time.Now())
			}
			s.mu.Unlock()
			cancel()
			close(x.done)
		}()
		keep := s.keepAlive(ctx)
		defer keep()
		fn(x)
	}()
}

// keepAlive marks the control connection active while a transfer runs,
// for a listener wrapper that closes connections idle too long (after
// about IdleTimeout, which the daemon gives both), so it ticks well
// within IdleTimeout.
func (s *session) keepAlive(ctx context.Context) (stop func()) {
	t, ok := s.raw.(interface{ Touch() })
	if !ok {
		return func() {}
	}
	every := 15 * time.Second
	if idle := s.srv.idleTimeout(); idle > 0 {
		every = min(every, max(idle/4, 10*time.Millisecond))
	}
	tick := time.NewTicker(every)
	done := make(chan struct{})
	go func() {
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				t.Touch()
			case <-ctx.Done():
				return
			case <-done:
				return
			}
		}
	}()
	return func() { close(done) }
}

func (s *session) busy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.xfer != nil
}

func (s *session) current() *transfer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.xfer
}

func (s *session) waitTransfer() {
	if x := s.current(); x != nil {
		<-x.done
	}
}

// passiveListener is a listener opened by PASV or EPSV for one data
// connection; it closes itself if no transfer uses it in time.
type passiveListener struct {
	ln    *net.TCPListener
	timer *time.Timer
}

func (p *passiveListener) close() {
	p.stopTimer()
	p.ln.Close()
}

func (p *passiveListener) stopTimer() {
	if p.timer != nil {
		p.timer.Stop()
	}
}

func (s *session) closePassive() {
	if s.pasv != nil {
		s.pasv.close()
		s.pasv = nil
	}
}

// dataListenConfig makes passive listeners: plain TCP (not the MPTCP
// Go listens with by default, a heavier socket in the kernel, for a
// connection that lives for one transfer) and no TCP keepalive, whose
// four setsockopt calls per connection buy nothing that DataTimeout
// does not.
var dataListenConfig = func() net.ListenConfig {
	lc := net.ListenConfig{KeepAlive: -1}
	lc.SetMultipathTCP(false)
	return lc
}()

// errNoPassivePort is returned when every port of the range is taken.
var errNoPassivePort = errors.New("ftp: no free port in the passive range")

// listenPassive opens a passive listener on the local address of the
// control connection's socket, on a random port of the configured range.
func (s *session) listenPassive() (*passiveListener, error) {
	s.closePassive()
	if !s.socket.IsValid() {
		// Not a TCP connection: there is no address to listen on that
		// the client is known to reach, and listening on all is too much.
		return nil, errors.New("ftp: control connection has no IP address")
	}
	ip := net.IP(s.socket.AsSlice())
	lo, hi := s.srv.PassivePortMin, s.srv.PassivePortMax
	if lo <= 0 || hi < lo || hi > 65535 {
		lo, hi = 0, 0
	}
	n := hi - lo + 1
	start := rand.IntN(n)
	var ln *net.TCPListener
	for i := 0; i < n; i++ {
		port := 0
		if lo > 0 {
			port = lo + (start+i)%n
		}
		l, err := dataListenConfig.Listen(context.Background(), "tcp", net.JoinHostPort(ip.String(), strconv.Itoa(port)))
		if err == nil {
			ln = l.(*net.TCPListener)
			break
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, err
		}
	}
	if ln == nil {
		return nil, errNoPassivePort
	}
	p := &passiveListener{ln: ln}
	if d := s.srv.passiveTimeout(); d > 0 {
		p.timer = time.AfterFunc(d, func() { ln.Close() })
	}
	s.pasv = p
	return p, nil
}

func (s *session) cmdPASV(arg string) bool {
	if s.epsvAll {
		s.reply(503, "PASV refused after EPSV ALL")
		return false
	}
	ip := s.socket
	if s.srv.PassiveAddress.IsValid() {
		ip = s.srv.PassiveAddress.Unmap()
	}
	if !ip.Is4() {
		s.reply(425, "PASV needs IPv4; use EPSV")
		return false
	}
	p, err := s.listenPassive()
	if err != nil {
		s.log.Warn("passive listen failed", "err", err)
		s.reply(425, "Cannot open passive connection")
		return false
	}
	port := p.ln.Addr().(*net.TCPAddr).Port
	a := ip.As4()
	s.holdPassiveReply()
	s.reply(227, fmt.Sprintf("Entering Passive Mode (%d,%d,%d,%d,%d,%d).", a[0], a[1], a[2], a[3], port>>8, port&0xff))
	return false
}

func (s *session) cmdEPSV(arg string) bool {
	switch strings.ToUpper(arg) {
	case "ALL":
		s.epsvAll = true
		s.reply(200, "EPSV ALL ok")
		return false
	case "":
	case "1", "2":
		if (arg == "1") != s.local.Is4() {
			s.reply(522, "Network protocol not supported, use ("+familyOf(s.local)+")")
			return false
		}
	default:
		s.reply(522, "Network protocol not supported, use ("+familyOf(s.local)+")")
		return false
	}
	p, err := s.listenPassive()
	if err != nil {
		s.log.Warn("passive listen failed", "err", err)
		s.reply(425, "Cannot open passive connection")
		return false
	}
	s.holdPassiveReply()
	s.reply(229, fmt.Sprintf("Entering Extended Passive Mode (|||%d|)", p.ln.Addr().(*net.TCPAddr).Port))
	return false
}

// passiveReplyHold is how long after its command arrived a PASV or
// EPSV reply is sent, at the earliest. curl 7.88 (Debian 12's) stalls a
// second before connecting when the reply is already there in the few
// microseconds between sending the command and starting to wait for it:
// it reads the reply then, and finds no socket to wait on in its next
// state, so it sleeps out its one-second poll (strace: poll on its
// wake-up pipe alone, 1000 ms). A reply that comes after it has begun
// waiting on the control connection wakes it at once. vsftpd takes about
// 0.2 ms to answer and mostly escapes (it too stalled once in 600
// files); a server on the same host answering in tens of microseconds
// does not. Measured with curl sessions of 200 files: no hold stalls
// 40% of them, 80 µs and 120 µs a few, 150 µs about 1 in 2,000 (vsftpd
// about 1 in 600); 150 µs is about vsftpd's own delay. The hold is measured from the command's
// arrival, so the listener's set-up counts towards it.
var passiveReplyHold = 150 * time.Microsecond

// holdPassiveReply waits until passiveReplyHold after the command came.
func (s *session) holdPassiveReply() {
	if d := passiveReplyHold - time.Since(s.cmdAt); d > 0 {
		sleepPrecisely(d)
	}
}

func familyOf(a netip.Addr) string {
	if a.Is4() {
		return "1"
	}
	return "2"
}

func (s *session) cmdPORT(arg string) bool {
	ap, err := decodePortArg(arg)
	if err != nil {
		s.reply(501, "Syntax error in PORT argument")
		return false
	}
	return s.setActive(ap)
}

func (s *session) cmdEPRT(arg string) bool {
	ap, err := decodeEprtArg(arg)
	if err != nil {
		if errors.Is(err, errEprtFamily) {
			s.reply(522, "Network protocol not supported, use (1,2)")
		} else {
			s.reply(501, "Syntax error in EPRT argument")
		}
		return false
	}
	return s.setActive(ap)
}

// setActive accepts an active-mode address only if it is the client's
// own IP and an unprivileged port, so the server cannot be made to
// connect to a third party (the FTP bounce attack, RFC 2577).
func (s *session) setActive(ap netip.AddrPort) bool {
	if s.epsvAll {
		s.reply(503, "PORT and EPRT refused after EPSV ALL")
		return false
	}
	if ap.Addr().Unmap() != s.remote {
		s.log.Warn("active data connection to another host refused", "target", ap.String())
		s.reply(504, "Data connection only to the client's own address")
		return false
	}
	if ap.Port() < 1024 {
		s.reply(504, "Data connection to a privileged port refused")
		return false
	}
	s.closePassive()
	s.active = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	s.reply(200, "Active data connection address accepted")
	return false
}

// errEprtFamily reports an EPRT network protocol other than 1 and 2.
var errEprtFamily = errors.New("ftp: EPRT network protocol not supported")

// decodePortArg parses PORT's "h1,h2,h3,h4,p1,p2".
func decodePortArg(arg string) (netip.AddrPort, error) {
	f := strings.Split(strings.TrimSpace(arg), ",")
	if len(f) != 6 {
		return netip.AddrPort{}, fmt.Errorf("ftp: PORT argument %q: want 6 numbers", arg)
	}
	var b [6]byte
	for i, s := range f {
		n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 8)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("ftp: PORT argument %q: %w", arg, err)
		}
		b[i] = byte(n)
	}
	port := uint16(b[4])<<8 | uint16(b[5])
	if port == 0 {
		return netip.AddrPort{}, fmt.Errorf("ftp: PORT argument %q: port 0", arg)
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{b[0], b[1], b[2], b[3]}), port), nil
}

// decodeEprtArg parses EPRT's "<d>proto<d>address<d>port<d>" (RFC 2428).
func decodeEprtArg(arg string) (netip.AddrPort, error) {
	if len(arg) < 7 || arg[0] < 33 || arg[0] > 126 {
		return netip.AddrPort{}, fmt.Errorf("ftp: EPRT argument %q: bad delimiter", arg)
	}
	d := string(arg[0])
	f := strings.Split(arg[1:], d)
	if len(f) != 4 || f[3] != "" {
		return netip.AddrPort{}, fmt.Errorf("ftp: EPRT argument %q: want 3 fields", arg)
	}
	if f[0] != "1" && f[0] != "2" {
		return netip.AddrPort{}, errEprtFamily
	}
	ip, err := netip.ParseAddr(f[1])
	if err != nil || ip.Zone() != "" || (f[0] == "1") != ip.Is4() {
		return netip.AddrPort{}, fmt.Errorf("ftp: EPRT argument %q: bad address", arg)
	}
	port, err := strconv.ParseUint(f[2], 10, 16)
	if err != nil || port == 0 {
		return netip.AddrPort{}, fmt.Errorf("ftp: EPRT argument %q: bad port", arg)
	}
	return netip.AddrPortFrom(ip, uint16(port)), nil
}

// dataEndpoint is what a transfer command needs to open its data
// connection, taken from the session before the transfer goroutine starts.
type dataEndpoint struct {
	s      *session
	pasv   *passiveListener
	active netip.AddrPort
	protP  bool
}

// dataEndpoint takes the pending passive listener, or the active
// address; ok is false when the client set up neither.
func (s *session) dataEndpoint() (dataEndpoint, bool) {
	d := dataEndpoint{s: s, pasv: s.pasv, active: s.active, protP: s.protP}
	s.pasv = nil
	if d.pasv != nil {
		d.pasv.stopTimer()
	}
	return d, d.pasv != nil || d.active.IsValid()
}

// release closes a passive listener a command did not use.
func (d dataEndpoint) release() {
	if d.pasv != nil {
		d.pasv.ln.Close()
	}
}

// errDataSession is returned when a PROT P data connection does not
// resume the control connection's TLS session.
var errDataSession = errors.New("ftp: data connection did not resume the control connection's TLS session")

// errDataRefused is returned when Server.AdmitDataConn refuses a data connection.
var errDataRefused = errors.New("ftp: data connection refused")

// open makes the data connection: accepts the one passive connection
// from the client's IP, or connects to the active address; then calls
// connected (which sends the 150 reply) and does the TLS handshake under
// PROT P. This is vsftpd's order: the 150 comes when the connection is
// there, so the data follows it at once, and before the handshake,
// which clients such as Python's ftplib start only once they have read
// the 150.
func (d dataEndpoint) open(ctx context.Context, connected func()) (net.Conn, error) {
	s := d.s
	timeout := s.srv.passiveTimeout()
	var c net.Conn
	if d.pasv != nil {
		ln := d.pasv.ln
		defer ln.Close()
		stop := context.AfterFunc(ctx, func() { ln.Close() })
		defer stop()
		ln.SetDeadline(lifecycle.Deadline(timeout))
		for {
			tc, err := ln.AcceptTCP()
			if err != nil {
				return nil, err
			}
			if addrOf(tc.RemoteAddr()) != s.remote {
				s.log.Warn("passive data connection from another IP refused", "from", tc.RemoteAddr().String())
				tc.Close()
				continue
			}
			c = tc
			break
		}
	} else {
		dl := net.Dialer{Timeout: timeout, KeepAlive: -1, LocalAddr: &net.TCPAddr{IP: net.IP(s.socket.AsSlice())}}
		dl.SetMultipathTCP(false)
		var err error
		if c, err = dl.DialContext(ctx, "tcp", d.active.String()); err != nil {
			return nil, err
		}
	}
	if admit := s.srv.AdmitDataConn; admit != nil {
		ac, err := admit(s.raw, c)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("%w: %w", errDataRefused, err)
		}
		c = ac
	}
	if e := s.faultFor("data"); e != nil {
		c.Close()
		return nil, e
	}
	connected()
	if !d.protP {
		return c, nil
	}
	var matched bool
	tc := tls.Server(c, s.dataTLS(s.mark, &matched))
	c.SetDeadline(lifecycle.Deadline(timeout))
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("ftp: data connection TLS handshake: %w", err)
	}
	c.SetDeadline(time.Time{})
	if !s.srv.AllowDataSessionChange && !(matched && tc.ConnectionState().DidResume) {
		tc.Close()
		return nil, errDataSession
	}
	return tc, nil
}
