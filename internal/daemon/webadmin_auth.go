package daemon

import (
	"context"
	"fmt"

	"github.com/plumbnet/plumb/internal/webadmin"
)

// adminTokens checks API tokens against the accounts: a token is good
// when it is one of an operator's (admin.operators).
type adminTokens struct{ d *Daemon }

var _ webadmin.Authenticator = adminTokens{}

func (a adminTokens) Token(ctx context.Context, token string) (string, bool) {
	user, ok := a.d.Accounts().TokenUser(token)
	if !ok || !isOperator(a.d.cfg.Admin.Operators, user) {
		return "", false
	}
	return user, true
}

// check refuses operators that are not account names and webhooks
// that cannot be POSTed to.
func (c AdminConfig) check() error {
	if err := checkOperators("admin.operators", c.Operators); err != nil {
		return err
	}
	for i, h := range c.Webhooks {
		if err := webadmin.CheckWebhook(webadmin.Webhook{URL: h.URL, Events: h.Events}); err != nil {
			return fmt.Errorf("admin.webhook[%d]: %w", i, err)
		}
	}
	return nil
}
