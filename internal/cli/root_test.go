package cli

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestEveryCommandHasHelp walks the whole command tree: each command
// a person can run has a one-line summary and examples in its --help.
func TestEveryCommandHasHelp(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Hidden || c.Name() == "help" || c.HasParent() && c.Parent().Name() == "completion" || c.Name() == "completion" {
			return
		}
		if strings.TrimSpace(c.Short) == "" {
			t.Errorf("%q has no Short summary", c.CommandPath())
		}
		if c.Runnable() && !strings.Contains(c.Example, "plumb ") {
			t.Errorf("%q --help has no example (Example = %q)", c.CommandPath(), c.Example)
		}
	}
	walk(NewRoot())
}

func TestVersionAndCompletion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"version"}, "plumb " + Version},
		{[]string{"completion", "bash"}, "__start_plumb"},
	} {
		root := NewRoot()
		var out strings.Builder
		root.SetOut(&out)
		root.SetArgs(tc.args)
		if err := root.Execute(); err != nil || !strings.Contains(out.String(), tc.want) {
			t.Errorf("plumb %v = %v, output lacks %q", tc.args, err, tc.want)
		}
	}
}
