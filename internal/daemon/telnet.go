package daemon

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/telnet"
)

// TelnetConfig is the [telnet] section: the plain listener and
// [telnet.telnets], implicit TLS.
type TelnetConfig struct {
	Listener
	Telnets Listener `toml:"telnets" comment:"telnet over implicit TLS (port 992 + offset)"`
	// Operators are the accounts that get the operator console.
	Operators []string `toml:"operators" comment:"Accounts that get the operator console after logging in"`
	// Command is what other accounts run; empty lets only operators in.
	Command          []string `toml:"command" comment:"Program (absolute path, then arguments) that accounts other than operators run on their terminal, e.g. [\"/bin/bash\", \"-l\"]; it runs as the daemon's own OS user. Empty: only operators may log in"`
	InsecureLogin    bool     `toml:"insecure_login" comment:"Accept logins without TLS from clients not on loopback (not recommended: the password crosses the network in clear)"`
	LoginTimeout     Duration `toml:"login_timeout" comment:"Time from connecting to a successful login"`
	MaxLoginAttempts int      `toml:"max_login_attempts" comment:"Failed logins before a connection is closed"`
	MaxSubneg        int      `toml:"max_subnegotiation" comment:"Longest option subnegotiation accepted, in bytes; longer ones are dropped"`
	Banner           string   `toml:"banner" comment:"Line shown before the login prompt"`
}

const telnetSection section[TelnetConfig] = "telnet"

//go:embed defaults/telnet.toml
var telnetDefaults string

func init() {
	register(telnetSection, protocol{rank: 23, defaults: telnetDefaults, build: buildTelnet,
		comment: "Telnet (RFC 854, 1143) with the operator console; [telnet.telnets] is implicit TLS"})
}

func (c *TelnetConfig) check(*Config) error {
	if err := checkOperators("telnet.operators", c.Operators); err != nil {
		return err
	}
	if len(c.Command) > 0 && !filepath.IsAbs(c.Command[0]) {
		return fmt.Errorf("telnet.command: %q: want an absolute path first", c.Command[0])
	}
	if c.LoginTimeout.Duration < 0 {
		return fmt.Errorf("telnet.login_timeout %q: want 0 (the default) or more", c.LoginTimeout.Duration)
	}
	return nil
}

// telnetBusy is what a connection over a limit is told before it is closed.
var telnetBusy = []byte("Too many connections, try again later.\r\n")

func buildTelnet(d *Daemon) ([]Service, error) {
	cfg := telnetSection.of(d.Config())
	if !cfg.Enabled && !cfg.Telnets.Enabled {
		return nil, nil
	}
	be := &telnetBackend{d: d, cfg: cfg, log: d.Logger().With("service", "telnet")}
	newServer := func() *telnet.Server {
		return &telnet.Server{
			Backend:           be,
			Banner:            cfg.Banner,
			Logger:            be.log,
			IdleTimeout:       d.IdleTimeout(),
			LoginTimeout:      cfg.LoginTimeout.Duration,
			MaxLoginAttempts:  cfg.MaxLoginAttempts,
			MaxSubnegotiation: cfg.MaxSubneg,
			InsecureLogin:     cfg.InsecureLogin,
		}
	}
	var services []Service
	if cfg.Enabled {
		services = append(services, Service{Name: "telnet", Net: "tcp", Addr: d.Addr(cfg.Addr), Busy: telnetBusy,
			MaxConns: cfg.MaxConns, ProxyProtocol: cfg.ProxyProtocol, Stream: newServer()})
	}
	if cfg.Telnets.Enabled {
		services = append(services, Service{Name: "telnets", Net: "tcp", Addr: d.Addr(cfg.Telnets.Addr), TLS: true,
			MaxConns: cfg.Telnets.MaxConns, ProxyProtocol: cfg.Telnets.ProxyProtocol, Stream: newServer()})
	}
	return services, nil
}

// telnetBackend checks logins against the shared accounts (and their
// throttle) and gives operators the console, others the command.
type telnetBackend struct {
	d   *Daemon
	cfg *TelnetConfig
	log *slog.Logger
}

func (b *telnetBackend) Login(ctx context.Context, c telnet.ConnInfo, user, password string) (telnet.Program, error) {
	u, err := b.d.Accounts().Authenticate(ctx, user, password, c.RemoteAddr)
	if errors.Is(err, accounts.ErrAuthFailed) {
		return nil, fmt.Errorf("%w: %w", telnet.ErrAuthFailed, err)
	}
	if err != nil {
		return nil, err
	}
	// The account's own name, not the one typed (names match in any
	// case), is the session's USER.
	if isOperator(b.cfg.Operators, u.Name) {
		return telnet.Account{Name: u.Name, Program: present{&console{d: b.d}, b.d.Presence(), u.Name}}, nil
	}
	if len(b.cfg.Command) > 0 {
		return telnet.Account{Name: u.Name, Program: present{telnet.Command{Path: b.cfg.Command[0], Args: b.cfg.Command[1:],
			Env: []string{"PLUMB_USER=" + u.Name}}, b.d.Presence(), u.Name}}, nil
	}
	return nil, fmt.Errorf("%w: %s is not an operator and no command is set", telnet.ErrNotAllowed, u.Name)
}

// present runs a program as a session of user in the presence record
// (finger's last login and sessions), from its start to its end.
type present struct {
	telnet.Program
	presence *presence
	user     string
}

func (p present) Run(ctx context.Context, t *telnet.Terminal) error {
	defer p.presence.LoginConn(p.user, "telnet", t.Info.LocalAddr, t.Info.RemoteAddr)()
	return p.Program.Run(ctx, t)
}
