package daemon

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/plumbnet/plumb/gopher"
)

// gopherDaemon starts the daemon with gopher and gophers on free ports,
// a file in the anonymous area, and alice with a public_gopher
// directory (bob has none).
func gopherDaemon(t *testing.T) (d *Daemon, plain, implicit string) {
	t.Helper()
	c := testConfig(t)
	g := gopherSection.of(c)
	g.Enabled, g.Addr = true, "127.0.0.1:0"
	g.TLS.Enabled, g.TLS.Addr = true, "127.0.0.1:0"
	files := filepath.Join(c.Data, "files")
	for name, body := range map[string]string{
		"anonymous/hello.txt":                  "hello\n",
		"anonymous/pub/gophermap":              "!Pub\nWelcome.\n~\n*\n",
		"anonymous/pub/logo.gif":               "GIF89a\r\n.\r\n",
		"home/alice/public_gopher/plan.txt":    "alice's plan\n",
		"home/alice/private.txt":               "not served\n",
		"home/bob/private.txt":                 "not served\n",
		"anonymous/.hidden":                    "no",
		"home/alice/public_gopher/sub/deep.md": "deep\n",
	} {
		p := filepath.Join(files, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d = startTest(t, c)
	for _, u := range []string{"alice", "bob", "carol"} { // carol has no home yet
		if err := d.Accounts().Add(u, u+"-password"); err != nil {
			t.Fatal(err)
		}
	}
	return d, addrOf(t, d, "gopher"), addrOf(t, d, "gophers")
}

func TestGopherAdapter(t *testing.T) {
	d, plain, implicit := gopherDaemon(t)
	ctx := context.Background()
	c := &gopher.Client{TLSConfig: &tls.Config{InsecureSkipVerify: true}}
	for _, u := range []gopher.URL{
		{Host: plain}, {Host: plain, TLS: true}, {Host: implicit, TLS: true},
	} {
		host, p, _ := net.SplitHostPort(u.Host)
		port, _ := strconv.Atoi(p)
		u.Type, u.Selector = gopher.TypeMenu, "/"
		items, err := c.Menu(ctx, u)
		if err != nil {
			t.Fatalf("%v: Menu(/) = %v", u, err)
		}
		var got []string
		for _, it := range items {
			if it.Host != host || it.Port != port {
				t.Errorf("%v: item %+v names another server than %s", u, it, u.Host)
			}
			got = append(got, string(it.Type)+it.Selector)
		}
		if want := "7/ 1/pub/ 0/hello.txt"; strings.Join(got, " ") != want {
			t.Errorf("%v: root menu = %q, want %q", u, strings.Join(got, " "), want)
		}
		var text bytes.Buffer
		if _, err := c.Text(ctx, gopher.URL{TLS: u.TLS, Host: u.Host, Type: '0', Selector: "/~alice/plan.txt"}, &text); err != nil || text.String() != "alice's plan\n" {
			t.Errorf("%v: /~alice/plan.txt = %q, %v", u, text.String(), err)
		}
	}
	u := gopher.URL{Host: plain, Type: '1', Selector: "/pub/"}
	items, err := c.Menu(ctx, u)
	var got []string
	for _, it := range items {
		got = append(got, string(it.Type)+it.Display)
	}
	if want := "iPub iWelcome. 1~alice glogo.gif"; err != nil || strings.Join(got, " ") != want {
		t.Errorf("/pub/ = %q, %v; want %q (bob has no public_gopher)", strings.Join(got, " "), err, want)
	}
	var bin bytes.Buffer
	if _, err := c.Binary(ctx, gopher.URL{Host: plain, Type: 'g', Selector: "/pub/logo.gif"}, &bin); err != nil || bin.String() != "GIF89a\r\n.\r\n" {
		t.Errorf("/pub/logo.gif = %q, %v", bin.String(), err)
	}
	var e *gopher.Error
	for _, sel := range []string{"/~bob/", "/~carol/", "/~nobody/", "/~alice/../private.txt", "/.hidden", "/~alice/private.txt"} {
		if _, err := c.Menu(ctx, gopher.URL{Host: plain, Type: '1', Selector: sel}); !errors.As(err, &e) {
			t.Errorf("Menu(%q) = %v, want a type-3 error", sel, err)
		}
	}
	s := gopher.URL{Host: plain, Type: '7', Selector: "/~alice/", Search: "deep"}
	if items, err := c.Menu(ctx, s); err != nil || len(items) != 1 || items[0].Selector != "/~alice/sub/deep.md" {
		t.Errorf("search deep in ~alice = %+v, %v", items, err)
	}
	if _, err := os.Stat(filepath.Join(d.DataDir(), "files", "home", "carol")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("asking for /~carol/ made her home (stat: %v), want it left alone", err)
	}
}

func TestGopherConfigChecks(t *testing.T) {
	for _, tc := range []struct{ config, want string }{
		{"[gopher]\npublic_port = 70000\n", "gopher.public_port"},
		{"[gopher]\nuser_dir = \"../x\"\n", "gopher.user_dir"},
		{"[gopher]\nuser_dir = \"/etc\"\n", "gopher.user_dir"},
		{"[gopher]\npublic_host = \"a b\"\n", "gopher.public_host"},
		{"[gopher.tls]\naddr = \":10070\"\n", "gopher already listens"},
	} {
		f := filepath.Join(t.TempDir(), "plumb.toml")
		os.WriteFile(f, []byte(tc.config), 0o600)
		if _, err := LoadConfig(f); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadConfig(%q) = %v, want an error naming %s", tc.config, err, tc.want)
		}
	}
}
