package daemon

import (
	"fmt"
	"slices"

	"github.com/plumbnet/plumb/internal/accounts"
)

// Operators are listed by account name in the config: telnet.operators
// get the console, xmlrpc.operators may call the operator methods. One
// check and one match for both, so that a name means the same in each.

// checkOperators reports the first name in ops (the config's key) that
// is not an account name as the accounts file writes it.
func checkOperators(key string, ops []string) error {
	for _, name := range ops {
		if err := accounts.CheckName(name); err != nil {
			return fmt.Errorf("%s: %q: %w", key, name, err)
		}
	}
	return nil
}

// isOperator reports whether the account name (as Authenticate returns
// it) is in ops, which checkOperators has passed: both are in the
// accounts' own form, so they match exactly.
func isOperator(ops []string, name string) bool { return slices.Contains(ops, name) }
