package interop

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// startHTTPServe starts plumb serve with FTP and HTTP(S) on free ports
// and the account alice; it returns the daemon and the anonymous area
// and alice's home on disk.
func startHTTPServe(t *testing.T) (s *Serve, anon, home string) {
	t.Helper()
	s, home = startFTPServe(t, "")
	anon = filepath.Join(s.Data, "files", "anonymous")
	os.MkdirAll(filepath.Join(anon, "sub"), 0o750)
	os.WriteFile(filepath.Join(anon, "hello.txt"), []byte("hello, world\n"), 0o640)
	os.WriteFile(filepath.Join(anon, "sub", "one.txt"), []byte("1"), 0o640)
	return s, anon, home
}

// curl runs curl and returns its standard output.
func curl(t *testing.T, args ...string) string {
	t.Helper()
	return run(t, time.Minute, need(t, "curl"), append([]string{"-sS"}, args...)...)
}

func TestHTTPServerCurl(t *testing.T) {
	need(t, "curl")
	s, _, home := startHTTPServe(t)
	base := "http://" + s.Addr(t, "http")
	if got := curl(t, base+"/hello.txt"); got != "hello, world\n" {
		t.Errorf("curl GET = %q", got)
	}
	head := curl(t, "-I", base+"/hello.txt")
	if !strings.HasPrefix(head, "HTTP/1.1 200") || !strings.Contains(head, "Content-Length: 13") {
		t.Errorf("curl -I:\n%s", head)
	}
	etag := regexp.MustCompile(`(?i)etag: ("[^"]+")`).FindStringSubmatch(head)
	if etag == nil {
		t.Fatalf("no strong ETag in:\n%s", head)
	}
	if got := curl(t, "-r", "7-11", base+"/hello.txt"); got != "world" {
		t.Errorf("curl -r 7-11 = %q", got)
	}
	if code := curl(t, "-o", "/dev/null", "-w", "%{http_code}", "-H", "If-None-Match: "+etag[1], base+"/hello.txt"); code != "304" {
		t.Errorf("curl If-None-Match = %s, want 304", code)
	}
	if code := curl(t, "-o", "/dev/null", "-w", "%{http_code}", "-z", "hello.txt", "--time-cond", "Tue, 01 Jan 2030 00:00:00 GMT", base+"/hello.txt"); code != "304" {
		t.Errorf("curl --time-cond in the future = %s, want 304", code)
	}
	up := filepath.Join(t.TempDir(), "up.bin")
	os.WriteFile(up, []byte(strings.Repeat("curl!", 1000)), 0o600)
	if code := curl(t, "-o", "/dev/null", "-w", "%{http_code}", "-T", up, base+"/~alice/up.bin"); code != "401" {
		t.Errorf("curl -T without credentials = %s, want 401", code)
	}
	if code := curl(t, "-o", "/dev/null", "-w", "%{http_code}", "-u", ftpUser+":"+ftpPass, "-T", up, base+"/~alice/up.bin"); code != "201" {
		t.Errorf("curl -T with Basic auth = %s, want 201", code)
	}
	if b, _ := os.ReadFile(filepath.Join(home, "up.bin")); string(b) != strings.Repeat("curl!", 1000) {
		t.Errorf("stored %d bytes, want curl's 5000", len(b))
	}
	tls := "https://" + s.Addr(t, "https")
	if got := curl(t, "-k", "--http2", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", tls+"/hello.txt"); got != "2 200" {
		t.Errorf("curl --http2 over TLS = %q, want \"2 200\"", got)
	}
	if got := curl(t, "-k", "--http2", "-u", ftpUser+":"+ftpPass, tls+"/~alice/up.bin"); len(got) != 5000 {
		t.Errorf("curl --http2 GET of alice's file = %d bytes", len(got))
	}
	for _, target := range []string{"/../../accounts.toml", "/%2e%2e/%2e%2e/accounts.toml", "/sub%2f..%2f..%2faccounts.toml", "/sub\\..\\..\\accounts.toml"} {
		if code := curl(t, "--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", base+target); code != "400" {
			t.Errorf("curl --path-as-is %s = %s, want 400", target, code)
		}
	}
}

