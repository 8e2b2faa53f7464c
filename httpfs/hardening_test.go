package httpfs

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/webdav"
)

// TestNoOpenRedirect: a directory whose name looks like a host, asked
// for as "//host.example", never answers Location: //host.example/.
func TestNoOpenRedirect(t *testing.T) {
	f := newFixture(t, nil)
	f.write(t, "anon/host.example/x.txt", "x")
	for _, target := range []string{"//host.example", "///host.example", "//host.example/x.txt/"} {
		resp, _ := f.do(t, "GET", target, nil)
		if loc := resp.Header.Get("Location"); strings.HasPrefix(loc, "//") || strings.Contains(loc, "host.example/") && !strings.HasPrefix(loc, "/host.example") {
			t.Errorf("GET %s: Location %q points off this server", target, loc)
		}
		if resp.StatusCode != 400 {
			t.Errorf("GET %s = %d, want 400", target, resp.StatusCode)
		}
	}
	resp, _ := f.do(t, "GET", "/host.example?a=1", nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != 301 || loc != "/host.example/?a=1" {
		t.Errorf("GET /host.example = %d Location %q, want 301 to /host.example/?a=1", resp.StatusCode, loc)
	}
}

// TestCGIHidesCredentials: a script sees neither the Basic credentials
// nor a proxy's, and its standard error goes to the server's Logger.
func TestCGIHidesCredentials(t *testing.T) {
	cgiDir := t.TempDir()
	script := "#!/bin/sh\necho oops-on-stderr >&2\nprintf 'Content-Type: text/plain\\r\\n\\r\\n[%s][%s][%s]' \"$HTTP_AUTHORIZATION\" \"$HTTP_PROXY_AUTHORIZATION\" \"$HTTP_COOKIE\"\n"
	if err := os.WriteFile(filepath.Join(cgiDir, "env"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	f := newFixture(t, func(s *Server, _ *testBackend) {
		s.CGIDir = cgiDir
		s.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	resp, body := f.do(t, "GET", "/cgi-bin/env", nil, "auth", "alice:alice-pw", "Proxy-Authorization", "Basic eDp5", "Cookie", "s=1")
	if resp.StatusCode != 200 || body != "[][][s=1]" {
		t.Errorf("CGI saw %d %q, want no credentials and the cookie", resp.StatusCode, body)
	}
	if !strings.Contains(logs.String(), "oops-on-stderr") {
		t.Errorf("the script's standard error is not in the log: %q", logs.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func proppatch(name, value string) string {
	return `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><Z:` +
		name + `>` + value + `</Z:` + name + `></D:prop></D:set></D:propertyupdate>`
}

// TestDeadPropsClearedAndCapped: a plain DELETE or PUT leaves no dead
// properties for the next file of that name, MOVE takes them along,
// and one user's properties are bounded in bytes.
func TestDeadPropsClearedAndCapped(t *testing.T) {
	f := newFixture(t, nil)
	auth := []string{"auth", "alice:alice-pw"}
	hasProp := func(p string) bool {
		t.Helper()
		resp, body := f.do(t, "PROPFIND", p, strings.NewReader(`<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`), append(auth, "Depth", "0")...)
		if resp.StatusCode != 207 {
			t.Fatalf("PROPFIND %s = %d %s", p, resp.StatusCode, body)
		}
		return strings.Contains(body, "colour-red")
	}
	set := func(p string) {
		t.Helper()
		if resp, body := f.do(t, "PROPPATCH", p, strings.NewReader(proppatch("colour", "colour-red")), auth...); resp.StatusCode != 207 || !strings.Contains(body, "200 OK") {
			t.Fatalf("PROPPATCH %s = %d %s", p, resp.StatusCode, body)
		}
	}
	for _, how := range []string{"DELETE", "PUT"} {
		f.write(t, "home/alice/a.txt", "a")
		set("/dav/a.txt")
		if !hasProp("/dav/a.txt") {
			t.Fatalf("the property did not stick")
		}
		if resp, _ := f.do(t, how, "/~alice/a.txt", strings.NewReader("new"), auth...); resp.StatusCode/100 != 2 {
			t.Fatalf("%s = %d", how, resp.StatusCode)
		}
		f.write(t, "home/alice/a.txt", "b")
		if hasProp("/dav/a.txt") {
			t.Errorf("after a plain %s the new file has the old file's property", how)
		}
	}
	set("/dav/a.txt")
	if resp, _ := f.do(t, "MOVE", "/dav/a.txt", nil, append(auth, "Destination", f.base+"/dav/m.txt")...); resp.StatusCode != 201 {
		t.Fatalf("MOVE = %d", resp.StatusCode)
	}
	f.write(t, "home/alice/a.txt", "c")
	if hasProp("/dav/a.txt") || !hasProp("/dav/m.txt") {
		t.Errorf("MOVE: the property stayed at the source or did not reach the destination")
	}
	if resp, _ := f.do(t, "COPY", "/dav/m.txt", nil, append(auth, "Destination", f.base+"/dav/c.txt")...); resp.StatusCode != 201 {
		t.Fatalf("COPY = %d", resp.StatusCode)
	}
	if !hasProp("/dav/m.txt") || !hasProp("/dav/c.txt") {
		t.Errorf("COPY: the property is not on both the source and the copy")
	}

	big := strings.Repeat("v", 900<<10)
	refused := false
	for i := range 8 {
		name := fmt.Sprintf("big%d", i)
		f.write(t, "home/alice/"+name, "x")
		resp, body := f.do(t, "PROPPATCH", "/dav/"+name, strings.NewReader(proppatch("blob", big)), auth...)
		if resp.StatusCode != 207 {
			t.Fatalf("PROPPATCH %s = %d", name, resp.StatusCode)
		}
		if strings.Contains(body, "507") {
			refused = true
			if i*900<<10 > maxDeadPropBytes {
				t.Errorf("refused only after %d bytes, over the cap of %d", i*900<<10, maxDeadPropBytes)
			}
			break
		}
	}
	if !refused {
		t.Errorf("8 properties of 900 KiB each were all kept: no cap on one user's bytes")
	}
}

// TestDAVGetIsThePlainGet: a file under /dav/ is served by the same
// path as under /~user/ (the open file reaches net/http, for sendfile),
// so it answers Want-Repr-Digest and ranges alike.
func TestDAVGetIsThePlainGet(t *testing.T) {
	f := newFixture(t, nil)
	f.write(t, "home/alice/d.txt", "hello, world\n")
	auth := []string{"auth", "alice:alice-pw", "Accept-Encoding", "identity"}
	plain, _ := f.do(t, "GET", "/~alice/d.txt", nil, append(auth, "Want-Repr-Digest", "sha-256=5")...)
	dav, body := f.do(t, "GET", "/dav/d.txt", nil, append(auth, "Want-Repr-Digest", "sha-256=5", "Range", "bytes=7-11")...)
	if dav.StatusCode != 206 || body != "world" {
		t.Errorf("GET /dav/d.txt with a range = %d %q", dav.StatusCode, body)
	}
	if got, want := dav.Header.Get("Repr-Digest"), plain.Header.Get("Repr-Digest"); got == "" || got != want {
		t.Errorf("Repr-Digest under /dav/ = %q, under /~alice/ %q", got, want)
	}
	if dav.Header.Get("ETag") != plain.Header.Get("ETag") {
		t.Errorf("ETag under /dav/ %q differs from /~alice/ %q", dav.Header.Get("ETag"), plain.Header.Get("ETag"))
	}
}

// TestDeadPropsPatchAllOrNone: a PROPPATCH over the count limit
// changes nothing (RFC 4918 9.2), and the byte count comes back to 0
// when the properties go.
func TestDeadPropsPatchAllOrNone(t *testing.T) {
	u := newDeadProps().of("alice")
	var props []webdav.Property
	for i := range maxDeadProps + 1 {
		props = append(props, webdav.Property{XMLName: xml.Name{Space: "urn:z", Local: fmt.Sprintf("p%d", i)}, InnerXML: []byte("v")})
	}
	if st := u.patch("/f", []webdav.Proppatch{{Props: props}}); len(st) != 1 || st[0].Status != 507 {
		t.Fatalf("patch over the count limit = %+v, want one 507", st)
	}
	if got := u.get("/f"); len(got) != 0 || u.bytes != 0 {
		t.Fatalf("a refused patch kept %d properties (%d bytes)", len(got), u.bytes)
	}
	if st := u.patch("/f", []webdav.Proppatch{{Props: props[:3]}}); st[0].Status != 200 || u.bytes == 0 {
		t.Fatalf("patch of 3 = %+v, bytes %d", st, u.bytes)
	}
	u.rename("/f", "/g")
	u.remove("/g")
	if u.bytes != 0 || len(u.m) != 0 {
		t.Errorf("after rename and remove: %d bytes, %d paths left", u.bytes, len(u.m))
	}
}
