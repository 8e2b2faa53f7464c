package daemon

import (
	_ "embed"

	"github.com/plumbnet/plumb/imap"
)

// IMAPConfig is the [imap] section: the plain listener (with STARTTLS)
// and [imap.imaps], implicit TLS.
type IMAPConfig struct {
	Listener
	IMAPS           Listener `toml:"imaps" comment:"IMAP over implicit TLS (RFC 8314)"`
	MaxBadCommands  int      `toml:"max_bad_commands" comment:"Unknown commands before login before a connection is closed"`
	MaxAuthFailures int      `toml:"max_auth_failures" comment:"Failed logins before a connection is closed"`
	MaxAppendBytes  int64    `toml:"max_append_bytes" comment:"Largest message APPEND stores (APPENDLIMIT)"`
	InsecureAuth    bool     `toml:"insecure_auth" comment:"Accept passwords without TLS from clients not on loopback (not recommended)"`
}

const imapSection section[IMAPConfig] = "imap"

//go:embed defaults/imap.toml
var imapDefaults string

func init() {
	register(imapSection, protocol{rank: 143, defaults: imapDefaults, build: buildIMAP,
		comment: "IMAP4rev1/IMAP4rev2 (RFC 3501, 9051) with STARTTLS; [imap.imaps] is implicit TLS (RFC 8314)"})
}

// imapBusy is what a connection over a limit is told before it is closed.
var imapBusy = []byte("* BYE [UNAVAILABLE] Too many connections, try again later\r\n")

func buildIMAP(d *Daemon) ([]Service, error) {
	cfg := imapSection.of(d.Config())
	if !cfg.Enabled && !cfg.IMAPS.Enabled {
		return nil, nil
	}
	store, err := d.MailStore()
	if err != nil {
		return nil, err
	}
	be := &imapBackend{accounts: d.Accounts(), store: store, presence: d.Presence(), log: d.Logger().With("service", "imap"), events: d.events}
	newServer := func() *imap.Server {
		return &imap.Server{
			Backend:         be,
			TLSConfig:       d.TLSConfig(),
			Logger:          be.log,
			IdleTimeout:     d.IdleTimeout(),
			LineTimeout:     d.LineTimeout(),
			MaxBadCommands:  cfg.MaxBadCommands,
			MaxAuthFailures: cfg.MaxAuthFailures,
			MaxLiteralSize:  cfg.MaxAppendBytes,
			InsecureAuth:    cfg.InsecureAuth,
		}
	}
	var services []Service
	if cfg.Enabled {
		services = append(services, Service{Name: "imap", Net: "tcp", Addr: d.Addr(cfg.Addr), Busy: imapBusy,
			MaxConns: cfg.MaxConns, ProxyProtocol: cfg.ProxyProtocol, Stream: newServer()})
	}
	if cfg.IMAPS.Enabled {
		services = append(services, Service{Name: "imaps", Net: "tcp", Addr: d.Addr(cfg.IMAPS.Addr), TLS: true,
			MaxConns: cfg.IMAPS.MaxConns, ProxyProtocol: cfg.IMAPS.ProxyProtocol, Stream: newServer()})
	}
	return services, nil
}