func TestHTTPServerPython(t *testing.T) {
	py := needPyModule(t, "urllib.request")
	s, _, home := startHTTPServe(t)
	out := run(t, time.Minute, py, "-W", "ignore", "testdata/http_python_client.py", s.Addr(t, "http"), ftpUser, ftpPass)
	var got struct {
		Get         string   `json:"get"`
		Type        string   `json:"type"`
		Range       string   `json:"range"`
		GetOwn      string   `json:"get_own"`
		RangeStatus int      `json:"range_status"`
		Conditional int      `json:"conditional"`
		Listing     []string `json:"listing"`
		Put         int      `json:"put"`
		PutNoauth   int      `json:"put_noauth"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("python said %q: %v", out, err)
	}
	want := fmt.Sprintln(got.Get == "hello, world\n", got.Type, got.RangeStatus, got.Range, got.Conditional, got.Listing, got.Put, got.PutNoauth, got.GetOwn)
	if want != "true text/plain; charset=utf-8 206 world 304 [one.txt] 201 401 from http.client\n" {
		t.Errorf("python saw %s", out)
	}
	if b, _ := os.ReadFile(filepath.Join(home, "py.txt")); string(b) != "from http.client" {
		t.Errorf("stored %q", b)
	}
}

// litmusKnown are the litmus tests that fail against golang.org/x/net/webdav,
// with the reason docs/PROTOCOLS.md gives.
var litmusKnown = []string{
	"lock_shared", // shared locks: 501, x/net/webdav has exclusive locks only
}

func TestHTTPServerLitmus(t *testing.T) {
	litmus := need(t, "litmus")
	s, _, _ := startHTTPServe(t)
	cmd := exec.Command(litmus, "http://"+s.Addr(t, "http")+"/dav/", ftpUser, ftpPass)
	cmd.Dir = t.TempDir() // litmus writes debug.log here
	cmd.Env = append(os.Environ(), "TESTS=basic copymove props locks")
	timer := time.AfterFunc(3*time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	out, _ := cmd.CombinedOutput()
	// A line is "N. name....  N. name.... result": the name, dots, the
	// result; a warning puts the result on a line of dots of its own.
	result := regexp.MustCompile(`(\S+?)\.+\s+(pass|FAIL|SKIPPED)\b`)
	passed, failed := 0, []string{}
	for _, line := range strings.Split(string(out), "\n") {
		m := result.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		switch m[2] {
		case "pass":
			passed++
		case "FAIL":
			failed = append(failed, m[1])
		}
	}
	if passed < 80 {
		t.Fatalf("litmus: %d tests passed, want the basic, copymove, props and locks suites to run:\n%s", passed, out)
	}
	for _, f := range failed {
		if !slices.Contains(litmusKnown, f) {
			t.Errorf("litmus test %s failed (not a known limitation):\n%s", f, out)
		}
	}
	t.Logf("litmus: %d passed; failed (known): %v", passed, failed)
}

// TestHTTPAcrossProtocols: a file uploaded over FTP is at once a
// download over HTTP and a WebDAV resource, and an HTTP PUT is a file
// over FTP, with the same bytes and modification time.
func TestHTTPAcrossProtocols(t *testing.T) {
	need(t, "curl")
	s, _, home := startHTTPServe(t)
	auth := ftpUser + ":" + ftpPass
	ftpBase := "ftp://" + s.Addr(t, "ftp")
	base := "http://" + s.Addr(t, "http")
	body := strings.Repeat("across the protocols\n", 500)
	src := filepath.Join(t.TempDir(), "ftp.txt")
	os.WriteFile(src, []byte(body), 0o600)
	mt := time.Date(2020, 2, 29, 12, 34, 56, 0, time.UTC)
	curl(t, "-u", auth, "-T", src, "-Q", "-MFMT "+mt.Format("20060102150405")+" ftp.txt", ftpBase+"/ftp.txt")
	if got := curl(t, "-u", auth, base+"/~alice/ftp.txt"); got != body {
		t.Errorf("over HTTP: %d bytes, want FTP's %d", len(got), len(body))
	}
	head := curl(t, "-u", auth, "-I", base+"/~alice/ftp.txt")
	if !strings.Contains(head, "Last-Modified: "+mt.Format(http.TimeFormat)) {
		t.Errorf("HTTP Last-Modified differs from FTP's MFMT %v:\n%s", mt, head)
	}
	prop := curl(t, "-u", auth, "-X", "PROPFIND", "-H", "Depth: 0", base+"/dav/ftp.txt")
	if !strings.Contains(prop, "<D:getlastmodified>"+mt.Format(http.TimeFormat)) || !strings.Contains(prop, fmt.Sprintf("<D:getcontentlength>%d<", len(body))) {
		t.Errorf("WebDAV PROPFIND differs from FTP's file:\n%s", prop)
	}
	if got := curl(t, "-u", auth, base+"/dav/ftp.txt"); got != body {
		t.Errorf("WebDAV GET: %d bytes", len(got))
	}

	up := filepath.Join(t.TempDir(), "http.txt")
	os.WriteFile(up, []byte("put over HTTP\n"), 0o600)
	if code := curl(t, "-u", auth, "-T", up, "-o", "/dev/null", "-w", "%{http_code}", base+"/~alice/http.txt"); code != "201" {
		t.Fatalf("curl -T = %s", code)
	}
	head = curl(t, "-u", auth, "-I", base+"/~alice/http.txt")
	if got := curl(t, "-u", auth, ftpBase+"/http.txt"); got != "put over HTTP\n" {
		t.Errorf("over FTP: %q", got)
	}
	ftpHead := curl(t, "-u", auth, "-I", ftpBase+"/http.txt")
	lm := regexp.MustCompile(`Last-Modified: ([^\r\n]+)`)
	h, f := lm.FindStringSubmatch(head), lm.FindStringSubmatch(ftpHead)
	if h == nil || f == nil || h[1] != f[1] {
		t.Errorf("modification time over HTTP %q, over FTP %q", h, f)
	}
	if fi, err := os.Stat(filepath.Join(home, "http.txt")); err != nil || h == nil || fi.ModTime().UTC().Format(http.TimeFormat) != h[1] {
		t.Errorf("on disk %v, HTTP says %q", fi, h)
	}
}

// TestHTTPServerCGI: a Python CGI script from http.cgi_dir, through curl.
func TestHTTPServerCGI(t *testing.T) {
	need(t, "curl")
	py := needPyModule(t, "os")
	s := startServe(t, ftpServeConfig("")+"[http]\naddr = \"127.0.0.1:0\"\ncgi_dir = \"cgi\"\n")
	dir := filepath.Join(s.Data, "cgi")
	os.MkdirAll(dir, 0o750)
	script := "#!" + py + "\nimport os, sys\nsys.stdout.write('Content-Type: text/plain\\r\\n\\r\\n')\n" +
		"sys.stdout.write(os.environ['REQUEST_METHOD'] + ' ' + os.environ.get('PATH_INFO', '') + ' ' + os.environ.get('QUERY_STRING', '') + ' ' + sys.stdin.read())\n"
	if err := os.WriteFile(filepath.Join(dir, "echo.py"), []byte(script), 0o750); err != nil {
		t.Fatal(err)
	}
	base := "http://" + s.Addr(t, "http")
	if got := curl(t, "-d", "body", base+"/cgi-bin/echo.py/extra?q=1"); got != "POST /extra q=1 body" {
		t.Errorf("CGI answered %q", got)
	}
	if code := curl(t, "-o", "/dev/null", "-w", "%{http_code}", base+"/cgi-bin/missing"); code != "404" {
		t.Errorf("a missing CGI script = %s, want 404", code)
	}
}
