package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/plumbnet/plumb/lookup"
)

func init() { addCommand(newConnectCmd) }

// connectFlags are plumb connect's options.
type connectFlags struct {
	udp        bool
	unix       string
	useTLS     bool
	insecure   bool
	caFile     string
	serverName string
	timeout    time.Duration
	pipe       pipeOptions
}

func newConnectCmd() *cobra.Command {
	var f connectFlags
	cmd := &cobra.Command{
		Use:   "connect HOST PORT | --unix PATH",
		Short: "Open a TCP, UDP, Unix or TLS connection and pipe it to standard input/output",
		Long: `connect is netcat for plumb: it connects to HOST PORT (PORT may be a
service name such as smtp), copies standard input to the connection and
the connection to standard output.

When standard input ends, the sending side of the connection is shut
down (a TCP FIN; with --tls a close_notify first) and connect goes on
printing what the peer sends until the peer closes. When the peer
closes first, connect still sends the rest of standard input (the peer
may only have half-closed) until it ends or a write fails; when
standard input is a terminal, it exits at once instead.

With --udp each read of standard input is sent as one datagram; after
standard input ends, replies are printed until none arrives for --idle
(one second if unset). With --tls the server's certificate is checked
against the system's roots (or --ca FILE) and the name sent as SNI.

Exit status: 0 when the peer closed, 1 with a one-line reason when the
connection failed or broke, 130 when interrupted.`,
		Example: `  plumb connect localhost 10007                 # type at the echo service
  printf 'GET / HTTP/1.0\r\n\r\n' | plumb connect example.org http
  plumb connect --crlf localhost 10025          # SMTP by hand
  plumb connect --tls --ca plumb-data/tls/cert.pem localhost 10993
  plumb connect --udp localhost 10013 </dev/null  # ask daytime over UDP
  plumb connect --unix /run/app.sock < request.bin > reply.bin`,
		Args: func(cmd *cobra.Command, args []string) error {
			if f.unix != "" {
				if len(args) != 0 {
					return withExit(2, errors.New("with --unix PATH give no HOST or PORT"))
				}
				return nil
			}
			if len(args) == 1 && strings.Contains(args[0], ":") {
				return nil
			}
			if len(args) != 2 {
				return withExit(2, errors.New("give HOST and PORT (or HOST:PORT, or --unix PATH)"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			f.pipe.untilPeerCloses = isTerminal(cmd.InOrStdin())
			if f.udp && (f.useTLS || f.unix != "") {
				return withExit(2, errors.New("--udp does not go with --tls or --unix"))
			}
			if f.timeout <= 0 {
				return withExit(2, errors.New("--timeout must be positive"))
			}
			host, port := "", ""
			switch len(args) {
			case 1:
				h, p, err := net.SplitHostPort(args[0])
				if err != nil {
					return withExit(2, fmt.Errorf("%q: %w (write HOST:PORT, or [IPv6]:PORT)", args[0], err))
				}
				host, port = h, p
			case 2:
				host, port = args[0], args[1]
			}
			ctx := cmd.Context()
			conn, err := dialConnect(ctx, &f, host, port)
			if err != nil {
				return withExit(1, err)
			}
			defer conn.Close()
			if f.udp {
				err = pipeDatagrams(ctx, newConnectedPeer(conn.(*net.UDPConn)), cmd.InOrStdin(), cmd.OutOrStdout(), f.pipe)
			} else {
				err = pipeStream(ctx, conn, newStdinFeed(cmd.InOrStdin(), false), cmd.OutOrStdout(), f.pipe)
			}
			return sessionExit(err)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&f.udp, "udp", "u", false, "use UDP instead of TCP")
	fl.StringVar(&f.unix, "unix", "", "connect to the Unix-domain stream socket at `PATH`")
	fl.BoolVar(&f.useTLS, "tls", false, "speak TLS over the connection")
	fl.BoolVarP(&f.insecure, "insecure", "k", false, "with --tls, accept any certificate (testing only)")
	fl.StringVar(&f.caFile, "ca", "", "with --tls, trust the PEM certificates in `FILE` instead of the system's")
	fl.StringVar(&f.serverName, "servername", "", "with --tls, the name to send as SNI and check (default: HOST)")
	fl.BoolVarP(&f.pipe.crlf, "crlf", "C", false, "send line ends as CRLF (for text protocols)")
	fl.DurationVarP(&f.timeout, "timeout", "w", 10*time.Second, "give up connecting (and the TLS handshake) after this long")
	fl.DurationVarP(&f.pipe.idle, "idle", "i", 0, "close after this long without traffic either way (0: never)")
	return cmd
}

// sessionExit maps the end of a piping session to an exit status.
func sessionExit(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled):
		return withExit(130, errors.New("interrupted"))
	}
	return withExit(1, err)
}

// dialConnect opens the connection plumb connect asked for.
func dialConnect(ctx context.Context, f *connectFlags, host, port string) (net.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	d := &net.Dialer{}
	network, addr := "unix", f.unix
	if f.unix == "" {
		network = "tcp"
		if f.udp {
			network = "udp"
		}
		p, err := servicePort(port, network)
		if err != nil {
			return nil, err
		}
		addr = net.JoinHostPort(host, strconv.Itoa(p))
	}
	conn, err := d.DialContext(dctx, network, addr)
	if err != nil {
		return nil, dialError(network, addr, f.timeout, err)
	}
	if !f.useTLS {
		return conn, nil
	}
	cfg, err := clientTLSConfig(f, host)
	if err != nil {
		conn.Close()
		return nil, err
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(dctx); err != nil {
		conn.Close()
		return nil, tlsError(cfg.ServerName, addr, f.timeout, err)
	}
	return tc, nil
}

// servicePort resolves a port number or service name for network.
func servicePort(port, network string) (int, error) {
	tables, _ := lookup.DefaultServices()
	p, err := tables.Port(port, network)
	if err != nil {
		return 0, fmt.Errorf("port %q: %w (give a number, or see plumb service)", port, err)
	}
	if p == 0 {
		return 0, errors.New("port 0 cannot be connected to; give the server's port")
	}
	return p, nil
}

func clientTLSConfig(f *connectFlags, host string) (*tls.Config, error) {
	switch {
	case f.serverName != "":
		host = f.serverName
	case host == "" && f.unix != "":
		host = "localhost"
	}
	return tlsClientConfig(host, f.insecure, f.caFile)
}

// dialError turns a dial failure into one line that says what to do.
func dialError(network, addr string, timeout time.Duration, err error) error {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("connect to %s (%s): connection refused: nothing is listening there; check the host and port", addr, network)
	case errors.Is(err, syscall.ENOENT):
		return fmt.Errorf("connect to %s: no such socket file; check the path", addr)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Errorf("connect to %s (%s): no answer within %s: the host may be down or filtered; raise --timeout to wait longer", addr, network, timeout)
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return fmt.Errorf("connect: host %q not found; check the name (plumb lookup %s)", dnsErr.Name, dnsErr.Name)
	case errors.Is(err, context.Canceled):
		return errors.New("connect: interrupted")
	}
	return fmt.Errorf("connect to %s (%s): %w", addr, network, err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// tlsError explains a failed handshake.
func tlsError(name, addr string, timeout time.Duration, err error) error {
	var unknown x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown):
		return fmt.Errorf("tls with %s: the certificate is signed by an unknown authority; pass --ca FILE with its issuer (or --insecure to skip the check)", addr)
	case errors.As(err, &hostErr):
		return fmt.Errorf("tls with %s: the certificate is not valid for %q; use the name it was issued for (--servername NAME) or --insecure", addr, name)
	case errors.As(err, &invalid):
		return fmt.Errorf("tls with %s: the certificate is invalid: %w", addr, err)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Errorf("tls with %s: no handshake within %s; is it a TLS port?", addr, timeout)
	}
	return fmt.Errorf("tls with %s: handshake failed: %w (is it a TLS port?)", addr, err)
}
