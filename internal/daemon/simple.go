package daemon

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/plumbnet/plumb/simple"
)

// QuotesFile is the qotd quotation file in the data directory: quotations
// separated by blank lines or "%" lines. Without it qotd uses its
// built-in list.
const QuotesFile = "qotd.txt"

func init() { register("simple", buildSimple) }

// buildSimple returns the small services (RFC 862-868): for each enabled
// one a TCP service named after it and, with udp = true, a UDP one named
// "<name>/udp" on the same address.
func buildSimple(d *Daemon) ([]Service, error) {
	cfg := d.Config()
	log := d.Logger()
	if log == nil {
		log = slog.Default()
	}
	quotes := loadQuotes(d, log)
	idle := cfg.Limits.IdleTimeout.Duration
	if idle == 0 {
		idle = -1 // the config's 0 means no idle limit; simple.Server's means its default
	}
	var out []Service
	for _, s := range []struct {
		svc simple.Service
		cfg SimpleConfig
	}{
		{simple.Echo, cfg.Echo},
		{simple.Discard, cfg.Discard},
		{simple.Daytime, cfg.Daytime},
		{simple.QOTD, cfg.QOTD},
		{simple.Chargen, cfg.Chargen},
		{simple.Time, cfg.Time},
	} {
		if !s.cfg.Enabled {
			continue
		}
		name := s.svc.String()
		addr := d.Addr(s.cfg.Addr)
		server := func() *simple.Server {
			return &simple.Server{
				Service:     s.svc,
				Quotes:      quotes,
				IdleTimeout: idle,
				Logger:      log.With("service", name),
			}
		}
		out = append(out, Service{
			Name:          name,
			Net:           "tcp",
			Addr:          addr,
			MaxConns:      s.cfg.MaxConns,
			ProxyProtocol: s.cfg.ProxyProtocol,
			Stream:        server(),
		})
		if s.cfg.UDP {
			out = append(out, Service{Name: name + "/udp", Net: "udp", Addr: addr, Packet: server()})
		}
	}
	return out, nil
}

// loadQuotes reads <data>/qotd.txt; a missing, unreadable or empty file
// leaves qotd on its built-in quotations.
func loadQuotes(d *Daemon, log *slog.Logger) []string {
	if !d.Config().QOTD.Enabled {
		return nil
	}
	path := filepath.Join(d.DataDir(), QuotesFile)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		log.Warn("qotd: cannot read quotations; using the built-in ones", "file", path, "err", err)
		return nil
	}
	defer f.Close()
	quotes, skipped, err := simple.ParseQuotes(f)
	switch {
	case err != nil:
		log.Warn("qotd: cannot read quotations; using the built-in ones", "file", path, "err", err)
		return nil
	case len(quotes) == 0:
		log.Warn("qotd: no quotation short enough in file; using the built-in ones", "file", path, "skipped", skipped)
		return nil
	case skipped > 0:
		log.Warn("qotd: skipped quotations of 510 bytes or more (RFC 865 wants under 512)", "file", path, "skipped", skipped)
	}
	log.Info("qotd: quotations loaded", "file", path, "count", len(quotes))
	return quotes
}
