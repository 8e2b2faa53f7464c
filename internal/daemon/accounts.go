package daemon

// accountsFile is the account database's name in the data directory.
const accountsFile = "accounts.toml"

// ensureFirstUser makes the first account on a zero-config start.
func (d *Daemon) ensureFirstUser() error {
	return nil // wired when internal/accounts offers EnsureFirstUser
}
