package daemon

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// FakeConfig is the section of "fake", a protocol registered by this
// test file alone, to show that a protocol is added by adding files.
type FakeConfig struct {
	Listener
	Extra    Listener `toml:"extra" comment:"A second listener of the fake protocol"`
	Greeting string   `toml:"greeting" comment:"Line the fake server greets with"`
	Linger   Duration `toml:"linger"`
}

const fakeSection section[FakeConfig] = "fake"

// fakeComponents records the fake protocol's component events, in order.
var fakeComponents struct {
	sync.Mutex
	events []string
}

func fakeEvent(e string) {
	fakeComponents.Lock()
	fakeComponents.events = append(fakeComponents.events, e)
	fakeComponents.Unlock()
}

type fakeComponent struct{ name string }

func (c fakeComponent) Start(context.Context) error { fakeEvent("start " + c.name); return nil }
func (c fakeComponent) Stop(context.Context) error  { fakeEvent("stop " + c.name); return nil }

func init() {
	register(fakeSection, protocol{
		rank:     8, // between echo (7) and discard (9)
		comment:  "The fake protocol of the tests",
		defaults: "[fake]\nenabled = false\naddr = \":10008\"\ngreeting = \"hello\"\nlinger = \"1s\"\n\n[fake.extra]\nenabled = false\naddr = \":10088\"\n",
		build: func(d *Daemon) ([]Service, error) {
			cfg := fakeSection.of(d.Config())
			if !cfg.Enabled {
				return nil, nil
			}
			d.addComponent("fake index", fakeComponent{"index"})
			return []Service{{Name: "fake", Net: "tcp", Addr: d.Addr(cfg.Addr), Stream: &greeter{line: cfg.Greeting}}}, nil
		},
	})
}

// greeter writes one line to each connection and closes it.
type greeter struct {
	line string
	mu   sync.Mutex
	ln   net.Listener
}

func (g *greeter) Serve(ln net.Listener) error {
	g.mu.Lock()
	g.ln = ln
	g.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		fmt.Fprintf(c, "%s\r\n", g.line)
		c.Close()
	}
}

func (g *greeter) Shutdown(context.Context) error { return nil }
func (g *greeter) Close() error                   { return nil }

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "plumb.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRegisteredProtocolIsConfiguredListedAndServed: the fake protocol,
// registered above and nowhere else, has its defaults in the embedded
// config, its section read from a file (unknown keys refused), its
// listeners checked, its place in the listing between echo and
// discard, its component started and stopped, and it is served.
func TestRegisteredProtocolIsConfiguredListedAndServed(t *testing.T) {
	if !strings.Contains(string(DefaultTOML()), "[fake]\nenabled = false") {
		t.Errorf("DefaultTOML() lacks the fake protocol's defaults")
	}
	if got := fakeSection.of(DefaultConfig()).Greeting; got != "hello" {
		t.Errorf("DefaultConfig() fake greeting = %q, want %q", got, "hello")
	}
	if _, err := LoadConfig(writeConfig(t, "[fake]\ngreting = \"hi\"\n")); err == nil || !strings.Contains(err.Error(), `plumb.toml:2: unknown key "fake.greting"`) {
		t.Errorf("LoadConfig(fake.greting) = %v, want plumb.toml:2 naming the unknown key", err)
	}
	if _, err := LoadConfig(writeConfig(t, "[fake.extra]\nenabled = true\naddr = \"nowhere\"\n")); err == nil || !strings.Contains(err.Error(), `fake.extra.addr "nowhere"`) {
		t.Errorf("LoadConfig(bad fake.extra.addr) = %v, want an error naming fake.extra.addr", err)
	}
	if _, err := LoadConfig(writeConfig(t, "[fake]\nlinger = \"-1s\"\n")); err == nil || !strings.Contains(err.Error(), "fake.linger") {
		t.Errorf("LoadConfig(negative fake.linger) = %v, want an error naming fake.linger", err)
	}

	cfg, err := LoadConfig(writeConfig(t, `data = "`+filepath.ToSlash(t.TempDir())+`"
[admin]
enabled = false
[accounts]
first_user = ""
[fake]
enabled = true
addr = "127.0.0.1:0"
greeting = "hi there"
`))
	if err != nil {
		t.Fatalf("LoadConfig(fake enabled) = %v", err)
	}
	if l := cfg.listeners(); l["fake"] == nil || l["fake.extra"] == nil {
		t.Errorf("listeners() = %v, want fake and fake.extra", l)
	}
	printed, err := cfg.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# The fake protocol of the tests\n[fake]", "greeting = 'hi there'", "[fake.extra]", "# A second listener"} {
		if !strings.Contains(string(printed), want) {
			t.Errorf("Marshal() lacks %q:\n%s", want, printed)
		}
	}
	for name, l := range cfg.listeners() {
		if name != "fake" {
			l.Enabled = false
		}
	}
	for _, name := range []string{"echo", "discard"} {
		s := simpleOf(cfg, name)
		s.Enabled, s.Addr, s.UDP = true, "127.0.0.1:0", false
	}

	fakeComponents.Lock()
	fakeComponents.events = nil
	fakeComponents.Unlock()
	d := New(cfg, slog.New(slog.DiscardHandler), io.Discard)
	if err := d.Start(context.Background()); err != nil {
		t.Fatalf("Start() = %v", err)
	}
	var names []string
	for _, b := range d.Bound() {
		names = append(names, b.Name)
	}
	if got, want := strings.Join(names, " "), "echo fake discard"; got != want {
		t.Errorf("Bound() names = %q, want %q (by well-known port)", got, want)
	}
	c, err := net.DialTimeout("tcp", addrOf(t, d, "fake"), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if line, err := bufio.NewReader(c).ReadString('\n'); line != "hi there\r\n" {
		t.Errorf("fake server greeting = %q, %v; want %q", line, err, "hi there\r\n")
	}
	d.Close()
	fakeComponents.Lock()
	events := strings.Join(fakeComponents.events, ", ")
	fakeComponents.Unlock()
	if events != "start index, stop index" {
		t.Errorf("fake component events = %q, want %q", events, "start index, stop index")
	}
}

// failing is a component whose Start fails.
type failing struct{}

func (failing) Start(context.Context) error { return errors.New("no index today") }
func (failing) Stop(context.Context) error  { fakeEvent("stop failing"); return nil }

// TestComponentStartFailureStopsTheStartedOnes: when a component fails
// to start, the ones started before it are stopped, in reverse, and
// nothing is left listening.
func TestComponentStartFailureStopsTheStartedOnes(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	c := testConfig(t)
	d := New(c, slog.New(slog.DiscardHandler), io.Discard)
	d.addComponent("first", fakeComponent{"first"})
	d.addComponent("second", fakeComponent{"second"})
	d.addComponent("broken", failing{})
	fakeComponents.Lock()
	fakeComponents.events = nil
	fakeComponents.Unlock()
	testServices.Store(d, []Service{{Name: "line", Net: "tcp", Addr: "127.0.0.1:0", Stream: newLineServer()}})
	defer testServices.Delete(d)
	err := d.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "broken") || !strings.Contains(err.Error(), "no index today") {
		d.Close()
		t.Fatalf("Start() with a failing component = %v, want an error naming it", err)
	}
	fakeComponents.Lock()
	events := strings.Join(fakeComponents.events, ", ")
	fakeComponents.Unlock()
	if want := "start first, start second, stop second, stop first"; events != want {
		t.Errorf("component events = %q, want %q", events, want)
	}
	if len(d.Bound()) != 0 {
		t.Errorf("Bound() after a failed start = %v, want nothing", d.Bound())
	}
}
