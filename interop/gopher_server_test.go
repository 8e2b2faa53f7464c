package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// gopherServed is plumb serve with a gopher tree: the anonymous area
// has text, a binary image, a gophermap'd directory; alice has a
// public_gopher. It returns the daemon, the plain and TLS addresses
// and the image's bytes.
func gopherServed(t *testing.T) (s *Serve, plain, implicit string, img []byte) {
	t.Helper()
	s = startServe(t, "")
	if _, errs, code := plumbUser(t, s.Data, "alice-password\n", "add", "alice"); code != 0 {
		t.Fatalf("plumb user add alice: exit %d: %s", code, errs)
	}
	img = make([]byte, 200<<10)
	rand.Read(img)
	copy(img, "\x89PNG\r\n\n.\r\n") // what a text conversion would change
	files := filepath.Join(s.Data, "files")
	for name, body := range map[string]string{
		"anonymous/README":                 "Welcome to the plumb gopher hole.\n.a line with a dot\n",
		"anonymous/notes.txt":              "line one\nline two\n",
		"anonymous/img.png":                string(img),
		"anonymous/about/gophermap":        "!About\nThis is plumb.\n0The notes\t/notes.txt\n1Elsewhere\t/\texample.org\t70\n-secret.txt\n*\n",
		"anonymous/about/team.txt":         "the team\n",
		"anonymous/about/secret.txt":       "not listed\n",
		"home/alice/public_gopher/plan.md": "alice plans\n",
	} {
		p := filepath.Join(files, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return s, s.Addr(t, "gopher"), s.Addr(t, "gophers"), img
}

// menuLine is one line of a menu of the server at addr.
func menuLine(addr string, typ byte, display, selector string) string {
	host, port, _ := net.SplitHostPort(addr)
	return fmt.Sprintf("%c%s\t%s\t%s\t%s\r\n", typ, display, selector, host, port)
}

func TestGopherCurl(t *testing.T) {
	curl := need(t, "curl")
	_, plain, implicit, img := gopherServed(t)
	root := func(addr string) string {
		return menuLine(addr, '7', "Search file names", "/") +
			menuLine(addr, '1', "about", "/about/") +
			menuLine(addr, '0', "README", "/README") +
			menuLine(addr, 'I', "img.png", "/img.png") +
			menuLine(addr, '0', "notes.txt", "/notes.txt") + ".\r\n"
	}
	get := func(args ...string) string {
		return run(t, 20*time.Second, curl, append([]string{"-sS", "--max-time", "15"}, args...)...)
	}
	for _, tc := range []struct{ name, url, want string }{
		{"root menu", "gopher://" + plain + "/", root(plain)},
		{"root menu, type 1", "gopher://" + plain + "/1/", root(plain)},
		{"text", "gopher://" + plain + "/0/notes.txt", "line one\nline two\n"},
		{"text with a dot line", "gopher://" + plain + "/0/README", "Welcome to the plumb gopher hole.\n.a line with a dot\n"},
		{"binary", "gopher://" + plain + "/I/img.png", string(img)},
		{"gophermap", "gopher://" + plain + "/1/about/", "iAbout\tTITLE\tnull.host\t1\r\n" +
			"iThis is plumb.\t\tnull.host\t1\r\n" + menuLine(plain, '0', "The notes", "/notes.txt") +
			"1Elsewhere\t/\texample.org\t70\r\n" + menuLine(plain, '0', "team.txt", "/about/team.txt") + ".\r\n"},
		{"user tree", "gopher://" + plain + "/1/~alice/", menuLine(plain, '7', "Search file names", "/~alice/") +
			menuLine(plain, '0', "plan.md", "/~alice/plan.md") + ".\r\n"},
		{"search", "gopher://" + plain + "/7/%09team", menuLine(plain, '0', "about/team.txt", "/about/team.txt") + ".\r\n"},
		{"not found", "gopher://" + plain + "/0/nope.txt", "3Not found\t\terror.host\t1\r\n.\r\n"},
		// gophers:// on the plain port (TLS found by its first byte) and on the TLS port.
		{"TLS on the plain port", "gophers://" + plain + "/", root(plain)},
		{"TLS on the plain port, binary", "gophers://" + plain + "/I/img.png", string(img)},
		{"implicit TLS", "gophers://" + implicit + "/", root(implicit)},
		{"implicit TLS, text", "gophers://" + implicit + "/0/notes.txt", "line one\nline two\n"},
		{"implicit TLS, binary", "gophers://" + implicit + "/I/img.png", string(img)},
	} {
		args := []string{tc.url}
		if strings.HasPrefix(tc.url, "gophers") {
			args = append([]string{"-k"}, args...)
		}
		if got := get(args...); got != tc.want {
			if len(got) > 2000 {
				got = got[:2000] + "..."
			}
			t.Errorf("%s: curl %s =\n%q\nwant\n%q", tc.name, tc.url, got, tc.want[:min(len(tc.want), 2000)])
		}
	}
	// Curl sends the path with a ".." as it is: the server refuses it
	// (curl collapses "/../" itself unless told not to).
	if got, want := get("--path-as-is", "gopher://"+plain+"/0/../x"), "3Selector leaves the tree or names a hidden file\t\terror.host\t1\r\n.\r\n"; got != want {
		t.Errorf("curl --path-as-is /0/../x = %q, want %q", got, want)
	}
}

func TestGopherLynx(t *testing.T) {
	lynx := need(t, "lynx")
	_, plain, _, _ := gopherServed(t)
	dump := func(url string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, lynx, "-dump", "-nolist", "-noreferer", "-cfg=/dev/null", "-display_charset=utf-8", url)
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "TERM=dumb")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("lynx -dump %s: %v\n%s%s", url, err, out.String(), errb.String())
		}
		return out.String()
	}
	for _, tc := range []struct {
		url  string
		want []string
		not  []string
	}{
		{"gopher://" + plain + "/", []string{"about", "README", "img.png", "notes.txt", "Search file names"}, nil},
		{"gopher://" + plain + "/1/about/", []string{"This is plumb.", "The notes", "Elsewhere", "team.txt"}, []string{"secret.txt"}},
		{"gopher://" + plain + "/0/notes.txt", []string{"line one", "line two"}, nil},
		{"gopher://" + plain + "/0/README", []string{"Welcome to the plumb gopher hole.", ".a line with a dot"}, []string{"..a line"}},
		{"gopher://" + plain + "/1/~alice/", []string{"plan.md"}, nil},
		{"gopher://" + plain + "/7/%09notes", []string{"notes.txt"}, nil},
	} {
		got := dump(tc.url)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("lynx -dump %s lacks %q:\n%s", tc.url, w, got)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(got, w) {
				t.Errorf("lynx -dump %s shows %q:\n%s", tc.url, w, got)
			}
		}
	}
}

