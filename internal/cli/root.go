// Package cli builds plumb's command tree: one file per subcommand.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X github.com/plumbnet/plumb/internal/cli.Version=...".
var Version = "dev"

// commands lists the constructors of the top-level subcommands; each
// subcommand's file adds itself in an init function, so files do not
// edit one shared list.
var commands []func() *cobra.Command

func addCommand(f func() *cobra.Command) { commands = append(commands, f) }

// exitError carries a specific exit status out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withExit returns err so that Execute exits with code.
func withExit(code int, err error) error { return &exitError{code: code, err: err} }

// NewRoot returns the root command with every subcommand attached.
func NewRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "plumb",
		Short: "The Internet's classic plumbing: sockets, protocol clients and servers",
		Long: `plumb is the Internet's classic plumbing in one binary: name and service
lookups, netcat-like connect and listen, a client for each standard
protocol, and a daemon (plumb serve) that runs every server at once.`,
		Example: `  plumb serve                      # every service on 127.0.0.1, port + 10000
  plumb lookup example.org         # names and addresses
  plumb connect localhost 10007    # talk to the echo service
  plumb echo localhost:10007 --count 5`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, f := range commands {
		root.AddCommand(f())
	}
	root.AddCommand(&cobra.Command{
		Use:     "version",
		Short:   "Print plumb's version",
		Example: "  plumb version",
		Args:    cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "plumb %s\n", Version)
		},
	})
	return root
}

// Execute runs plumb with os.Args and returns the process exit status.
func Execute() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := NewRoot()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintf(os.Stderr, "plumb: %v\n", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}
