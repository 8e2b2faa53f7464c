package daemon

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/plumbnet/plumb/internal/mta"
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
	PlusFolders     bool              `toml:"plus_folders" comment:"user+Folder@domain goes to user's folder Folder when it exists (else the inbox)"`
	CatchAll        string            `toml:"catch_all" comment:"Accept every recipient, any domain, into this user's inbox (a developer's mail catcher); empty: off"`
	Postmaster      string            `toml:"postmaster" comment:"Who gets mail to postmaster, with or without a local domain (RFC 5321 4.5.1): user names or addresses, comma-separated; empty: accounts.first_user"`
	MaxMessageBytes int64             `toml:"max_message_bytes" comment:"Largest message accepted, offered as SIZE"`
	MaxRecipients   int               `toml:"max_recipients" comment:"Recipients per message"`
	MaxErrors       int               `toml:"max_errors" comment:"Failed commands before a connection is closed"`
	VRFY            bool              `toml:"vrfy" comment:"Answer VRFY with whether a mailbox exists (tells spammers which do)"`
	StartTLS        bool              `toml:"starttls" comment:"Offer STARTTLS on [smtp] (submission always does); off for clients that, offered it, must verify a certificate they cannot (Go's net/smtp.SendMail and a self-signed one)"`

	Submission  Listener       `toml:"submission" comment:"Message submission (RFC 6409): AUTH required, STARTTLS required off loopback"`
	Submissions Listener       `toml:"submissions" comment:"Submission over implicit TLS (RFC 8314)"`
	Outbound    OutboundConfig `toml:"outbound"`
}

// OutboundConfig is [smtp.outbound]: how queued mail to other domains leaves.
type OutboundConfig struct {
	Smarthost         string     `toml:"smarthost" comment:"host:port every outbound message is handed to; empty: the domain's MX hosts on port 25"`
	SmarthostTLS      string     `toml:"smarthost_tls" comment:"starttls (when offered), require-starttls, tls (implicit) or none"`
	SmarthostUser     string     `toml:"smarthost_user" comment:"AUTH user at the smarthost; empty: no AUTH"`
	SmarthostPassword string     `toml:"smarthost_password" comment:"Password for smarthost_user; sent only over TLS or to a smarthost on loopback"`
	Retry             []Duration `toml:"retry" comment:"Waits between delivery attempts; the last repeats until expire"`
	Expire            Duration   `toml:"expire" comment:"Give up and bounce to the sender after this long in the queue"`
	Concurrency       int        `toml:"concurrency" comment:"Deliveries at once"`
}

const smtpSection section[SMTPConfig] = "smtp"

//go:embed defaults/smtp.toml
var smtpDefaults string

func init() {
	register(smtpSection, protocol{rank: 25, defaults: smtpDefaults, build: buildSMTP,
		comment: "SMTP (RFC 5321) for the local domains; [smtp.submission] and [smtp.submissions] take authenticated mail (RFC 6409, 8314)"})
}

// check finds what is wrong with the [smtp] section, for LoadConfig.
func (c *SMTPConfig) check(*Config) error {
	out := c.Outbound
	switch out.SmarthostTLS {
	case "", "starttls", "require-starttls", "tls", "none":
	default:
		return fmt.Errorf("smtp.outbound.smarthost_tls %q: want starttls, require-starttls, tls or none", out.SmarthostTLS)
	}
	if out.Smarthost != "" {
		if err := checkAddr("smtp.outbound.smarthost", out.Smarthost); err != nil {
			return err
		}
	}
	for i, r := range out.Retry {
		if r.Duration <= 0 {
			return fmt.Errorf("smtp.outbound.retry[%d] %q: want more than 0", i, r.Duration)
		}
	}
	if out.Expire.Duration <= 0 {
		return fmt.Errorf("smtp.outbound.expire %q: want more than 0 (how long to retry before bouncing)", out.Expire.Duration)
	}
	for _, n := range []struct {
		key string
		v   int64
	}{{"smtp.max_message_bytes", c.MaxMessageBytes}, {"smtp.max_recipients", int64(c.MaxRecipients)},
		{"smtp.max_errors", int64(c.MaxErrors)}, {"smtp.outbound.concurrency", int64(out.Concurrency)}} {
		if n.v < 0 {
			return fmt.Errorf("%s = %d: want 0 or more", n.key, n.v)
		}
	}
	return nil
}

