package gopher

import (
	"context"
	"crypto/tls"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

var quietLog = slog.New(slog.DiscardHandler)

// gifBytes is a binary file with everything a text conversion would
// change: CRLF, bare LF, a lone dot line, NUL.
var gifBytes = "GIF89a\x00\x01\r\n.\r\n\n.\nend\x00\xff"

// testTree is the root tree of the tests' server.
func testTree() fstest.MapFS {
	f := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s), Mode: 0o644} }
	return fstest.MapFS{
		"README":                f("Read me.\n.a line with a dot\n.\nlast\n"),
		"a.txt":                 f("alpha\r\nbeta\n"),
		"pic.gif":               f(gifBytes),
		"img.png":               f("\x89PNG"),
		"page.html":             f("<p>hi</p>\n"),
		"song.mp3":              f("ID3"),
		"blob.bin":              f("\x00\x01"),
		".secret":               f("hidden"),
		"docs/guide.txt":        f("guide\n"),
		"docs/deep/Notes.txt":   f("notes\n"),
		"docs/deep/other.md":    f("other\n"),
		"mapped/gophermap":      f("!The Title\n# a comment\nWelcome.\n\n1Up\t/\n0Rel\tshown.txt\n0NoSel\t\n1Away\t/x\texample.org\t7070\nhWeb\tURL:https://example.org/\n-hidden.txt\n-inc.map\n:dat=0\n=inc.map\n=/mapped/inc.map\n*\nnot shown\n"),
		"mapped/inc.map":        f("Included.\n0From include\tshown.txt\n"),
		"mapped/shown.txt":      f("shown\n"),
		"mapped/hidden.txt":     f("hidden\n"),
		"mapped/table.dat":      f("a;b\n"),
		"mapped/sub/x.txt":      f("x\n"),
		"loop/gophermap":        f("=gophermap\nend\n"),
		"stop/gophermap":        f("one\n.\ntwo\n"),
		"users/gophermap":       f("Users:\n~\n"),
		"empty/.keep":           f(""),
		"inline/b.gophermap":    f("Between a and c.\n*\n"),
		"inline/a.txt":          f("a\n"),
		"inline/c.txt":          f("c\n"),
		"docs/deep/.hidden.txt": f("no"),
	}
}

type testServer struct {
	*Server
	addr string
	host string
	port int
}

// startServer serves testTree and a tree for alice on a loopback port.
func startServer(t *testing.T, ln net.Listener, edit func(*Server)) *testServer {
	t.Helper()
	b := &FSBackend{Root: testTree(), Homes: map[string]fs.FS{
		"alice": fstest.MapFS{"hello.txt": {Data: []byte("hi from alice\n")}},
	}}
	srv := &Server{Backend: b, Logger: quietLog}
	if edit != nil {
		edit(srv)
	}
	addr := testkit.Serve(t, srv, ln)
	host, p, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(p)
	return &testServer{Server: srv, addr: addr, host: host, port: port}
}

// fetch sends request (CRLF added) and returns everything the server
// sent until it closed the connection.
func fetch(t *testing.T, addr, request string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return exchange(t, c, request)
}

func exchange(t *testing.T, c net.Conn, request string) string {
	t.Helper()
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, request+"\r\n"); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading the answer to %q: %v (got %q)", request, err, b)
	}
	return string(b)
}

// menu joins lines into a menu as the server sends it.
func menu(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n.\r\n" }

// local is a menu line of ts itself.
func (ts *testServer) local(typ byte, display, selector string) string {
	return Item{Type: typ, Display: display, Selector: selector, Host: ts.host, Port: ts.port}.Line()
}

func tlsDial(t *testing.T, addr string, cfg *tls.Config) *tls.Conn {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		t.Fatalf("TLS dial %s: %v", addr, err)
	}
	return c
}

// gatedBackend waits at gate when a file is opened, for Conformance.
type gatedBackend struct {
	Backend
	gate *testkit.Gate
}

func (g gatedBackend) Tree(ctx context.Context, user string) (FS, error) {
	t, err := g.Backend.Tree(ctx, user)
	if err != nil {
		return nil, err
	}
	return gatedFS{t, g.gate}, nil
}

type gatedFS struct {
	FS
	gate *testkit.Gate
}

func (g gatedFS) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if name == "a.txt" {
		if err := g.gate.Wait(ctx); err != nil {
			return nil, err
		}
	}
	return g.FS.Open(ctx, name)
}
