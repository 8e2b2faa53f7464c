package daemon

// FTPConfig is the [ftp] section. Stub: the ftp issue fills it in.
type FTPConfig struct {
	Listener
}

func init() {
	register("ftp", func(d *Daemon) ([]Service, error) { return nil, nil })
}
