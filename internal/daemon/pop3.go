package daemon

// POP3Config is the [pop3] section. Stub: the pop3 issue fills it in.
type POP3Config struct {
	Listener
}

func init() {
	register("pop3", func(d *Daemon) ([]Service, error) { return nil, nil })
}
