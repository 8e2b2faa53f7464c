package daemon

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"reflect"
	"strconv"
	"time"
)

// A checker is a section that checks its own values beyond their
// types; LoadConfig calls it with the whole config, after the checks
// every section gets (listener addresses, durations).
type checker interface {
	check(c *Config) error
}

// validate finds every error the config can have without binding: it
// runs in LoadConfig and again in Start, for configs built in code.
func (c *Config) validate() error {
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("log.format %q: want text or json", c.Log.Format)
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(c.Log.Level)); err != nil {
		return fmt.Errorf("log.level %q: want debug, info, warn or error", c.Log.Level)
	}
	for _, p := range c.Limits.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			return fmt.Errorf("limits.trusted_proxies: %q is not a CIDR network like \"10.0.0.0/8\"", p)
		}
	}
	if err := c.checkTLS(); err != nil {
		return err
	}
	for _, d := range c.durations() {
		if d.value < 0 {
			return fmt.Errorf("%s %q: a duration cannot be negative (0 is the smallest; see docs/CONFIG.md for what 0 means)", d.key, d.value)
		}
	}
	bound := map[string]string{} // resolved address -> the listener that has it
	if c.Admin.Enabled {
		if err := checkAddr("admin.addr", c.Admin.Addr); err != nil {
			return err
		}
		bound[c.resolve(c.Admin.Addr)] = "admin"
		if err := c.Admin.check(); err != nil {
			return err
		}
	}
	for _, l := range c.listenerList() {
		if !l.Enabled {
			continue
		}
		if err := checkAddr(l.key+".addr", l.Addr); err != nil {
			return err
		}
		addr := c.resolve(l.Addr)
		if _, port, _ := net.SplitHostPort(addr); port == "0" {
			continue // a free port each: no clash
		}
		if other, ok := bound[addr]; ok {
			return fmt.Errorf("%s.addr %q: %s already listens on %s", l.key, l.Addr, other, addr)
		}
		bound[addr] = l.key
	}
	for _, p := range protocols {
		if ck, ok := c.sections[p.name].(checker); ok {
			if err := ck.check(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkAddr checks a host:port or :port address.
func checkAddr(key, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s %q: want host:port or :port", key, addr)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n > 65535 {
		return fmt.Errorf("%s %q: port %q is not a number from 0 to 65535", key, addr, port)
	}
	return nil
}

// checkTLS loads the configured certificate, so that a TLS listener or
// STARTTLS never starts without one.
func (c *Config) checkTLS() error {
	switch {
	case c.TLS.Cert == "" && c.TLS.Key == "":
		return nil // the self-signed one
	case c.TLS.Cert == "":
		return fmt.Errorf("tls.key %q without tls.cert: give both, or neither for a self-signed certificate", c.TLS.Key)
	case c.TLS.Key == "":
		return fmt.Errorf("tls.cert %q without tls.key: give both, or neither for a self-signed certificate", c.TLS.Cert)
	}
	if _, err := tls.LoadX509KeyPair(c.TLS.Cert, c.TLS.Key); err != nil {
		return fmt.Errorf("tls.cert %q and tls.key %q: %w", c.TLS.Cert, c.TLS.Key, err)
	}
	return nil
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

// namedListener is a listener with its config key: "ftp", "ftp.ftps".
type namedListener struct {
	key string
	*Listener
}

var (
	listenerType = reflect.TypeFor[Listener]()
	durationType = reflect.TypeFor[Duration]()
)

// listenerList returns every protocol's listeners, in rank order.
func (c *Config) listenerList() []namedListener {
	var out []namedListener
	for _, p := range protocols {
		walk(reflect.ValueOf(c.sections[p.name]).Elem(), p.name, func(key string, v reflect.Value) bool {
			if v.Type() != listenerType {
				return true
			}
			out = append(out, namedListener{key, v.Addr().Interface().(*Listener)})
			return false
		})
	}
	return out
}

// listeners returns every protocol's listeners by key.
func (c *Config) listeners() map[string]*Listener {
	m := map[string]*Listener{}
	for _, l := range c.listenerList() {
		m[l.key] = l.Listener
	}
	return m
}

type namedDuration struct {
	key   string
	value time.Duration
}

// durations returns every Duration of the config, core and sections,
// with its key ("smtp.outbound.retry[2]").
func (c *Config) durations() []namedDuration {
	var out []namedDuration
	visit := func(key string, v reflect.Value) bool {
		if v.Type() == durationType {
			out = append(out, namedDuration{key, v.Interface().(Duration).Duration})
			return false
		}
		return true
	}
	walk(reflect.ValueOf(c).Elem(), "", visit)
	for _, p := range protocols {
		walk(reflect.ValueOf(c.sections[p.name]).Elem(), p.name, visit)
	}
	return out
}

// walk calls visit for v's exported fields, their fields and the
// elements of their slices, depth first, with each one's dotted key. An
// embedded struct's fields have the key of the struct that embeds it,
// and the embedded struct itself is visited with that key too. visit
// returns false to not descend into a value.
func walk(v reflect.Value, key string, visit func(key string, v reflect.Value) bool) {
	if !visit(key, v) {
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			switch {
			case f.Anonymous:
				walk(v.Field(i), key, visit)
			case tomlKey(f) != "":
				k := tomlKey(f)
				if key != "" {
					k = key + "." + k
				}
				walk(v.Field(i), k, visit)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walk(v.Index(i), fmt.Sprintf("%s[%d]", key, i), visit)
		}
	}
}
