package daemon

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Config is plumb serve's whole configuration: the core sections below,
// which the daemon itself uses, and one section per registered protocol
// (see register), reached through the protocol's section value. The
// embedded default is read first; a user's file is read on top of it,
// so it only names what it changes. A Config is used by pointer: a
// copy would share the protocol sections of the original.
type Config struct {
	Data   string `toml:"data" comment:"Directory holding accounts, files and mail; created on first start."`
	Listen string `toml:"listen" comment:"Host every service binds when its addr names only a port (\":10007\")."`

	Log      LogConfig      `toml:"log"`
	Admin    AdminConfig    `toml:"admin"`
	TLS      TLSConfig      `toml:"tls"`
	Limits   LimitsConfig   `toml:"limits"`
	Accounts AccountsConfig `toml:"accounts"`
	Files    FilesConfig    `toml:"files"`
	Mail     MailConfig     `toml:"mail"`

	// sections holds each registered protocol's section by name, as a
	// pointer to the section's registered type.
	sections map[string]any
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

// AdminConfig is the admin HTTP listener: /metrics, /healthz, the web
// console at / and the REST API at /api/.
type AdminConfig struct {
	Enabled   bool            `toml:"enabled"`
	Addr      string          `toml:"addr" comment:"Off loopback it serves HTTPS with the daemon's certificate, and the API wants a token (plumb user token NAME)"`
	Operators []string        `toml:"operators" comment:"Accounts whose API tokens are accepted from off loopback"`
	Webhooks  []WebhookConfig `toml:"webhook" comment:"URLs POSTed each event as JSON, signed with X-Plumb-Signature: sha256=<HMAC of the body with secret>"`
}

// WebhookConfig is one [[admin.webhook]].
type WebhookConfig struct {
	URL    string   `toml:"url"`
	Events []string `toml:"events" comment:"delivery, mail-change, upload, post, login-failure; empty: all"`
	Secret string   `toml:"secret"`
}

// TLSConfig names the certificate every TLS listener and STARTTLS uses.
type TLSConfig struct {
	Cert string `toml:"cert" comment:"PEM certificate chain; empty: a self-signed one made in the data directory for the addresses served"`
	Key  string `toml:"key" comment:"PEM private key for cert"`
}

// LimitsConfig holds the limits the daemon enforces for every service.
type LimitsConfig struct {
	MaxConns      int      `toml:"max_conns" comment:"Open connections over all services; 0 means no limit"`
	MaxConnsPerIP int      `toml:"max_conns_per_ip" comment:"Open connections from one client IP; 0 means no limit"`
	AcceptRate    float64  `toml:"accept_rate_per_ip" comment:"Connections accepted per second from one IP (a burst of twice that is allowed; FTP data connections spend none); 0 means no limit"`
	UDPRate       float64  `toml:"udp_rate_per_ip" comment:"Datagrams answered per second per IP on UDP services; 0 means no limit"`
	IdleTimeout   Duration `toml:"idle_timeout" comment:"Close a connection that has moved no byte for this long, in every service; 0 means no idle timeout"`
	LineTimeout   Duration `toml:"line_timeout" comment:"A command line must arrive whole within this long of its first byte (against slowloris), in every line protocol; 0 means no limit"`
	ShutdownGrace Duration `toml:"shutdown_grace" comment:"On SIGINT/SIGTERM, how long open sessions may finish before they are closed"`
	// TrustedProxies guards proxy_protocol listeners: only these peers may
	// send a PROXY header, and every other peer is refused.
	TrustedProxies []string `toml:"trusted_proxies" comment:"Networks (CIDR) whose PROXY headers are believed on proxy_protocol listeners; others are refused"`
}

// AccountsConfig decides how the first start makes an account.
type AccountsConfig struct {
	FirstUser string `toml:"first_user" comment:"Account created with a random password (printed once) when no account exists; empty: none"`
}

// Listener holds what every service section has. A section's Listener
// fields are its listeners: embedded, it is the section's own; a named
// field is the listener of that subtable ([ftp.ftps]).
type Listener struct {
	Enabled       bool   `toml:"enabled"`
	Addr          string `toml:"addr" comment:"host:port, or :port to bind the top-level listen host"`
	MaxConns      int    `toml:"max_conns" comment:"Open connections to this service; 0 means only the global limits"`
	ProxyProtocol bool   `toml:"proxy_protocol" comment:"Expect a PROXY v1/v2 header from a load balancer on every connection"`
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

// coreDefaults is the embedded default of the core sections; each
// protocol registers its own.
//
//go:embed defaults/core.toml
var coreDefaults string

// coreKeys are the top-level keys of the core sections, which no
// protocol may take.
var coreKeys = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range reflect.VisibleFields(reflect.TypeFor[Config]()) {
		if k := tomlKey(f); k != "" {
			m[k] = true
		}
	}
	return m
}()

// DefaultTOML returns the embedded default configuration text: the core
// sections, then each protocol's in rank order.
func DefaultTOML() []byte {
	var buf bytes.Buffer
	buf.WriteString(coreDefaults)
	for _, p := range protocols {
		buf.WriteString("\n")
		buf.WriteString(p.defaults)
	}
	return buf.Bytes()
}

// newConfig returns a Config with a zero section for every protocol.
func newConfig() *Config {
	c := &Config{sections: make(map[string]any, len(protocols))}
	for _, p := range protocols {
		c.sections[p.name] = reflect.New(p.typ).Interface()
	}
	return c
}

// DefaultConfig returns the embedded default configuration.
func DefaultConfig() *Config {
	c := newConfig()
	// Each part is decoded on its own, so a protocol's defaults can set
	// nothing but its own section.
	if err := decodeStrict([]byte(coreDefaults), "(embedded default)", c.view(true)); err != nil {
		panic(err) // a broken embedded default is a build defect
	}
	for _, p := range protocols {
		if err := decodeStrict([]byte(p.defaults), "(embedded default of "+p.name+")", c.view(false, p.name)); err != nil {
			panic(err)
		}
	}
	return c
}

// LoadConfig reads the embedded default and, if path is not empty, the
// file at path on top of it, and checks the result: every error a
// config can have is found here, before anything binds.
func LoadConfig(path string) (*Config, error) {
	c := DefaultConfig()
	if path == "" {
		if err := c.validate(); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		return c, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := decodeStrict(b, path, c.view(true, c.sectionNames()...)); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

func (c *Config) sectionNames() []string {
	names := make([]string, len(protocols))
	for i, p := range protocols {
		names[i] = p.name
	}
	return names
}

// view returns a pointer to a struct, made for the occasion, whose
// fields point into c: the core fields if core, and the named protocol
// sections in rank order. Decoding into it fills c in place; encoding
// it prints c. It is how the Config's shape is derived from what is
// registered.
func (c *Config) view(core bool, sections ...string) any {
	var fields []reflect.StructField
	var ptrs []reflect.Value
	if core {
		cv := reflect.ValueOf(c).Elem()
		for _, f := range reflect.VisibleFields(cv.Type()) {
			if tomlKey(f) == "" {
				continue
			}
			fields = append(fields, reflect.StructField{Name: f.Name, Type: reflect.PointerTo(f.Type), Tag: f.Tag})
			ptrs = append(ptrs, cv.FieldByIndex(f.Index).Addr())
		}
	}
	for _, p := range protocols {
		if !slices.Contains(sections, p.name) {
			continue
		}
		tag := `toml:` + strconv.Quote(p.name)
		if p.comment != "" {
			tag += ` comment:` + strconv.Quote(p.comment)
		}
		fields = append(fields, reflect.StructField{Name: fmt.Sprintf("Section%d", len(fields)),
			Type: reflect.PointerTo(p.typ), Tag: reflect.StructTag(tag)})
		ptrs = append(ptrs, reflect.ValueOf(c.sections[p.name]))
	}
	v := reflect.New(reflect.StructOf(fields))
	for i, p := range ptrs {
		v.Elem().Field(i).Set(p)
	}
	return v.Interface()
}

// tomlKey returns the TOML key of an exported struct field, "" for
// fields the config does not have.
func tomlKey(f reflect.StructField) string {
	if !f.IsExported() || f.Anonymous {
		return ""
	}
	k, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if k == "-" {
		return ""
	}
	return k
}

// decodeStrict decodes TOML into v, refusing unknown keys, and reports
// the file, line and key of the first problem in one message.
func decodeStrict(b []byte, name string, v any) error {
	dec := toml.NewDecoder(bytes.NewReader(b)).DisallowUnknownFields()
	err := dec.Decode(v)
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
	if err := enc.Encode(c.view(true, c.sectionNames()...)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
