package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/gopher"
	"github.com/plumbnet/plumb/internal/testkit"
)

// needGophernicus returns the gophernicus binary, which Debian puts in
// /usr/sbin (not always on PATH).
func needGophernicus(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("gophernicus"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/gophernicus"); err == nil {
		return "/usr/sbin/gophernicus"
	}
	return need(t, "gophernicus")
}

// startGophernicus serves root with gophernicus the way inetd would:
// socat accepts on a loopback port and runs one gophernicus per
// connection. It returns the address; both stop with the test.
func startGophernicus(t testing.TB, root string) string {
	t.Helper()
	return startGophernicusTLS(t, root, "")
}

// startGophernicusTLS is startGophernicus behind TLS when certDir is
// not empty: socat terminates TLS with the test certificate, as
// gophernicus's documentation has stunnel do, and gophernicus is told
// (-T) that the port is TLS, so its menus say so.
func startGophernicusTLS(t testing.TB, root, certDir string) string {
	t.Helper()
	gph := needGophernicus(t)
	// -nr: run as root in a test container; -ns: no syslog; -nv: no
	// virtual hosts (the root is the tree). The port is socat's.
	child := fmt.Sprintf("SYSTEM:exec %s -h 127.0.0.1 -p $SOCAT_SOCKPORT -r %s -nr -ns -nv", gph, root)
	if certDir == "" {
		return startInetd(t, "TCP-LISTEN", "", child)
	}
	certFile, keyFile := testkit.TLSFiles(t, certDir)
	return startInetd(t, "OPENSSL-LISTEN", fmt.Sprintf(",cert=%s,key=%s,verify=0", certFile, keyFile), child+" -T $SOCAT_SOCKPORT")
}

