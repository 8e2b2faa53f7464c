package daemon

// SMTPConfig is the [smtp] section. Stub: the smtp issue fills it in.
type SMTPConfig struct {
	Listener
}

func init() {
	register("smtp", func(d *Daemon) ([]Service, error) { return nil, nil })
}
