package gopher

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

func TestConformance(t *testing.T) {
	testkit.Conformance(t, testkit.Target{
		New: func(t *testing.T, gate *testkit.Gate) testkit.StreamServer {
			return &Server{Backend: gatedBackend{&FSBackend{Root: testTree()}, gate}, Logger: quietLog}
		},
		Busy: func(t *testing.T, c *testkit.Transcript) { c.Send("/a.txt") },
		Finish: func(t *testing.T, c *testkit.Transcript) {
			b, err := io.ReadAll(c.R)
			if want := "alpha\r\nbeta\n"; string(b) != want || err != nil {
				t.Errorf("/a.txt = %q, %v; want %q", b, err, want)
			}
		},
	})
}

func TestRootMenu(t *testing.T) {
	ts := startServer(t, nil, nil)
	want := menu(
		ts.local('7', "Search file names", "/"),
		ts.local('1', "docs", "/docs/"),
		ts.local('1', "empty", "/empty/"),
		ts.local('1', "inline", "/inline/"),
		ts.local('1', "loop", "/loop/"),
		ts.local('1', "mapped", "/mapped/"),
		ts.local('1', "stop", "/stop/"),
		ts.local('1', "users", "/users/"),
		ts.local('0', "README", "/README"),
		ts.local('0', "a.txt", "/a.txt"),
		ts.local('9', "blob.bin", "/blob.bin"),
		ts.local('I', "img.png", "/img.png"),
		ts.local('h', "page.html", "/page.html"),
		ts.local('g', "pic.gif", "/pic.gif"),
		ts.local('s', "song.mp3", "/song.mp3"),
	)
	for _, sel := range []string{"", "/", "\t+"} {
		if got := fetch(t, ts.addr, sel); got != want {
			t.Errorf("menu %q =\n%s\nwant\n%s", sel, got, want)
		}
	}
	if got, want := fetch(t, ts.addr, "/docs/deep"), menu(ts.local('0', "Notes.txt", "/docs/deep/Notes.txt"), ts.local('0', "other.md", "/docs/deep/other.md")); got != want {
		t.Errorf("menu /docs/deep = %q, want %q", got, want)
	}
	if got, want := fetch(t, ts.addr, "/empty/"), ".\r\n"; got != want {
		t.Errorf("menu /empty/ = %q, want %q", got, want)
	}
}

func TestFiles(t *testing.T) {
	ts := startServer(t, nil, nil)
	for _, tc := range []struct{ sel, want string }{
		// Every file raw, as stored: text too (as gophernicus sends it).
		{"/README", "Read me.\n.a line with a dot\n.\nlast\n"},
		{"/a.txt", "alpha\r\nbeta\n"},
		{"a.txt", "alpha\r\nbeta\n"},
		{"/pic.gif", gifBytes},
		{"/blob.bin", "\x00\x01"},
		{"/page.html", "<p>hi</p>\n"},
		{"/mapped/table.dat", "a;b\n"},
		{"/~alice/hello.txt", "hi from alice\n"},
	} {
		if got := fetch(t, ts.addr, tc.sel); got != tc.want {
			t.Errorf("%q = %q, want %q", tc.sel, got, tc.want)
		}
	}
}

func TestGophermap(t *testing.T) {
	ts := startServer(t, nil, nil)
	want := menu(
		Item{Type: 'i', Display: "The Title", Selector: "TITLE", Host: "null.host", Port: 1}.Line(),
		info("Welcome.").Line(),
		info("").Line(),
		ts.local('1', "Up", "/"),
		ts.local('0', "Rel", "/mapped/shown.txt"),
		ts.local('0', "NoSel", "/mapped/NoSel"),
		Item{Type: '1', Display: "Away", Selector: "/x", Host: "example.org", Port: 7070}.Line(),
		ts.local('h', "Web", "URL:https://example.org/"),
		info("Included.").Line(), // once: the second include of inc.map adds nothing
		ts.local('0', "From include", "/mapped/shown.txt"),
		ts.local('1', "sub", "/mapped/sub/"),
		ts.local('0', "shown.txt", "/mapped/shown.txt"),
		ts.local('0', "table.dat", "/mapped/table.dat"),
	)
	if got := fetch(t, ts.addr, "/mapped/"); got != want {
		t.Errorf("menu /mapped/ =\n%s\nwant\n%s", got, want)
	}
	// An include of itself adds nothing: a map is read once a request.
	if got, want := fetch(t, ts.addr, "/loop"), menu(info("end").Line()); got != want {
		t.Errorf("menu /loop = %q, want %q", got, want)
	}
	// An inline map stands where its name sorts; its "*" lists the
	// directory again, inline maps in it expanded only so deep.
	got := fetch(t, ts.addr, "/inline/")
	if want := menu(ts.local('0', "a.txt", "/inline/a.txt"), info("Between a and c.").Line(), ts.local('0', "a.txt", "/inline/a.txt")); !strings.HasPrefix(got, strings.TrimSuffix(want, ".\r\n")) || strings.Count(got, "\n") > 60 {
		t.Errorf("menu /inline/ = %q, want it to start %q and stay bounded", got, want)
	}
	if got, want := fetch(t, ts.addr, "/stop"), menu(info("one").Line()); got != want {
		t.Errorf("menu /stop = %q, want %q", got, want)
	}
	if got, want := fetch(t, ts.addr, "/users"), menu(info("Users:").Line(), ts.local('1', "~alice", "/~alice/")); got != want {
		t.Errorf("menu /users = %q, want %q", got, want)
	}
}

