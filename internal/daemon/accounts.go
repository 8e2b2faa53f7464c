package daemon

import (
	"fmt"
	"path/filepath"

	"github.com/plumbnet/plumb/internal/accounts"
)

// openAccounts opens the account file and, on a zero-config first start
// (no account at all), creates accounts.first_user with a random
// password shown once to the person who started the daemon.
func (d *Daemon) openAccounts() error {
	db, err := accounts.OpenWith(filepath.Join(d.cfg.Data, accounts.FileName), accounts.Options{Logger: d.log, OnFailure: d.events.loginFailed})
	if err != nil {
		return err
	}
	d.stores.accounts = db
	name := d.cfg.Accounts.FirstUser
	if name == "" {
		return nil
	}
	pass, created, err := db.EnsureFirstUser(name)
	if err != nil {
		return fmt.Errorf("creating the first account %q: %w", name, err)
	}
	if created {
		fmt.Fprintf(d.out, "created account %q with password %q (shown once; change it with: plumb user passwd %s)\n", name, pass, name)
		d.log.Info("created the first account; its password was printed on standard output", "user", name)
	}
	return nil
}
