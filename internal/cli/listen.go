package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/plumbnet/plumb/internal/daemon"
	"github.com/plumbnet/plumb/lookup"
)

func init() { addCommand(newListenCmd) }

// listenFlags are plumb listen's options.
type listenFlags struct {
	host      string
	udp       bool
	unix      string
	keep      bool
	useTLS    bool
	dataDir   string
	certFile  string
	keyFile   string
	handshake time.Duration
	quiet     bool
	pipe      pipeOptions
}

func newListenCmd() *cobra.Command {
	var f listenFlags
	cmd := &cobra.Command{
		Use:   "listen PORT | --unix PATH",
		Short: "Accept a TCP, UDP, Unix or TLS connection and pipe it to standard input/output",
		Long: `listen is netcat's server side: it waits on PORT (on 127.0.0.1 unless
--host says otherwise; port 0 picks a free one), accepts one connection,
copies standard input to it and it to standard output, and exits.
The address it listens on is printed on standard error.

Half-close works both ways: when standard input ends, the sending side
is shut down (a TCP FIN; with --tls a close_notify first) and listen
reads on until the peer closes; when the peer shuts its side, listen
goes on sending standard input until it ends. A connection is over when
both sides are done, or a write to the peer fails; when standard input
is a terminal, as soon as the peer closes.

--keep accepts connections one after another until interrupted;
standard input goes to the first and, once it has ended, later ones get
only the half-close. --udp answers the first sender (any sender with
--keep) and, once standard input has ended, stops after --idle of
silence (one second if unset). --tls uses the same certificate as
plumb serve, from the --data directory (a self-signed one for localhost
is made there if none exists), or --cert and --key.`,
		Example: `  plumb listen 9000 > received.bin           # one upload, then exit
  plumb listen 0 < file.iso                   # serve a file on a free port
  plumb listen --keep 9000 </dev/null         # print what each client sends
  plumb listen --tls --data plumb-data 9443
  plumb listen --udp 9000
  plumb listen --unix ./app.sock`,
		Args: func(cmd *cobra.Command, args []string) error {
			if f.unix != "" && len(args) != 0 {
				return withExit(2, errors.New("with --unix PATH give no PORT"))
			}
			if f.unix == "" && len(args) != 1 {
				return withExit(2, errors.New("give the PORT to listen on (0 for any free one), or --unix PATH"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.udp && (f.useTLS || f.unix != "") {
				return withExit(2, errors.New("--udp does not go with --tls or --unix"))
			}
			port := ""
			if len(args) == 1 {
				network := "tcp"
				if f.udp {
					network = "udp"
				}
				tables, _ := lookup.DefaultServices()
				p, err := tables.Port(args[0], network)
				if err != nil {
					return withExit(2, fmt.Errorf("port %q: %w (give a number; 0 picks a free one)", args[0], err))
				}
				port = strconv.Itoa(p)
			}
			return runListen(cmd, &f, port)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.host, "host", "127.0.0.1", "address to listen on (0.0.0.0 or :: for every interface)")
	fl.BoolVarP(&f.udp, "udp", "u", false, "use UDP instead of TCP")
	fl.StringVar(&f.unix, "unix", "", "listen on a Unix-domain stream socket at `PATH`")
	fl.BoolVarP(&f.keep, "keep", "k", false, "accept connections one after another until interrupted")
	fl.BoolVar(&f.useTLS, "tls", false, "speak TLS, with plumb serve's certificate")
	fl.StringVar(&f.dataDir, "data", "plumb-data", "data directory holding the certificate (as plumb serve --data)")
	fl.StringVar(&f.certFile, "cert", "", "with --tls, a PEM certificate `FILE` instead of the data directory's")
	fl.StringVar(&f.keyFile, "key", "", "with --tls, the PEM private key `FILE` for --cert")
	fl.DurationVar(&f.handshake, "handshake-timeout", 10*time.Second, "with --tls, drop a client that has not finished the handshake by then")
	fl.BoolVarP(&f.pipe.crlf, "crlf", "C", false, "send line ends as CRLF (for text protocols)")
	fl.DurationVarP(&f.pipe.idle, "idle", "i", 0, "close a connection after this long without traffic (0: never)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print nothing on standard error but errors")
	return cmd
}

func runListen(cmd *cobra.Command, f *listenFlags, port string) error {
	ctx := cmd.Context()
	stderr := cmd.ErrOrStderr()
	var tlsCfg *tls.Config
	if f.useTLS {
		cert, err := daemon.LoadCertificate(f.dataDir, f.certFile, f.keyFile)
		if err != nil {
			return withExit(1, fmt.Errorf("%w (check --data, or give --cert and --key)", err))
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if f.udp {
		pc, err := net.ListenUDP("udp", udpAddr(f.host, port))
		if err != nil {
			return withExit(1, listenError(net.JoinHostPort(f.host, port), err))
		}
		defer pc.Close()
		f.note(stderr, "plumb: listening on %s (udp)\n", pc.LocalAddr())
		peer := newListeningPeer(pc, f.keep, quietWriter(stderr, f.quiet))
		return sessionExit(pipeDatagrams(ctx, peer, cmd.InOrStdin(), cmd.OutOrStdout(), f.pipe))
	}
	network, addr := "tcp", net.JoinHostPort(f.host, port)
	if f.unix != "" {
		network, addr = "unix", f.unix
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, network, addr)
	if err != nil {
		if network == "unix" && errors.Is(err, syscall.EADDRINUSE) {
			return withExit(1, fmt.Errorf("listen on %s: the file exists; remove it if no server uses it", addr))
		}
		return withExit(1, listenError(addr, err))
	}
	defer ln.Close() // removes a Unix socket's file too
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	f.note(stderr, "plumb: listening on %s (%s)\n", ln.Addr(), network)

	feed := newStdinFeed(cmd.InOrStdin(), f.keep)
	f.pipe.untilPeerCloses = isTerminal(cmd.InOrStdin())
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return sessionExit(ctx.Err())
			}
			return withExit(1, fmt.Errorf("accepting on %s: %w", ln.Addr(), err))
		}
		if !f.keep {
			ln.Close() // one connection: nobody else gets in
		}
		f.note(stderr, "plumb: connection from %s\n", peerName(conn))
		err = serveOne(ctx, conn, tlsCfg, f, feed, cmd.OutOrStdout())
		conn.Close()
		if !f.keep {
			return sessionExit(err)
		}
		if ctx.Err() != nil {
			return sessionExit(ctx.Err())
		}
		if err != nil {
			fmt.Fprintf(stderr, "plumb: connection from %s: %v\n", peerName(conn), err)
		}
	}
}

// serveOne runs one accepted connection, after its TLS handshake.
func serveOne(ctx context.Context, conn net.Conn, tlsCfg *tls.Config, f *listenFlags, feed *stdinFeed, out io.Writer) error {
	if tlsCfg != nil {
		tc := tls.Server(conn, tlsCfg)
		hctx, cancel := context.WithTimeout(ctx, f.handshake)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			return &sessionError{fmt.Errorf("tls handshake: %w", err)}
		}
		conn = tc
	}
	return pipeStream(ctx, conn, feed, out, f.pipe)
}

func (f *listenFlags) note(w io.Writer, format string, args ...any) {
	if !f.quiet {
		fmt.Fprintf(w, format, args...)
	}
}

func quietWriter(w io.Writer, quiet bool) io.Writer {
	if quiet {
		return io.Discard
	}
	return w
}

func peerName(c net.Conn) string {
	if a := c.RemoteAddr(); a != nil && a.String() != "" && a.String() != "@" {
		return a.String()
	}
	return "a local process"
}

func udpAddr(host, port string) *net.UDPAddr {
	p, _ := strconv.Atoi(port)
	ip := net.ParseIP(host)
	if ip == nil && host != "" {
		if addrs, err := net.LookupIP(host); err == nil && len(addrs) > 0 {
			ip = addrs[0]
		}
	}
	return &net.UDPAddr{IP: ip, Port: p}
}

// listenError explains why a listener could not be opened.
func listenError(addr string, err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("listen on %s: address already in use; pick another port (0 picks a free one) or stop what holds it", addr)
	case errors.Is(err, syscall.EACCES) || errors.Is(err, os.ErrPermission):
		return fmt.Errorf("listen on %s: permission denied; ports below 1024 need privileges, use one above", addr)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("listen on %s: no such local address; check --host", addr)
	}
	return fmt.Errorf("listen on %s: %w", addr, err)
}
