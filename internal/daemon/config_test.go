package daemon

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/plumbnet/plumb/ftp"
	"github.com/plumbnet/plumb/pop3"
	"github.com/plumbnet/plumb/simple"
	"github.com/plumbnet/plumb/smtp"
)

// TestLoadConfigFindsEveryError: what would fail at start, or worse
// start wrong, is refused by LoadConfig, with the key that is wrong.
func TestLoadConfigFindsEveryError(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("not a certificate"), 0o600)
	for _, tc := range []struct{ text, want string }{
		{"[echo]\naddr = \"nowhere\"\n", `echo.addr "nowhere": want host:port`},
		{"[echo]\naddr = \":70000\"\n", `echo.addr ":70000": port "70000"`},
		{"[smtp.submission]\naddr = \"127.0.0.1:x\"\n", `smtp.submission.addr "127.0.0.1:x"`},
		{"[ftp.ftps]\naddr = \"nowhere\"\n", `ftp.ftps.addr "nowhere"`},
		{"[pop3.pop3s]\naddr = \":10110\"\n", `pop3.pop3s.addr ":10110": pop3 already listens on 127.0.0.1:10110`},
		{"[admin]\naddr = \"admin\"\n", `admin.addr "admin"`},
		{"[tls]\ncert = \"" + junk + "\"\n", "tls.cert"},
		{"[tls]\nkey = \"" + junk + "\"\n", "tls.key"},
		{"[tls]\ncert = \"" + junk + "\"\nkey = \"" + junk + "\"\n", "tls.cert"},
		{"[limits]\nidle_timeout = \"-1s\"\n", `limits.idle_timeout "-1s": a duration cannot be negative`},
		{"[limits]\nshutdown_grace = \"soon\"\n", "shutdown_grace"},
		{"[smtp.outbound]\nretry = [\"1m\", \"-5m\"]\n", "smtp.outbound.retry[1]"},
		{"[smtp.outbound]\nretry = [\"0s\"]\n", "smtp.outbound.retry[0]"},
		{"[smtp.outbound]\nexpire = \"0s\"\n", "smtp.outbound.expire"},
		{"[smtp.outbound]\nsmarthost_tls = \"maybe\"\n", "smtp.outbound.smarthost_tls"},
		{"[smtp.outbound]\nsmarthost = \"relay.example\"\n", "smtp.outbound.smarthost"},
		{"[smtp]\nmax_recipients = -1\n", "smtp.max_recipients"},
		{"[ftp]\nrequire_tls = \"sometimes\"\n", "ftp.require_tls"},
		{"[ftp]\npassive_ports = \"5-10\"\n", "ftp.passive_ports"},
		{"[ftp]\npassive_address = \"::1\"\n", "ftp.passive_address"},
		{"[ftp]\ndata_timeout = \"0s\"\n", "ftp.data_timeout"},
		{"[log]\nlevel = \"chatty\"\n", "log.level"},
		{"[limits]\ntrusted_proxies = [\"10.0.0.1\"]\n", "limits.trusted_proxies"},
		{"[echo]\nport = 7\n", `plumb.toml:2: unknown key "echo.port"`},
	} {
		p := writeConfig(t, tc.text)
		_, err := LoadConfig(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadConfig(%q) = %v, want an error containing %q", tc.text, err, tc.want)
		}
	}
	if _, err := LoadConfig(""); err != nil {
		t.Errorf("LoadConfig(\"\") = %v, want the embedded default to be valid", err)
	}
}

// TestStartChecksConfigBeforeBinding: a config built in code gets the
// same checks, before any socket is bound.
func TestStartChecksConfigBeforeBinding(t *testing.T) {
	c := testConfig(t)
	e := simpleOf(c, "echo")
	e.Enabled, e.Addr = true, "127.0.0.1:0"
	ftpSection.of(c).RequireTLS = "sometimes"
	d := New(c, slog.New(slog.DiscardHandler), io.Discard)
	err := d.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "ftp.require_tls") {
		d.Close()
		t.Fatalf("Start() with a bad ftp.require_tls = %v, want an error naming it", err)
	}
	if len(d.Bound()) != 0 {
		t.Errorf("Bound() after a refused config = %v, want nothing bound", d.Bound())
	}
}

