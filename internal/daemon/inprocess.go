package daemon

// What a caller that builds a Config in code and runs the daemon in its
// own process (plumbtest) needs beyond LoadConfig: to choose which
// listeners run and where, and to set a section's keys without knowing
// its Go type.

// Listeners returns every protocol listener of c by its config key
// ("smtp", "smtp.submission", "ftp.ftps"). The values point into c:
// changing one changes c. Start checks the result, as LoadConfig would.
func (c *Config) Listeners() map[string]*Listener { return c.listeners() }

// Merge reads the TOML text b on top of c, as LoadConfig reads a user's
// file on top of the default: only the keys b names change, and an
// unknown key is an error naming name and the line. Start checks the
// result.
func (c *Config) Merge(b []byte, name string) error {
	return decodeStrict(b, name, c.view(true, c.sectionNames()...))
}