// TestGopherGetOwnServer: plumb get over gopher:// and gophers:// (on
// both ports, verifying plumb serve's own certificate) against plumb serve.
func TestGopherGetOwnServer(t *testing.T) {
	s, plain, implicit, img := gopherServed(t)
	ca := filepath.Join(s.Data, "tls", "cert.pem")
	dir := t.TempDir()
	for _, tc := range []struct{ url, want string }{
		{"gopher://" + plain + "/I/img.png", string(img)},
		{"gophers://" + plain + "/I/img.png", string(img)},
		{"gophers://" + implicit + "/I/img.png", string(img)},
		{"gopher://" + plain + "/0/README", "Welcome to the plumb gopher hole.\n.a line with a dot\n"},
		{"gophers://" + implicit + "/1/~alice/", "7Search file names\t/~alice/\t127.0.0.1\t" + implicit[strings.LastIndex(implicit, ":")+1:] + "\n" +
			"0plan.md\t/~alice/plan.md\t127.0.0.1\t" + implicit[strings.LastIndex(implicit, ":")+1:] + "\n"},
	} {
		out := filepath.Join(dir, "out")
		run(t, 30*time.Second, plumbBin, "get", "-s", "--ca", ca, "-o", out, tc.url)
		if b, err := os.ReadFile(out); err != nil || string(b) != tc.want {
			t.Errorf("plumb get %s = %d bytes %q, %v; want %d bytes", tc.url, len(b), b[:min(len(b), 200)], err, len(tc.want))
		}
	}
}
