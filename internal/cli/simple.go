package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/plumbnet/plumb/simple"
)

// The small-service clients: plumb daytime, time, qotd and chargen here,
// plumb echo in echo.go.
func init() {
	addCommand(newDaytimeCmd)
	addCommand(newTimeCmd)
	addCommand(newQOTDCmd)
	addCommand(newChargenCmd)
}

// simpleFlags are the options every small-service command has.
type simpleFlags struct {
	udp     bool
	timeout time.Duration
}

func (f *simpleFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVarP(&f.udp, "udp", "u", false, "ask over UDP instead of TCP")
	cmd.Flags().DurationVarP(&f.timeout, "timeout", "w", 10*time.Second, "give up after this long")
}

func (f *simpleFlags) client() *simple.Client {
	c := &simple.Client{Network: "tcp", Timeout: f.timeout}
	if f.udp {
		c.Network = "udp"
	}
	return c
}

func (f *simpleFlags) network() string {
	if f.udp {
		return "udp"
	}
	return "tcp"
}

// simpleDevPort is plumb serve's default port for a small service: the
// well-known port plus 10000.
func simpleDevPort(svc simple.Service) int { return svc.Port() + 10000 }

// simpleTarget turns HOST[:PORT] into host:port, with the service's
// development port when none is given. A bare IPv6 address works too.
func simpleTarget(arg string, svc simple.Service) (string, error) {
	def := strconv.Itoa(simpleDevPort(svc))
	if arg == "" {
		return "", withExit(2, errors.New("give HOST or HOST:PORT"))
	}
	if host, port, err := net.SplitHostPort(arg); err == nil {
		if port == "" {
			port = def
		}
		return net.JoinHostPort(host, port), nil
	}
	host := strings.TrimSuffix(strings.TrimPrefix(arg, "["), "]")
	if strings.Count(host, ":") == 1 {
		return "", withExit(2, fmt.Errorf("%q: cannot read HOST:PORT (write [IPv6]:PORT for an IPv6 address)", arg))
	}
	return net.JoinHostPort(host, def), nil
}

// simpleCallError turns a failed call into one line that says what to do.
func simpleCallError(svc simple.Service, network, addr string, timeout time.Duration, err error) error {
	var dnsErr *net.DNSError
	var re *simple.ReplyError
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return withExit(130, fmt.Errorf("%s: interrupted", svc))
	case errors.Is(err, syscall.ECONNREFUSED):
		if network == "udp" {
			return withExit(1, fmt.Errorf("%s at %s (udp): port unreachable: no %s service there; check the host and port, or try TCP", svc, addr, svc))
		}
		return withExit(1, fmt.Errorf("%s at %s (tcp): connection refused: nothing listens there; check the host and port (plumb serve runs %s on port %d)", svc, addr, svc, simpleDevPort(svc)))
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return withExit(1, fmt.Errorf("%s at %s (%s): no answer within %s; the host may be down or filtered, or raise --timeout", svc, addr, network, timeout))
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return withExit(1, fmt.Errorf("%s: host %q not found; check the name (plumb lookup %s)", svc, dnsErr.Name, dnsErr.Name))
	case errors.As(err, &re):
		return withExit(1, fmt.Errorf("%s at %s: %w; is it really a %s server?", svc, addr, err, svc))
	}
	return withExit(1, fmt.Errorf("%s at %s (%s): %w", svc, addr, network, err))
}

func newDaytimeCmd() *cobra.Command {
	var f simpleFlags
	cmd := &cobra.Command{
		Use:   "daytime HOST[:PORT]",
		Short: "Ask a daytime server (RFC 867) for its date and time",
		Long: `daytime asks a daytime server for the date and time, as a line of text,
and prints it. PORT defaults to 10013, plumb serve's daytime port; the
well-known port is 13.`,
		Example: `  plumb daytime localhost
  plumb daytime --udp localhost:10013
  plumb daytime time.example.net:13`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := simpleTarget(args[0], simple.Daytime)
			if err != nil {
				return err
			}
			line, err := f.client().Daytime(cmd.Context(), addr)
			if err != nil {
				return simpleCallError(simple.Daytime, f.network(), addr, f.timeout, err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), line)
			return nil
		},
	}
	f.add(cmd)
	return cmd
}

