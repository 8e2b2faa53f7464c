package daemon

import (
	"strings"
	"testing"
)

// TestOperatorsAgree: telnet.operators and xmlrpc.operators take the
// same names, refuse the same (an upper-case name is told its account
// form), and match an account the same way.
func TestOperatorsAgree(t *testing.T) {
	for _, key := range []string{"telnet.operators", "xmlrpc.operators"} {
		for _, bad := range []string{"Alice", "a b", "", "../x"} {
			cfg := DefaultConfig()
			if key == "telnet.operators" {
				telnetSection.of(cfg).Operators = []string{bad}
			} else {
				xmlrpcSection.of(cfg).Operators = []string{bad}
			}
			err := cfg.validate()
			if err == nil || !strings.Contains(err.Error(), key) {
				t.Errorf("%s = [%q]: validate = %v, want an error naming %s", key, bad, err, key)
			}
			if bad == "Alice" && !strings.Contains(err.Error(), `use "alice"`) {
				t.Errorf("%s = [Alice]: %v, want the hint to write alice", key, err)
			}
		}
	}
	ops := []string{"alice", "bob"}
	if !isOperator(ops, "bob") || isOperator(ops, "carol") || isOperator(ops, "Bob") {
		t.Errorf("isOperator matches other than the account names listed")
	}
}
