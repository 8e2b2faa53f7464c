package daemon

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Config is plumb serve's whole configuration. The embedded default
// (defaults/*.toml, one file per concern) is read first; a user's file
// is read on top of it, so it only names what it changes.
type Config struct {
	Data   string `toml:"data" comment:"Directory holding accounts, files, mail and news; created on first start."`
	Listen string `toml:"listen" comment:"Host every service binds when its addr names only a port (\":10007\")."`

	Log      LogConfig      `toml:"log"`
	Admin    AdminConfig    `toml:"admin"`
	TLS      TLSConfig      `toml:"tls"`
	Limits   LimitsConfig   `toml:"limits"`
	Accounts AccountsConfig `toml:"accounts"`
	Files    FilesConfig    `toml:"files"`
	Mail     MailConfig     `toml:"mail"`

	Echo    SimpleConfig `toml:"echo"`
	Discard SimpleConfig `toml:"discard"`
	Daytime SimpleConfig `toml:"daytime"`
	QOTD    SimpleConfig `toml:"qotd"`
	Chargen SimpleConfig `toml:"chargen"`
	Time    SimpleConfig `toml:"time"`

	FTP  FTPConfig  `toml:"ftp"`
	SMTP SMTPConfig `toml:"smtp"`
	POP3 POP3Config `toml:"pop3"`
}

// MailConfig is the [mail] section: the Maildirs SMTP delivers into and
// POP3 reads.
type MailConfig struct {
	QuotaBytes int64 `toml:"quota_bytes" comment:"Each account's mail limit in bytes over all folders; 0 means none"`
}

// LogConfig chooses the log format.
type LogConfig struct {
	Format string `toml:"format" comment:"text or json"`
	Level  string `toml:"level" comment:"debug, info, warn or error"`
}

// AdminConfig is the admin HTTP listener: /metrics, /healthz and a status page.
type AdminConfig struct {
	Enabled bool   `toml:"enabled"`
	Addr    string `toml:"addr"`
}

// TLSConfig names the certificate every TLS listener and STARTTLS uses.
type TLSConfig struct {
	Cert string `toml:"cert" comment:"PEM certificate chain; empty: a self-signed one made once in the data directory"`
	Key  string `toml:"key" comment:"PEM private key for cert"`
}

// LimitsConfig holds the limits the daemon enforces for every service.
type LimitsConfig struct {
	MaxConns      int      `toml:"max_conns" comment:"Open connections over all services; 0 means no limit"`
	MaxConnsPerIP int      `toml:"max_conns_per_ip" comment:"Open connections from one client IP; 0 means no limit"`
	AcceptRate    float64  `toml:"accept_rate_per_ip" comment:"Connections accepted per second from one IP (a burst of twice that is allowed); 0 means no limit"`
	UDPRate       float64  `toml:"udp_rate_per_ip" comment:"Datagrams answered per second per IP on UDP services; 0 means no limit"`
	IdleTimeout   Duration `toml:"idle_timeout" comment:"Close a connection that has sent nothing for this long"`
	ShutdownGrace Duration `toml:"shutdown_grace" comment:"On SIGINT/SIGTERM, how long open sessions may finish before they are closed"`
	// TrustedProxies guards proxy_protocol listeners: only these peers may
	// send a PROXY header, and every other peer is refused.
	TrustedProxies []string `toml:"trusted_proxies" comment:"Networks (CIDR) whose PROXY headers are believed on proxy_protocol listeners; others are refused"`
}

// AccountsConfig decides how the first start makes an account.
type AccountsConfig struct {
	FirstUser string `toml:"first_user" comment:"Account created with a random password (printed once) when no account exists; empty: none"`
}

// Listener holds what every service section has.
type Listener struct {
	Enabled       bool   `toml:"enabled"`
	Addr          string `toml:"addr" comment:"host:port, or :port to bind the top-level listen host"`
	MaxConns      int    `toml:"max_conns" comment:"Open connections to this service; 0 means only the global limits"`
	ProxyProtocol bool   `toml:"proxy_protocol" comment:"Expect a PROXY v1/v2 header from a load balancer on every connection"`
}

