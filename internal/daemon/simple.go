package daemon

import (
	"errors"
	"fmt"
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

// SimpleConfig is a section of one of the small RFC 86x services.
type SimpleConfig struct {
	Listener
	UDP bool `toml:"udp" comment:"Also serve the UDP variant on the same port"`
}

// The small services, each a protocol of its own at its well-known port.
var simpleServices = []struct {
	svc  simple.Service
	port int
	rfc  int
}{
	{simple.Echo, 7, 862},
	{simple.Discard, 9, 863},
	{simple.Daytime, 13, 867},
	{simple.QOTD, 17, 865},
	{simple.Chargen, 19, 864},
	{simple.Time, 37, 868},
}

func init() {
	for _, s := range simpleServices {
		sec := section[SimpleConfig](s.svc.String())
		register(sec, protocol{
			rank:     s.port,
			comment:  fmt.Sprintf("%s (RFC %d), TCP and UDP", s.svc, s.rfc),
			defaults: fmt.Sprintf("[%s]\nenabled = true\naddr = \":%d\"\nudp = true\n", sec, s.port+10000),
			build:    func(d *Daemon) ([]Service, error) { return buildSimple(d, s.svc, sec.of(d.Config())) },
		})
	}
}

// buildSimple returns one small service (RFC 862-868), if enabled: a
// TCP service named after it and, with udp = true, a UDP one named
// "<name>/udp" on the same address.
func buildSimple(d *Daemon, svc simple.Service, cfg *SimpleConfig) ([]Service, error) {
	if !cfg.Enabled {
		return nil, nil
	}
	log := d.Logger()
	if log == nil {
		log = slog.Default()
	}
	var quotes []string
	if svc == simple.QOTD {
		quotes = loadQuotes(d, log)
	}
	name := svc.String()
	addr := d.Addr(cfg.Addr)
	server := func() *simple.Server {
		return &simple.Server{
			Service:     svc,
			Quotes:      quotes,
			IdleTimeout: d.IdleTimeout(),
			Logger:      log.With("service", name),
		}
	}
	out := []Service{{
		Name:          name,
		Net:           "tcp",
		Addr:          addr,
		MaxConns:      cfg.MaxConns,
		ProxyProtocol: cfg.ProxyProtocol,
		Stream:        server(),
	}}
	if cfg.UDP {
		out = append(out, Service{Name: name + "/udp", Net: "udp", Addr: addr, Packet: server()})
	}
	return out, nil
}

// loadQuotes reads <data>/qotd.txt; a missing, unreadable or empty file
// leaves qotd on its built-in quotations.
func loadQuotes(d *Daemon, log *slog.Logger) []string {
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
