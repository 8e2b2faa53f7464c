package daemon

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/plumbnet/plumb/smtp"
)

// SMTPConfig is the [smtp] section: the incoming listener itself, the
// two submission listeners, local delivery and the outbound queue.
type SMTPConfig struct {
	Listener
	Hostname        string            `toml:"hostname" comment:"Name in the greeting and Received: headers; empty: this host's name"`
	Domains         []string          `toml:"domains" comment:"Domains delivered here (the host name is always one)"`
	Aliases         map[string]string `toml:"aliases" comment:"Local part or whole address -> user names or addresses, comma-separated"`
	PlusSeparator   string            `toml:"plus_separator" comment:"user+tag@domain goes to user; empty: no plus-addressing"`
	CatchAll        string            `toml:"catch_all" comment:"Accept every recipient, any domain, into this user's inbox (a developer's mail catcher); empty: off"`
	MaxMessageBytes int64             `toml:"max_message_bytes" comment:"Largest message accepted, offered as SIZE"`
	MaxRecipients   int               `toml:"max_recipients" comment:"Recipients per message"`
	MaxErrors       int               `toml:"max_errors" comment:"Failed commands before a connection is closed"`
	VRFY            bool              `toml:"vrfy" comment:"Answer VRFY with whether a mailbox exists (tells spammers which do)"`

	Submission  Listener       `toml:"submission" comment:"Message submission (RFC 6409): AUTH required, STARTTLS required off loopback"`
	Submissions Listener       `toml:"submissions" comment:"Submission over implicit TLS (RFC 8314)"`
	Outbound    OutboundConfig `toml:"outbound"`
}

// OutboundConfig is [smtp.outbound]: how queued mail to other domains leaves.
type OutboundConfig struct {
	Smarthost         string     `toml:"smarthost" comment:"host:port every outbound message is handed to; empty: the domain's MX hosts on port 25"`
	SmarthostTLS      string     `toml:"smarthost_tls" comment:"starttls (when offered), require-starttls, tls (implicit) or none"`
	SmarthostUser     string     `toml:"smarthost_user" comment:"AUTH user at the smarthost; empty: no AUTH"`
	SmarthostPassword string     `toml:"smarthost_password"`
	Retry             []Duration `toml:"retry" comment:"Waits between delivery attempts; the last repeats until expire"`
	Expire            Duration   `toml:"expire" comment:"Give up and bounce to the sender after this long in the queue"`
	Concurrency       int        `toml:"concurrency" comment:"Deliveries at once"`
}

func init() { register("smtp", buildSMTP) }

// smtpBusy is what a connection over a limit is told before it is closed.
var smtpBusy = []byte("421 4.7.0 Too many connections, try again later\r\n")

func buildSMTP(d *Daemon) ([]Service, error) {
	cfg := &d.Config().SMTP
	if !cfg.Enabled && !cfg.Submission.Enabled && !cfg.Submissions.Enabled {
		return nil, nil
	}
	for name, l := range map[string]Listener{"smtp.submission": cfg.Submission, "smtp.submissions": cfg.Submissions} {
		if _, _, err := net.SplitHostPort(l.Addr); l.Enabled && err != nil {
			return nil, fmt.Errorf("%s.addr %q: want host:port or :port", name, l.Addr)
		}
	}
	switch cfg.Outbound.SmarthostTLS {
	case "", "starttls", "require-starttls", "tls", "none":
	default:
		return nil, fmt.Errorf("smtp.outbound.smarthost_tls %q: want starttls, require-starttls, tls or none", cfg.Outbound.SmarthostTLS)
	}
	if cfg.CatchAll != "" {
		if _, ok := d.Accounts().Lookup(cfg.CatchAll); !ok {
			return nil, fmt.Errorf("smtp.catch_all %q: no such user (add it with plumb user add)", cfg.CatchAll)
		}
	}
	store, err := d.MailStore()
	if err != nil {
		return nil, err
	}
	hostname := cfg.Hostname
	if hostname == "" {
		if hostname, err = os.Hostname(); err != nil || hostname == "" {
			hostname = "localhost"
		}
	}
	be := &smtpBackend{d: d, cfg: cfg, store: store, hostname: hostname, log: d.Logger().With("service", "smtp")}
	be.domains = map[string]bool{strings.ToLower(hostname): true}
	for _, dom := range cfg.Domains {
		be.domains[strings.ToLower(strings.TrimSuffix(dom, "."))] = true
	}
	q, err := openQueue(filepath.Join(d.DataDir(), "queue"), be)
	if err != nil {
		return nil, err
	}
	be.queue = q
	q.start()

	newServer := func(submission, implicitTLS bool) *smtp.Server {
		return &smtp.Server{
			Backend:         be,
			Hostname:        hostname,
			TLSConfig:       d.TLSConfig(),
			ImplicitTLS:     implicitTLS,
			AuthRequired:    submission,
			TLSRequired:     submission,
			EnableVRFY:      cfg.VRFY,
			MaxMessageBytes: cfg.MaxMessageBytes,
			MaxRecipients:   cfg.MaxRecipients,
			MaxErrors:       cfg.MaxErrors,
			IdleTimeout:     d.Config().Limits.IdleTimeout.Duration,
			Logger:          d.Logger(),
		}
	}
	var services []Service
	add := func(name string, l Listener, tls bool, srv *smtp.Server) {
		if !l.Enabled {
			return
		}
		services = append(services, Service{Name: name, Net: "tcp", Addr: d.Addr(l.Addr), TLS: tls,
			Busy: smtpBusy, MaxConns: l.MaxConns, ProxyProtocol: l.ProxyProtocol,
			Stream: &smtpService{Server: srv, q: q}})
	}
	add("smtp", cfg.Listener, false, newServer(false, false))
	add("submission", cfg.Submission, false, newServer(true, false))
	add("submissions", cfg.Submissions, true, newServer(true, true))
	return services, nil
}

// smtpService stops the outbound queue along with the listeners.
type smtpService struct {
	*smtp.Server
	q *outQueue
}

func (s *smtpService) Shutdown(ctx context.Context) error {
	err := s.Server.Shutdown(ctx)
	s.q.stop()
	return err
}

func (s *smtpService) Close() error {
	err := s.Server.Close()
	s.q.stop()
	return err
}
