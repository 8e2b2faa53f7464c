package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newUserTokenCmd(f *userFlags) *cobra.Command {
	var revoke bool
	cmd := &cobra.Command{
		Use:   "token NAME",
		Short: "Make an API token for an account (for the admin REST API off loopback)",
		Long: `token makes a new API token for account NAME and prints it, once: only
its SHA-256 is stored in accounts.toml. A client off loopback sends it to
the admin listener's REST API (over HTTPS) as
  Authorization: Bearer <token>
and it is accepted only while NAME is listed in admin.operators. An
account keeps its 8 newest tokens; --revoke removes them all.`,
		Example: `  plumb user token alice
  curl -H "Authorization: Bearer $(plumb user token alice)" https://host:10000/api/accounts
  plumb user token alice --revoke`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := f.open(cmd)
			if err != nil {
				return err
			}
			name := strings.ToLower(args[0])
			if revoke {
				if err := db.RevokeTokens(name); err != nil {
					return explainAccountErr(err, args[0])
				}
				fmt.Fprintf(cmd.OutOrStdout(), "revoked every API token of %s\n", name)
				return nil
			}
			tok, err := db.NewToken(name)
			if err != nil {
				return explainAccountErr(err, args[0])
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			return nil
		},
	}
	cmd.Flags().BoolVar(&revoke, "revoke", false, "remove every API token of the account instead")
	return cmd
}
