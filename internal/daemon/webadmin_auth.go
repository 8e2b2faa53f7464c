package daemon

import (
	"context"

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