func TestUserTrees(t *testing.T) {
	ts := startServer(t, nil, nil)
	want := menu(ts.local('7', "Search file names", "/~alice/"), ts.local('0', "hello.txt", "/~alice/hello.txt"))
	for _, sel := range []string{"/~alice", "/~alice/", "~alice/"} {
		if got := fetch(t, ts.addr, sel); got != want {
			t.Errorf("menu %q = %q, want %q", sel, got, want)
		}
	}
	if got, want := fetch(t, ts.addr, "/~bob/"), menu(errorItem("No such user").Line()); got != want {
		t.Errorf("/~bob/ = %q, want %q", got, want)
	}
}

func TestSearch(t *testing.T) {
	ts := startServer(t, nil, nil)
	if got, want := fetch(t, ts.addr, "/\tnotes"), menu(ts.local('0', "docs/deep/Notes.txt", "/docs/deep/Notes.txt")); got != want {
		t.Errorf("search notes = %q, want %q", got, want)
	}
	if got, want := fetch(t, ts.addr, "/docs/\tTXT deep"), menu(info("No file name matches txt deep.").Line()); got != want {
		t.Errorf("search 'TXT deep' = %q, want %q", got, want)
	}
	got := fetch(t, ts.addr, "/docs\t.txt")
	want := menu(ts.local('0', "guide.txt", "/docs/guide.txt"), ts.local('0', "deep/Notes.txt", "/docs/deep/Notes.txt"))
	if got != want {
		t.Errorf("search .txt under /docs = %q, want %q", got, want)
	}
	if strings.Contains(fetch(t, ts.addr, "/\thidden"), "hidden.txt\t/docs") {
		t.Errorf("search found a hidden file")
	}
	ns := startServer(t, nil, func(s *Server) { s.NoSearch = true })
	if got := fetch(t, ns.addr, "/"); strings.HasPrefix(got, "7") {
		t.Errorf("NoSearch root menu = %q, want no search item", got)
	}
	if got, want := fetch(t, ns.addr, "/\tx"), menu(errorItem("Search is off on this server").Line()); got != want {
		t.Errorf("NoSearch search = %q, want %q", got, want)
	}
}

func TestSelectorsJailed(t *testing.T) {
	ts := startServer(t, nil, func(s *Server) { s.MaxSelectorLength = 100 })
	for sel, msg := range map[string]string{
		"/../etc/passwd":               "Selector leaves the tree or names a hidden file",
		"/docs/../../x":                "Selector leaves the tree or names a hidden file",
		"/.secret":                     "Selector leaves the tree or names a hidden file",
		"/docs//guide.txt":             "Selector leaves the tree or names a hidden file",
		"//etc/passwd":                 "Selector leaves the tree or names a hidden file",
		"/docs/./guide.txt":            "Selector leaves the tree or names a hidden file",
		"/docs\\guide.txt":             "Selector leaves the tree or names a hidden file",
		"/a.txt\x00":                   "Selector holds a control character",
		"/a\rb":                        "Selector holds a control character",
		"/~../x":                       "No such user",
		"/~":                           "No such user",
		"/" + strings.Repeat("x", 101): "Selector too long",
		"/nope":                        "Not found",
		"/a.txt/":                      "Not found",
		"/a.txt\tsearch":               "Only a directory can be searched",
		"URL:javascript:x()":           "Not a URL this server links to",
	} {
		if got, want := fetch(t, ts.addr, sel), menu(errorItem(msg).Line()); got != want {
			t.Errorf("%q = %q, want %q", sel, got, want)
		}
	}
	// A line far over the limit is refused the same way, not read to its end.
	if got, want := fetch(t, ts.addr, strings.Repeat("y", 100000)), menu(errorItem("Selector too long").Line()); got != want {
		t.Errorf("100000-byte selector = %q, want %q", got, want)
	}
}