// smtpBusy is what a connection over a limit is told before it is closed.
var smtpBusy = []byte("421 4.7.0 Too many connections, try again later\r\n")

func buildSMTP(d *Daemon) ([]Service, error) {
	cfg := smtpSection.of(d.Config())
	if !cfg.Enabled && !cfg.Submission.Enabled && !cfg.Submissions.Enabled {
		return nil, nil
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
	log := d.Logger().With("service", "smtp")
	be := &smtpBackend{d: d, presence: d.Presence(), cfg: cfg, store: store, hostname: hostname, log: log}
	be.domains = map[string]bool{strings.ToLower(hostname): true}
	for _, dom := range cfg.Domains {
		be.domains[strings.ToLower(strings.TrimSuffix(dom, "."))] = true
	}
	be.postmaster = cfg.Postmaster
	if be.postmaster == "" {
		be.postmaster = d.Config().Accounts.FirstUser
	}
	for _, t := range strings.Split(be.postmaster, ",") {
		if t = strings.TrimSpace(t); t != "" && !strings.Contains(t, "@") {
			if _, ok := d.Accounts().Lookup(t); !ok {
				log.Warn("smtp: postmaster names no account; mail to postmaster is refused until it exists", "postmaster", t)
			}
		}
	}
	out := cfg.Outbound
	retry := make([]time.Duration, len(out.Retry))
	for i, r := range out.Retry {
		retry[i] = r.Duration
	}
	q, err := mta.Open(filepath.Join(d.DataDir(), "queue"), be, mta.Config{
		Hostname:          hostname,
		Smarthost:         out.Smarthost,
		SmarthostTLS:      out.SmarthostTLS,
		SmarthostUser:     out.SmarthostUser,
		SmarthostPassword: out.SmarthostPassword,
		Retry:             retry,
		Expire:            out.Expire.Duration,
		Concurrency:       out.Concurrency,
		Logger:            log,
	})
	if err != nil {
		return nil, err
	}
	be.queue = q
	d.addComponent("smtp queue", q)
	newsMail.Store(d, newsMailer(be.mailNews)) // news to mail: see nntp_mail.go

	newServer := func(submission bool) *smtp.Server {
		tlsConfig := d.TLSConfig()
		if !submission && !cfg.StartTLS {
			tlsConfig = nil // no STARTTLS offered
		}
		return &smtp.Server{
			Backend:         be,
			Hostname:        hostname,
			TLSConfig:       tlsConfig,
			AuthRequired:    submission,
			TLSRequired:     submission,
			EnableVRFY:      cfg.VRFY,
			MaxMessageBytes: cfg.MaxMessageBytes,
			MaxRecipients:   cfg.MaxRecipients,
			MaxErrors:       cfg.MaxErrors,
			IdleTimeout:     d.IdleTimeout(),
			LineTimeout:     d.LineTimeout(),
			Logger:          d.Logger(),
		}
	}
	var services []Service
	add := func(name string, l Listener, tls bool, srv *smtp.Server) {
		if !l.Enabled {
			return
		}
		services = append(services, Service{Name: name, Net: "tcp", Addr: d.Addr(l.Addr), TLS: tls,
			Busy: smtpBusy, MaxConns: l.MaxConns, ProxyProtocol: l.ProxyProtocol, Stream: srv})
	}
	add("smtp", cfg.Listener, false, newServer(false))
	add("submission", cfg.Submission, false, newServer(true))
	add("submissions", cfg.Submissions, true, newServer(true))
	return services, nil
}
