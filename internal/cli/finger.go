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

	"github.com/plumbnet/plumb/finger"
	"github.com/plumbnet/plumb/internal/termsafe"
)

func init() { addCommand(newFingerCmd) }

func newFingerCmd() *cobra.Command {
	var long, raw bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "finger [/W] [USER]@HOST[:PORT]",
		Short: "Ask a finger server (RFC 1288) about a user, or who is logged in",
		Long: `finger asks the finger server at HOST about USER, or with no USER about
the users logged in now, and prints the answer. PORT defaults to 79, the
well-known port; plumb serve answers on 10079. -l (or a leading /W)
asks for the long form.

USER@HOST1@HOST2 asks HOST2 to forward the query to HOST1; most servers,
plumb's by default, refuse.

The answer is free text from the server. Control characters in it are
made harmless before it reaches the terminal: tabs and line ends stay,
other control characters show as ^X (ESC as ^[), and bytes that are not
UTF-8 or are C1 controls as \xNN. --raw writes the bytes as they came.
There is no --json: the answer has no structure to give.`,
		Example: `  plumb finger alice@localhost:10079
  plumb finger -l alice@localhost:10079        # the long form (/W)
  plumb finger /W alice@localhost:10079        # the same
  plumb finger @localhost:10079                # who is logged in, where offered
  plumb finger alice@example.org
  plumb finger --raw alice@example.org > alice.txt`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			target := args[0]
			if len(args) == 2 {
				if !strings.EqualFold(args[0], "/W") {
					return withExit(2, fmt.Errorf("%q: give [/W] USER@HOST (one target)", strings.Join(args, " ")))
				}
				target = "/W " + args[1]
			}
			q, addr, err := fingerTarget(target)
			if err != nil {
				return withExit(2, err)
			}
			q.Verbose = q.Verbose || long
			d := finger.Dialer{Timeout: timeout}
			body, err := d.Finger(cmd.Context(), addr, q)
			if err != nil && !errors.Is(err, finger.ErrTooLarge) {
				return fingerError(addr, timeout, err)
			}
			out := body
			if !raw {
				out = termsafe.Bytes(body)
				if len(out) > 0 && out[len(out)-1] != '\n' {
					out = append(out, '\n')
				}
			}
			cmd.OutOrStdout().Write(out)
			if err != nil {
				return withExit(1, fmt.Errorf("finger at %s: answer cut at %d bytes: %w", addr, len(body), err))
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&long, "long", "l", false, "ask for the long form (send /W)")
	fl.BoolVar(&raw, "raw", false, "write the answer's bytes as they came, control characters and all")
	fl.DurationVarP(&timeout, "timeout", "w", 30*time.Second, "give up after this long")
	return cmd
}

// fingerTarget splits "[/W] [user][@host...]@host[:port]" into the query
// to send and the address of the last host, port 79 unless given.
func fingerTarget(arg string) (finger.Query, string, error) {
	i := strings.LastIndexByte(arg, '@')
	if i < 0 {
		return finger.Query{}, "", fmt.Errorf("%q: give USER@HOST, or @HOST to list who is logged in", arg)
	}
	q, err := finger.ParseQuery(arg[:i])
	if err != nil {
		return finger.Query{}, "", fmt.Errorf("%q: %w", arg, err)
	}
	hostport := arg[i+1:]
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]"), strconv.Itoa(finger.DefaultPort)
		if strings.Count(host, ":") == 1 {
			return finger.Query{}, "", fmt.Errorf("%q: cannot read HOST:PORT (write [IPv6]:PORT for an IPv6 address)", arg)
		}
	}
	if host == "" {
		return finger.Query{}, "", fmt.Errorf("%q: no host after '@'", arg)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return finger.Query{}, "", fmt.Errorf("%q: port %q is not a number from 1 to 65535", arg, port)
	}
	return q, net.JoinHostPort(host, port), nil
}

// fingerError turns a failed query into one line that says what to do.
func fingerError(addr string, timeout time.Duration, err error) error {
	var dnsErr *net.DNSError
	var ne net.Error
	switch {
	case errors.Is(err, finger.ErrBadQuery):
		return withExit(2, err)
	case errors.Is(err, context.Canceled):
		return withExit(130, errors.New("finger: interrupted"))
	case errors.Is(err, syscall.ECONNREFUSED):
		return withExit(1, fmt.Errorf("finger at %s: connection refused: nothing listens there; check the host and port (plumb serve answers on port 10079)", addr))
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return withExit(1, fmt.Errorf("finger at %s: no answer within %s; the host may be down or filtered, or raise --timeout", addr, timeout))
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return withExit(1, fmt.Errorf("finger: host %q not found; check the name (plumb lookup %s)", dnsErr.Name, dnsErr.Name))
	}
	return withExit(1, fmt.Errorf("finger at %s: %w", addr, err))
}
