// Package daemon is plumb serve: it reads the config, opens the stores,
// adapts them to each protocol package's backend, binds every service's
// listener behind the daemon's limits, metrics, PROXY protocol and TLS,
// and runs them until shutdown. It is the only package that knows both
// the stores and the protocols.
package daemon

import (
	"crypto/tls"
	"log/slog"
)

// Daemon runs every enabled service of one Config.
type Daemon struct {
	cfg    *Config
	log    *slog.Logger
	tlsCfg *tls.Config
	stores stores
}

// Config returns the daemon's configuration.
func (d *Daemon) Config() *Config { return d.cfg }

// Logger returns the daemon's logger.
func (d *Daemon) Logger() *slog.Logger { return d.log }

// TLSConfig returns the TLS configuration every TLS listener and
// STARTTLS upgrade shares.
func (d *Daemon) TLSConfig() *tls.Config { return d.tlsCfg }

// DataDir returns the data directory.
func (d *Daemon) DataDir() string { return d.cfg.Data }

// Addr returns a service's configured address with the listen host filled in.
func (d *Daemon) Addr(addr string) string { return d.cfg.resolve(addr) }
