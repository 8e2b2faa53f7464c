package cli

import "github.com/spf13/cobra"

// mailSubcommands lists the constructors of plumb mail's subcommands;
// each protocol's file appends its own from an init function.
var mailSubcommands []func() *cobra.Command