// allOnFreePorts is testConfig with every protocol's listeners on.
func allOnFreePorts(t *testing.T) *Config {
	c := testConfig(t)
	for name, l := range c.listeners() {
		if !strings.HasPrefix(name, "fake") {
			l.Enabled, l.Addr = true, "127.0.0.1:0"
		}
	}
	return c
}

// TestIdleTimeoutZeroMeansNoneEverywhere: idle_timeout = 0 gives every
// protocol server a negative idle timeout (none, by the packages' rule;
// their zero is their default), and a set one reaches them all.
func TestIdleTimeoutZeroMeansNoneEverywhere(t *testing.T) {
	for _, tc := range []struct {
		config, want time.Duration
	}{{0, -1}, {3 * time.Minute, 3 * time.Minute}} {
		c := allOnFreePorts(t)
		c.Limits.IdleTimeout.Duration = tc.config
		d := New(c, slog.New(slog.DiscardHandler), io.Discard)
		if err := d.Start(context.Background()); err != nil {
			t.Fatalf("Start() = %v", err)
		}
		seen := map[string]bool{}
		for _, r := range d.running {
			var got time.Duration
			switch s := r.Service.Stream.(type) {
			case *simple.Server:
				got = s.IdleTimeout
			case *ftp.Server:
				got = s.IdleTimeout
			case *smtp.Server:
				got = s.IdleTimeout
			case *pop3.Server:
				got = s.IdleTimeout
			default:
				continue
			}
			seen[r.Name] = true
			if (tc.want < 0 && got >= 0) || (tc.want > 0 && got != tc.want) {
				t.Errorf("idle_timeout %v: %s server IdleTimeout = %v, want %v", tc.config, r.Name, got, tc.want)
			}
		}
		d.Close()
		for _, name := range []string{"echo", "time", "ftp", "ftps", "smtp", "submission", "submissions", "pop3", "pop3s"} {
			if !seen[name] {
				t.Errorf("idle_timeout %v: server %s not checked (checked %v)", tc.config, name, seen)
			}
		}
	}
}

// TestFailedStartLeavesNoGoroutine: the SMTP queue is a component,
// started only once everything is bound, so a bind that fails after
// SMTP's services were built (a later service's, the admin listener's)
// leaves no queue goroutine behind.
func TestFailedStartLeavesNoGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		name string
		edit func(*Config, *Daemon)
	}{
		{"admin", func(c *Config, d *Daemon) { c.Admin.Enabled, c.Admin.Addr = true, busy.Addr().String() }},
		{"later service", func(c *Config, d *Daemon) {
			testServices.Store(d, []Service{{Name: "late", Net: "tcp", Addr: busy.Addr().String(), Stream: newLineServer()}})
		}},
	} {
		c := testConfig(t)
		s := smtpSection.of(c)
		s.Enabled, s.Addr = true, "127.0.0.1:0"
		d := New(c, slog.New(slog.DiscardHandler), io.Discard)
		tc.edit(c, d)
		err := d.Start(context.Background())
		testServices.Delete(d)
		if err == nil {
			d.Close()
			t.Fatalf("%s: Start() with a busy port = nil, want an error", tc.name)
		}
	}
}

// TestSelfSignedCertificateNamesListenAddresses: the certificate made
// on first start names the listen host and every configured one, so a
// client checking names can verify it at 127.0.0.9.
func TestSelfSignedCertificateNamesListenAddresses(t *testing.T) {
	c := testConfig(t)
	c.Listen = "127.0.0.9"
	e := simpleOf(c, "echo")
	e.Enabled, e.Addr = true, "127.0.0.11:0"
	d := startTest(t, c, Service{Name: "tls-line", Net: "tcp", Addr: "127.0.0.9:0", TLS: true, Stream: newLineServer()})
	defer d.Close()
	leaf := d.TLSConfig().Certificates[0].Leaf
	for _, name := range []string{"127.0.0.9", "127.0.0.11", "localhost", "127.0.0.1", "::1"} {
		if err := leaf.VerifyHostname(name); err != nil {
			t.Errorf("certificate VerifyHostname(%q) = %v, want nil", name, err)
		}
	}
	roots := x509Pool(leaf)
	conn, err := tls.Dial("tcp", addrOf(t, d, "tls-line"), &tls.Config{RootCAs: roots, ServerName: "127.0.0.9"})
	if err != nil {
		t.Fatalf("tls.Dial(127.0.0.9) trusting the self-signed certificate = %v", err)
	}
	conn.Close()
}