// gophernicusTree writes the tree the client tests read.
func gophernicusTree(t *testing.T) (root string, gif []byte) {
	t.Helper()
	root = t.TempDir()
	gif = make([]byte, 100<<10)
	rand.Read(gif)
	copy(gif, "GIF89a\r\n.\r\n")
	for name, body := range map[string]string{
		"a.txt":         "alpha\nbeta\n.\ngamma\n",
		"pic.gif":       string(gif),
		"sub/gophermap": "!Sub\nA map.\n0Alpha\t/a.txt\n1Home\t/\n",
		"sub/z.txt":     "z\n",
	} {
		p := filepath.Join(root, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root, gif
}

func TestGopherClientAgainstGophernicus(t *testing.T) {
	root, gif := gophernicusTree(t)
	addr := startGophernicus(t, root)
	ctx := context.Background()
	var c gopher.Client
	items, err := c.Menu(ctx, gopher.URL{Host: addr, Type: '1', Selector: "/"})
	if err != nil {
		t.Fatalf("Menu(/) = %v", err)
	}
	found := map[string]gopher.Item{}
	for _, it := range items {
		found[string(it.Type)+it.Selector] = it
	}
	for _, k := range []string{"0/a.txt", "g/pic.gif", "1/sub/"} {
		it, ok := found[k]
		if !ok {
			t.Errorf("gophernicus's root menu lacks %s: %+v", k, items)
			continue
		}
		if net.JoinHostPort(it.Host, strconv.Itoa(it.Port)) != addr {
			t.Errorf("item %+v does not name %s", it, addr)
		}
	}
	var text bytes.Buffer
	if _, err := c.Text(ctx, found["0/a.txt"].URL(false), &text); err != nil || text.String() != "alpha\nbeta\n.\ngamma\n" {
		t.Errorf("Text(/a.txt) = %q, %v; want the file", text.String(), err)
	}
	var bin bytes.Buffer
	if _, err := c.Binary(ctx, found["g/pic.gif"].URL(false), &bin); err != nil || !bytes.Equal(bin.Bytes(), gif) {
		t.Errorf("Binary(/pic.gif) = %d bytes, %v; want the %d bytes of the file", bin.Len(), err, len(gif))
	}
	sub, err := c.Menu(ctx, found["1/sub/"].URL(false))
	var got []string
	for _, it := range sub {
		if it.Type != gopher.TypeInfo || !strings.Contains(it.Display, "Gophernicus") && !strings.HasPrefix(it.Display, "___") {
			got = append(got, string(it.Type)+it.Display+" "+it.Selector)
		}
	}
	if want := "iSub TITLE|iA map. |0Alpha /a.txt|1Home /"; err != nil || strings.Join(got, "|") != want {
		t.Errorf("Menu(/sub/) = %q, %v; want %q", strings.Join(got, "|"), err, want)
	}
	var bad *gopher.Error
	if _, err := c.Menu(ctx, gopher.URL{Host: addr, Type: '1', Selector: "/x\r\n/y"}); !errors.Is(err, gopher.ErrBadArgument) || errors.As(err, &bad) {
		t.Errorf("Menu with CRLF in the selector = %v, want ErrBadArgument", err)
	}
}

func TestGopherGetAgainstGophernicus(t *testing.T) {
	root, gif := gophernicusTree(t)
	addr := startGophernicus(t, root)
	dir := t.TempDir()
	for _, tc := range []struct {
		url, file, want string
	}{
		{"gopher://" + addr + "/0/a.txt", "a.txt", "alpha\nbeta\n.\ngamma\n"},
		{"gopher://" + addr + "/g/pic.gif", "pic.gif", string(gif)},
	} {
		out := filepath.Join(dir, tc.file)
		run(t, 30*time.Second, plumbBin, "get", "-s", "-o", out, tc.url)
		b, err := os.ReadFile(out)
		if err != nil || string(b) != tc.want {
			t.Errorf("plumb get %s = %d bytes, %v; want the %d bytes of the file", tc.url, len(b), err, len(tc.want))
		}
	}
	menu := run(t, 30*time.Second, plumbBin, "get", "-s", "-o", "-", "gopher://"+addr+"/1/sub/")
	if want := "0Alpha\t/a.txt\t127.0.0.1\t"; !strings.Contains(menu, want) {
		t.Errorf("plumb get of a menu = %q, want a line starting %q", menu, want)
	}
}

// TestGopherBrowserAgainstGophernicus drives plumb gopher through a
// pipe: open a text, follow a menu link, go back, save a link.
func TestGopherBrowserAgainstGophernicus(t *testing.T) {
	root, _ := gophernicusTree(t)
	addr := startGophernicus(t, root)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, plumbBin, "gopher", "gopher://"+addr+"/1/sub/")
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader("1\n2\nb\ns 1 saved.txt\nu 2\n99\nq\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("plumb gopher: %v\n%s", err, out)
	}
	s := string(out)
	for _, want := range []string{
		"   1 text  Alpha", "   2 menu  Home", // the menu, links numbered
		"alpha\nbeta\n.\ngamma\n", // link 1 shown
		"pic.gif",                 // link 2 opened gophernicus's root
		"saved saved.txt (19 bytes)",
		"gopher://" + addr + "/1/",
		"no link \"99\"",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("plumb gopher output lacks %q:\n%s", want, s)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "saved.txt")); err != nil || string(b) != "alpha\nbeta\n.\ngamma\n" {
		t.Errorf("saved.txt = %q, %v", b, err)
	}
}

// TestGopherTLSClientAgainstGophernicus: gophers:// to gophernicus
// behind TLS, the server's certificate verified.
func TestGopherTLSClientAgainstGophernicus(t *testing.T) {
	root, gif := gophernicusTree(t)
	addr := startGophernicusTLS(t, root, t.TempDir())
	_, client := testkit.TLS(t)
	c := gopher.Client{TLSConfig: client}
	ctx := context.Background()
	items, err := c.Menu(ctx, gopher.URL{TLS: true, Host: addr, Type: '1', Selector: "/"})
	if err != nil {
		t.Fatalf("Menu(gophers:///) = %v", err)
	}
	var bin bytes.Buffer
	for _, it := range items {
		if it.Selector == "/pic.gif" {
			if _, err := c.Binary(ctx, it.URL(true), &bin); err != nil || !bytes.Equal(bin.Bytes(), gif) {
				t.Errorf("Binary(gophers://…/pic.gif) = %d bytes, %v; want the %d bytes of the file", bin.Len(), err, len(gif))
			}
		}
	}
	if bin.Len() == 0 {
		t.Errorf("no /pic.gif in the menu over TLS: %+v", items)
	}
	var text bytes.Buffer
	if _, err := c.Text(ctx, gopher.URL{TLS: true, Host: addr, Type: '0', Selector: "/a.txt"}, &text); err != nil || text.String() != "alpha\nbeta\n.\ngamma\n" {
		t.Errorf("Text(gophers://…/a.txt) = %q, %v", text.String(), err)
	}
}