// SimpleConfig is a section of one of the small RFC 86x services.
type SimpleConfig struct {
	Listener
	UDP bool `toml:"udp" comment:"Also serve the UDP variant on the same port"`
}

// Duration is a time.Duration written as "30s", "5m" in the config.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("bad duration %q (want e.g. \"30s\", \"5m\")", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration the way UnmarshalText reads it.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }

//go:embed defaults/*.toml
var defaultFiles embed.FS

// DefaultTOML returns the embedded default configuration text.
func DefaultTOML() []byte {
	names, _ := fs.Glob(defaultFiles, "defaults/*.toml")
	sort.Strings(names)
	var buf bytes.Buffer
	for _, n := range names {
		b, _ := defaultFiles.ReadFile(n)
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// DefaultConfig returns the embedded default configuration.
func DefaultConfig() *Config {
	c := &Config{}
	if err := decodeStrict(DefaultTOML(), "(embedded default)", c); err != nil {
		panic(err) // a broken embedded default is a build defect
	}
	return c
}

// LoadConfig reads the embedded default and, if path is not empty, the
// file at path on top of it.
func LoadConfig(path string) (*Config, error) {
	c := DefaultConfig()
	if path == "" {
		return c, c.validate()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := decodeStrict(b, path, c); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// decodeStrict decodes TOML into c, refusing unknown keys, and reports
// the file, line and key of the first problem in one message.
func decodeStrict(b []byte, name string, c *Config) error {
	dec := toml.NewDecoder(bytes.NewReader(b)).DisallowUnknownFields()
	err := dec.Decode(c)
	if err == nil {
		return nil
	}
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) && len(strict.Errors) > 0 {
		e := strict.Errors[0]
		row, _ := e.Position()
		return fmt.Errorf("config %s:%d: unknown key %q", name, row, strings.Join(e.Key(), "."))
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		key := strings.Join(de.Key(), ".")
		if key != "" {
			return fmt.Errorf("config %s:%d: key %q: %s", name, row, key, de.Error())
		}
		return fmt.Errorf("config %s:%d: %s", name, row, de.Error())
	}
	return fmt.Errorf("config %s: %w", name, err)
}

// Marshal returns c as TOML with a comment over each key.
func (c *Config) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("# plumb serve: effective configuration\n")
	enc := toml.NewEncoder(&buf)
	enc.SetIndentTables(false)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// resolve returns addr with the top-level listen host filled in when
// addr names only a port.
func (c *Config) resolve(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host != "" {
		return addr
	}
	return net.JoinHostPort(c.Listen, port)
}

func (c *Config) validate() error {
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("log.format %q: want text or json", c.Log.Format)
	}
	for _, p := range c.Limits.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			return fmt.Errorf("limits.trusted_proxies: %q is not a CIDR network like \"10.0.0.0/8\"", p)
		}
	}
	for name, l := range c.listeners() {
		if !l.Enabled {
			continue
		}
		if _, _, err := net.SplitHostPort(l.Addr); err != nil {
			return fmt.Errorf("%s.addr %q: want host:port or :port", name, l.Addr)
		}
	}
	return nil
}

// listeners returns every service section's common part by name, for
// validation and for --listen.
func (c *Config) listeners() map[string]*Listener {
	return map[string]*Listener{
		"echo": &c.Echo.Listener, "discard": &c.Discard.Listener, "daytime": &c.Daytime.Listener,
		"qotd": &c.QOTD.Listener, "chargen": &c.Chargen.Listener, "time": &c.Time.Listener,
		"ftp": &c.FTP.Listener, "smtp": &c.SMTP.Listener, "pop3": &c.POP3.Listener,
		"ftp.ftps": &c.FTP.FTPS, "pop3.pop3s": &c.POP3.POP3S,
		"smtp.submission": &c.SMTP.Submission, "smtp.submissions": &c.SMTP.Submissions,
	}
}
