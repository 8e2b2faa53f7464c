package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/plumbnet/plumb/lookup"
)

func init() { addCommand(newServiceCmd) }

func newServiceCmd() *cobra.Command {
	var proto, file string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "service NAME|PORT",
		Short: "Map a service name to its port, or a port to its service name",
		Long: `service looks a service up in the system's service table (/etc/services),
falling back to plumb's built-in table, which lists every service plumb
serves and the common others. A name gives its port; a number gives the
service registered on that port. Without --proto, every protocol's entry
is shown, in table order (the first is what getservbyname(3) with no
protocol returns).

Output lines have the services(5) shape: NAME PORT/PROTO [ALIASES...].`,
		Example: `  plumb service smtp               # smtp 25/tcp mail
  plumb service 993                # imaps 993/tcp
  plumb service domain --proto udp # domain 53/udp
  plumb service 123 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if proto != "" && proto != "tcp" && proto != "udp" {
				return withExit(2, fmt.Errorf("--proto %q: use tcp or udp", proto))
			}
			tables, err := serviceTables(file)
			if err != nil {
				return withExit(2, err)
			}
			found, err := findServices(tables, args[0], proto)
			if err != nil {
				return withExit(1, err)
			}
			return printServices(cmd.OutOrStdout(), found, asJSON)
		},
	}
	cmd.Flags().StringVar(&proto, "proto", "", "transport protocol: tcp or udp (default: every protocol)")
	cmd.Flags().StringVar(&file, "file", "", "read this services file instead of "+lookup.ServicesFile)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array of entries")
	return cmd
}

// serviceTables returns the system table (or file) then the built-in one.
func serviceTables(file string) (lookup.ServiceTables, error) {
	if file == "" {
		t, _ := lookup.DefaultServices() // an unreadable system table leaves the built-in one
		return t, nil
	}
	s, err := lookup.LoadServices(file)
	if err != nil {
		return nil, fmt.Errorf("reading services file: %w", err)
	}
	return lookup.ServiceTables{s, lookup.Embedded()}, nil
}

func findServices(t lookup.ServiceTables, arg, proto string) ([]lookup.Service, error) {
	if strings.ContainsAny(arg, "\r\n") {
		return nil, errors.New("service name contains a line break")
	}
	port, numeric, err := lookup.ParsePort(arg)
	if err != nil {
		return nil, err
	}
	if proto != "" {
		var e lookup.Service
		if numeric {
			e, err = t.ByPort(port, proto)
		} else {
			e, err = t.ByName(arg, proto)
		}
		if err != nil {
			return nil, fmt.Errorf("%w (try without --proto, or plumb service --help)", err)
		}
		return []lookup.Service{e}, nil
	}
	var all []lookup.Service
	if numeric {
		all = t.AllByPort(port)
	} else {
		all = t.AllByName(arg)
	}
	if len(all) == 0 {
		if numeric {
			return nil, fmt.Errorf("%w on port %d", lookup.ErrUnknownService, port)
		}
		return nil, fmt.Errorf("%w %q (names are case-sensitive; try a port number)", lookup.ErrUnknownService, arg)
	}
	return all, nil
}

func printServices(w io.Writer, all []lookup.Service, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(all)
	}
	for _, e := range all {
		if _, err := fmt.Fprintln(w, e.String()); err != nil {
			return err
		}
	}
	return nil
}