func newTimeCmd() *cobra.Command {
	var f simpleFlags
	var raw, utc bool
	cmd := &cobra.Command{
		Use:   "time HOST[:PORT]",
		Short: "Ask a time server (RFC 868) for its clock and print it decoded",
		Long: `time asks a time server for its clock: 32 bits of seconds since
1900-01-01 00:00 UTC. It prints the time in RFC 3339 form in the local
zone (--utc for UTC), or with --raw the number the server sent. PORT
defaults to 10037, plumb serve's time port; the well-known port is 37.`,
		Example: `  plumb time localhost
  plumb time --udp --utc localhost:10037
  plumb time --raw localhost`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := simpleTarget(args[0], simple.Time)
			if err != nil {
				return err
			}
			t, err := f.client().Time(cmd.Context(), addr)
			if err != nil {
				return simpleCallError(simple.Time, f.network(), addr, f.timeout, err)
			}
			out := cmd.OutOrStdout()
			switch {
			case raw:
				b := simple.EncodeTime(t)
				fmt.Fprintln(out, uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3]))
			case utc:
				fmt.Fprintln(out, t.UTC().Format(time.RFC3339))
			default:
				fmt.Fprintln(out, t.Local().Format(time.RFC3339))
			}
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVar(&raw, "raw", false, "print the server's 32-bit count of seconds since 1900")
	cmd.Flags().BoolVar(&utc, "utc", false, "print the time in UTC")
	return cmd
}

func newQOTDCmd() *cobra.Command {
	var f simpleFlags
	cmd := &cobra.Command{
		Use:   "qotd HOST[:PORT]",
		Short: "Ask a quote-of-the-day server (RFC 865) for a quotation",
		Long: `qotd asks a quote-of-the-day server for a quotation and prints it.
PORT defaults to 10017, plumb serve's qotd port; the well-known port is
17. plumb serve's quotations come from qotd.txt in its data directory
(quotations separated by blank lines or "%" lines), else a built-in list.`,
		Example: `  plumb qotd localhost
  plumb qotd --udp localhost:10017`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := simpleTarget(args[0], simple.QOTD)
			if err != nil {
				return err
			}
			q, err := f.client().QOTD(cmd.Context(), addr)
			if err != nil {
				return simpleCallError(simple.QOTD, f.network(), addr, f.timeout, err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), strings.ReplaceAll(q, "\r\n", "\n"))
			return nil
		},
	}
	f.add(cmd)
	return cmd
}

func newChargenCmd() *cobra.Command {
	var f simpleFlags
	var n int64
	cmd := &cobra.Command{
		Use:   "chargen HOST[:PORT]",
		Short: "Read the character generator (RFC 864) to standard output",
		Long: `chargen copies what a character generator server sends to standard
output: lines of 72 rotating printable characters. Over TCP it stops
after --bytes N, when the server closes, or on interrupt (Ctrl-C), and
without --bytes it runs until one of the last two. Over UDP each
datagram asked for brings 0 to 512 characters; it asks until it has
--bytes, or once without it. PORT defaults to 10019, plumb serve's
chargen port; the well-known port is 19.`,
		Example: `  plumb chargen --bytes 740 localhost        # ten lines
  plumb chargen localhost | pv > /dev/null     # throughput until Ctrl-C
  plumb chargen --udp localhost:10019`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if n < 0 {
				return withExit(2, errors.New("--bytes must be 0 (no limit) or more"))
			}
			addr, err := simpleTarget(args[0], simple.Chargen)
			if err != nil {
				return err
			}
			cl := f.client()
			ctx := cmd.Context()
			if !f.udp {
				// A stream runs as long as asked; only the connect is timed.
				cl.Dialer = &net.Dialer{Timeout: f.timeout}
				cl.Timeout = -1
			}
			_, err = cl.Chargen(ctx, addr, cmd.OutOrStdout(), n)
			switch {
			case err == nil, errors.Is(err, context.Canceled):
				return nil // the interrupt is how an endless chargen stops
			case errors.Is(err, syscall.EPIPE):
				return nil // standard output was closed (| head)
			}
			return simpleCallError(simple.Chargen, f.network(), addr, f.timeout, err)
		},
	}
	f.add(cmd)
	cmd.Flags().Int64VarP(&n, "bytes", "n", 0, "stop after `N` bytes (0: until interrupted or the server closes)")
	return cmd
}
