package daemon

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/plumbnet/plumb/simple"
)

func TestBuildSimple(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Data = t.TempDir()
	cfg.Listen = "127.0.0.9"
	simpleOf(cfg, "time").Enabled = false
	simpleOf(cfg, "chargen").UDP = false
	simpleOf(cfg, "echo").MaxConns = 7
	simpleOf(cfg, "echo").ProxyProtocol = true
	quotes := "From the data directory.\n%\nSecond one.\n"
	if err := os.WriteFile(filepath.Join(cfg.Data, QuotesFile), []byte(quotes), 0o644); err != nil {
		t.Fatal(err)
	}
	d := New(cfg, slog.New(slog.DiscardHandler), nil)
	var svcs []Service
	for _, s := range simpleServices {
		b, err := buildSimple(d, s.svc, simpleOf(cfg, s.svc.String()))
		if err != nil {
			t.Fatalf("buildSimple(%s) = %v", s.svc, err)
		}
		svcs = append(svcs, b...)
	}
	got := map[string]Service{}
	var names []string
	for _, s := range svcs {
		got[s.Name] = s
		names = append(names, s.Name)
	}
	want := []string{"echo", "echo/udp", "discard", "discard/udp", "daytime", "daytime/udp", "qotd", "qotd/udp", "chargen"}
	if len(names) != len(want) {
		t.Fatalf("buildSimple services = %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("buildSimple services = %v, want %v", names, want)
		}
	}
	echo, echoUDP := got["echo"], got["echo/udp"]
	if echo.Net != "tcp" || echo.Addr != "127.0.0.9:10007" || echo.Stream == nil || echo.Packet != nil ||
		echo.MaxConns != 7 || !echo.ProxyProtocol {
		t.Errorf("echo service = %+v, want tcp on 127.0.0.9:10007 with max_conns 7 and PROXY", echo)
	}
	if echoUDP.Net != "udp" || echoUDP.Addr != echo.Addr || echoUDP.Packet == nil || echoUDP.Stream != nil {
		t.Errorf("echo/udp service = %+v, want udp on echo's address", echoUDP)
	}
	if echoUDP.Packet == any(echo.Stream) {
		t.Errorf("echo and echo/udp share one server; closing one would stop the other")
	}
	q := got["qotd"].Stream.(*simple.Server)
	if len(q.Quotes) != 2 || q.Quotes[0] != "From the data directory." {
		t.Errorf("qotd quotes = %q, want the two of %s", q.Quotes, QuotesFile)
	}
	if s := echo.Stream.(*simple.Server); s.Service != simple.Echo || s.IdleTimeout != cfg.Limits.IdleTimeout.Duration {
		t.Errorf("echo server = %+v, want Echo with the configured idle timeout", s)
	}
}

// simpleOf returns the config section of the small service name.
func simpleOf(c *Config, name string) *SimpleConfig { return section[SimpleConfig](name).of(c) }
