package daemon

import (
	"path/filepath"
	"sync"

	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/filestore"
	"github.com/plumbnet/plumb/internal/mailstore"
)

// stores are opened the first time a service needs them, so a daemon
// running only the small services touches nothing on disk but its
// certificate and accounts.
type stores struct {
	accounts *accounts.DB

	filesOnce sync.Once
	files     *filestore.Store
	filesErr  error

	mailOnce sync.Once
	mail     *mailstore.Store
	mailErr  error

	presenceOnce sync.Once
	presence     *presence // see presence.go
}

// Accounts returns the account database (opened at start).
func (d *Daemon) Accounts() *accounts.DB { return d.stores.accounts }

// FileStore returns the shared file tree under <data>/files.
func (d *Daemon) FileStore() (*filestore.Store, error) {
	d.stores.filesOnce.Do(func() {
		d.stores.files, d.stores.filesErr = filestore.Open(filepath.Join(d.DataDir(), "files"))
	})
	return d.stores.files, d.stores.filesErr
}

// MailStore returns the Maildirs under <data>/mail.
func (d *Daemon) MailStore() (*mailstore.Store, error) {
	d.stores.mailOnce.Do(func() {
		d.stores.mail, d.stores.mailErr = mailstore.Open(filepath.Join(d.DataDir(), "mail"))
		if q := d.cfg.Mail.QuotaBytes; q > 0 && d.stores.mail != nil {
			d.stores.mail.Quota = func(string) int64 { return q }
		}
		if d.stores.mail != nil {
			// Stopped after the services that use it: a folder whose
			// listing is current is written to its plumb-listing, so
			// the next start does not read its directories.
			d.addComponent("mail store", closer{d.stores.mail})
		}
	})
	return d.stores.mail, d.stores.mailErr
}
