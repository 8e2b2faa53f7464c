package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/plumbnet/plumb/lookup"
)

func init() { addCommand(newLookupCmd) }

// noService marks --addrinfo given without a service.
const noService = "\x00"

func newLookupCmd() *cobra.Command {
	var addrinfo, file string
	var asJSON bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "lookup HOST [--addrinfo [SERVICE]]",
		Short: "Look a host up: canonical name, aliases, addresses, or getaddrinfo entries",
		Long: `lookup resolves HOST the way the C library does: the hosts table
(/etc/hosts) first, then DNS. It prints the canonical name, the aliases
and every address, IPv4 and IPv6 (what gethostbyname_ex(3) gives, which
is IPv4 only). An IP address gives its reverse names instead (what
gethostbyaddr(3) gives); an address without one is printed as its own name.

With --addrinfo, it lists what getaddrinfo(3) gives for HOST and an
optional SERVICE (a name or a port): each address with the family,
socket type and protocol to reach it, in RFC 6724 order.`,
		Example: `  plumb lookup localhost
  plumb lookup 127.0.0.1            # reverse names
  plumb lookup example.org --json
  plumb lookup localhost --addrinfo http
  plumb lookup ::1 --addrinfo=22`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			host := args[0]
			if strings.ContainsAny(host, "\r\n") {
				return withExit(2, errors.New("host name contains a line break"))
			}
			if len(args) == 2 {
				if !cmd.Flags().Changed("addrinfo") || addrinfo != noService {
					return withExit(2, fmt.Errorf("unexpected argument %q: a SERVICE goes with --addrinfo", args[1]))
				}
				addrinfo = args[1]
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			tables, err := serviceTables(file)
			if err != nil {
				return withExit(2, err)
			}
			r := &lookup.Resolver{Services: tables}
			if cmd.Flags().Changed("addrinfo") {
				service := addrinfo
				if service == noService {
					service = ""
				}
				ai, err := r.AddrInfo(ctx, host, service)
				if err != nil {
					return withExit(1, lookupError(err))
				}
				return printAddrInfo(cmd.OutOrStdout(), ai, asJSON)
			}
			h, err := hostOrReverse(ctx, r, host, cmd.ErrOrStderr())
			if err != nil {
				return withExit(1, lookupError(err))
			}
			return printHost(cmd.OutOrStdout(), h, asJSON)
		},
	}
	cmd.Flags().StringVar(&addrinfo, "addrinfo", "", "list getaddrinfo entries, for an optional SERVICE (name or port)")
	cmd.Flags().Lookup("addrinfo").NoOptDefVal = noService
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Second, "give up on DNS after this long")
	cmd.Flags().StringVar(&file, "services-file", "", "read this services file instead of "+lookup.ServicesFile)
	return cmd
}

// hostOrReverse looks a name up, or an address's reverse names.
func hostOrReverse(ctx context.Context, r *lookup.Resolver, host string, stderr io.Writer) (lookup.Host, error) {
	a, err := netip.ParseAddr(host)
	if err != nil {
		return r.Host(ctx, host)
	}
	h, err := r.Reverse(ctx, a)
	if errors.Is(err, lookup.ErrNotFound) {
		fmt.Fprintf(stderr, "plumb: %s has no reverse name\n", a)
		return r.Host(ctx, host)
	}
	return h, err
}

func lookupError(err error) error {
	switch {
	case errors.Is(err, lookup.ErrNotFound):
		return fmt.Errorf("%w (check the spelling, /etc/hosts and the DNS servers in /etc/resolv.conf)", err)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w (DNS did not answer in time; raise --timeout)", err)
	case errors.Is(err, lookup.ErrUnknownService):
		return fmt.Errorf("%w (see plumb service --help; a port number always works)", err)
	}
	return err
}

// hostJSON is the JSON shape of plumb lookup HOST.
type hostJSON struct {
	Name      string   `json:"name"`
	Aliases   []string `json:"aliases"`
	Addresses []string `json:"addresses"`
}

func printHost(w io.Writer, h lookup.Host, asJSON bool) error {
	if asJSON {
		j := hostJSON{Name: h.Name, Aliases: h.Aliases, Addresses: []string{}}
		if j.Aliases == nil {
			j.Aliases = []string{}
		}
		for _, a := range h.Addrs {
			j.Addresses = append(j.Addresses, a.String())
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(j)
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "name:\t%s\n", h.Name)
	for _, a := range h.Aliases {
		fmt.Fprintf(tw, "alias:\t%s\n", a)
	}
	for _, a := range h.Addrs {
		fmt.Fprintf(tw, "address:\t%s\n", a)
	}
	return tw.Flush()
}

func printAddrInfo(w io.Writer, ai []lookup.AddrInfo, asJSON bool) error {
	if asJSON {
		if ai == nil {
			ai = []lookup.AddrInfo{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(ai)
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "FAMILY\tTYPE\tPROTO\tADDRESS")
	for _, a := range ai {
		proto := a.ProtoName()
		if proto == "" {
			proto = "0"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.Family, a.SockType, proto, netip.AddrPortFrom(a.Addr, uint16(a.Port)))
	}
	return tw.Flush()
}