func TestWebRedirect(t *testing.T) {
	ts := startServer(t, nil, nil)
	got := fetch(t, ts.addr, `URL:https://example.org/?a=1&b="2"`)
	if !strings.Contains(got, `url=https://example.org/?a=1&amp;b=&#34;2&#34;"`) || !strings.HasPrefix(got, "<!DOCTYPE html>") {
		t.Errorf("URL: page = %q, want an HTML page with the escaped address", got)
	}
}

func TestHostnameAndPort(t *testing.T) {
	ts := startServer(t, nil, func(s *Server) { s.Hostname, s.Port = "gopher.example", 70 })
	if got, want := fetch(t, ts.addr, "/docs/deep"), "0Notes.txt\t/docs/deep/Notes.txt\tgopher.example\t70\r\n"; !strings.HasPrefix(got, want) {
		t.Errorf("menu = %q, want it to start %q", got, want)
	}
}

func TestTLSOnThePlainPort(t *testing.T) {
	server, client := testkit.TLS(t)
	ts := startServer(t, nil, func(s *Server) { s.TLSConfig = server })
	// A TLS client offering ALPN gopher gets it.
	cfg := client.Clone()
	cfg.NextProtos = []string{"gopher"}
	c := tlsDial(t, ts.addr, cfg)
	if p := c.ConnectionState().NegotiatedProtocol; p != "gopher" {
		t.Errorf("ALPN = %q, want gopher", p)
	}
	if got, want := exchange(t, c, "/a.txt"), "alpha\r\nbeta\n"; got != want {
		t.Errorf("/a.txt over TLS = %q, want %q", got, want)
	}
	// One offering other protocols, or none, is served without ALPN.
	cfg.NextProtos = []string{"http/1.1"}
	if got := exchange(t, tlsDial(t, ts.addr, cfg), "/pic.gif"); got != gifBytes {
		t.Errorf("/pic.gif over TLS = %q, want %q", got, gifBytes)
	}
	// Plain text on the same port.
	if got, want := fetch(t, ts.addr, "/a.txt"), "alpha\r\nbeta\n"; got != want {
		t.Errorf("/a.txt in plain text = %q, want %q", got, want)
	}
}

func TestImplicitTLS(t *testing.T) {
	server, client := testkit.TLS(t)
	srv := &Server{Backend: &FSBackend{Root: testTree()}, Logger: quietLog, TLSConfig: server}
	ln := tls.NewListener(testkit.Listen(t), srv.ListenerTLSConfig())
	addr := testkit.Serve(t, srv, ln)
	if got, want := exchange(t, tlsDial(t, addr, client), "/a.txt"), "alpha\r\nbeta\n"; got != want {
		t.Errorf("/a.txt over implicit TLS = %q, want %q", got, want)
	}
}

func TestSlowRequestIsCutOff(t *testing.T) {
	ts := startServer(t, nil, func(s *Server) { s.LineTimeout = 200 * time.Millisecond })
	c := testkit.Dial(t, ts.addr)
	start := time.Now()
	c.Write("/a.t") // and nothing more
	if !c.Closed(5 * time.Second) {
		t.Fatal("a request line never finished still holds its connection")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("closed after %v, want about LineTimeout (200ms)", d)
	}
	idle := startServer(t, nil, func(s *Server) { s.IdleTimeout = 200 * time.Millisecond })
	if !testkit.Dial(t, idle.addr).Closed(5 * time.Second) {
		t.Fatal("a connection that sends nothing is not closed at IdleTimeout")
	}
}

// TestExtraBytesAfterRequest: a client that sends more than its line
// (a Gopher+ field on the next line) still gets the whole response.
func TestExtraBytesAfterRequest(t *testing.T) {
	ts := startServer(t, nil, nil)
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	if got := exchange(t, c, "/pic.gif\r\n+extra"); got != gifBytes {
		t.Errorf("/pic.gif with bytes after = %q, want %q", got, gifBytes)
	}
}

type panicBackend struct{}

func (panicBackend) Tree(ctx context.Context, user string) (FS, error) { panic("backend bug") }

// TestPanicEndsOneConnection: a panic in a request answers a type-3
// error and the server goes on serving.
func TestPanicEndsOneConnection(t *testing.T) {
	srv := &Server{Backend: panicBackend{}, Logger: quietLog}
	addr := testkit.Serve(t, srv, nil)
	for range 2 {
		if got, want := fetch(t, addr, "/"), menu(errorItem("Server error").Line()); got != want {
			t.Errorf("/ with a panicking backend = %q, want %q", got, want)
		}
	}
}
