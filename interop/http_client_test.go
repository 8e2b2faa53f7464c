package interop

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// httpPeerTree writes the tree every HTTP peer serves: a file large
// enough for four ranges, nested directories, a name with a space.
func httpPeerTree(t *testing.T) string { return httpPeerTreeIn(t, t.TempDir()) }

func httpPeerTreeIn(t *testing.T, root string) string {
	t.Helper()
	big := make([]byte, 1<<20+123)
	rand.Read(big)
	files := map[string][]byte{
		"data.bin":            big,
		"space name.txt":      []byte("spaced\n"),
		"docs/readme.txt":     []byte("read me\n"),
		"docs/deep/inner.txt": []byte("deep inside\n"),
	}
	mt := time.Date(2021, 6, 1, 10, 0, 0, 0, time.UTC)
	for name, b := range files {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, mt, mt)
	}
	return root
}

// sameTree fails unless every file of want is in got with the same
// bytes and modification time, and got has no other file.
func sameTree(t *testing.T, want, got string) {
	t.Helper()
	n := 0
	filepath.WalkDir(want, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		rel, _ := filepath.Rel(want, p)
		a, _ := os.ReadFile(p)
		b, err := os.ReadFile(filepath.Join(got, rel))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("mirror of %s: %d bytes, %v; want %d bytes", rel, len(b), err, len(a))
			return nil
		}
		wi, _ := d.Info()
		if gi, err := os.Stat(filepath.Join(got, rel)); err != nil || !gi.ModTime().Equal(wi.ModTime()) {
			t.Errorf("mirror of %s has time %v, want %v", rel, gi.ModTime(), wi.ModTime())
		}
		return nil
	})
	m := 0
	filepath.WalkDir(got, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			m++
		}
		return err
	})
	if m != n {
		t.Errorf("mirror has %d files, want %d", m, n)
	}
}

// waitPort waits until something listens on addr.
func waitPort(t *testing.T, addr string) {
	t.Helper()
	testkit.Eventually(t, 20*time.Second, "the peer listening on "+addr, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// checkGetFrom runs plumb get against a peer serving httpPeerTree at
// base: a file, a resumed one, a parallel one, a recursive mirror and
// an HTTP error; redirect is a URL that redirects to /data.bin.
func checkGetFrom(t *testing.T, tree, base, redirect string) {
	want, _ := os.ReadFile(filepath.Join(tree, "data.bin"))
	dir := t.TempDir()
	get := func(args ...string) {
		t.Helper()
		if out, errs, code := plumbRun(t, "", append([]string{"get", "-s"}, args...)...); code != 0 {
			t.Fatalf("plumb get %v: exit %d\n%s%s", args, code, out, errs)
		}
	}
	same := func(name string) {
		t.Helper()
		if got, _ := os.ReadFile(filepath.Join(dir, name)); !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, want data.bin's %d", name, len(got), len(want))
		}
	}
	t.Run("file", func(t *testing.T) {
		get("-o", filepath.Join(dir, "plain"), base+"/data.bin")
		same("plain")
		out, _, _ := plumbRun(t, "", "get", "-s", "-o", "-", base+"/space%20name.txt")
		if out != "spaced\n" {
			t.Errorf("a name with a space: %q", out)
		}
	})
	t.Run("resume", func(t *testing.T) {
		os.WriteFile(filepath.Join(dir, "part"), want[:1000], 0o644)
		get("-C", "-o", filepath.Join(dir, "part"), base+"/data.bin")
		same("part")
	})
	t.Run("parallel", func(t *testing.T) {
		get("--parallel", "4", "-o", filepath.Join(dir, "par"), base+"/data.bin")
		same("par")
	})
	t.Run("redirect", func(t *testing.T) {
		get("-o", filepath.Join(dir, "redir"), redirect)
		same("redir")
	})
	t.Run("recursive", func(t *testing.T) {
		mirror := filepath.Join(dir, "mirror")
		get("-r", "-o", mirror, base+"/")
		sameTree(t, tree, mirror)
	})
	t.Run("error", func(t *testing.T) {
		_, errs, code := plumbRun(t, "", "get", "-s", "-o", filepath.Join(dir, "none"), base+"/missing.bin")
		if code != 1 || !strings.Contains(errs, "404") {
			t.Errorf("plumb get of a missing file: exit %d, %q; want 1 naming the 404", code, errs)
		}
	})
}

func TestHTTPGetFromPythonServer(t *testing.T) {
	py := needPyModule(t, "http.server")
	tree := httpPeerTree(t)
	port := freePort(t)
	cmd := exec.Command(py, "-W", "ignore", "-m", "http.server", "--bind", "127.0.0.1", "--directory", tree, strconv.Itoa(port))
	startPeerProcess(t, cmd)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	waitPort(t, addr)
	// http.server redirects a directory without its slash; -o - of the
	// listing shows the redirect was followed.
	out, errs, code := plumbRun(t, "", "get", "-s", "-o", "-", "http://"+addr+"/docs")
	if code != 0 || !strings.Contains(out, `href="readme.txt"`) {
		t.Fatalf("plumb get /docs (a redirect to /docs/): exit %d, %q %s", code, out, errs)
	}
	// It has no ranges: resume and --parallel fall back to a whole download.
	checkGetFrom(t, tree, "http://"+addr, "http://"+addr+"/data.bin")
}

func TestHTTPGetFromNginx(t *testing.T) {
	nginx := need(t, "nginx")
	tree := httpPeerTree(t)
	port := freePort(t)
	prefix := t.TempDir()
	conf := filepath.Join(prefix, "nginx.conf")
	fmt.Fprintf(mustCreate(t, conf), `master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	types { text/plain txt; application/octet-stream bin; }
	server {
		listen 127.0.0.1:%[2]d;
		root %[3]s;
		autoindex on;
		location = /old.bin { return 302 /data.bin; }
	}
}
`, prefix, port, tree)
	cmd := exec.Command(nginx, "-c", conf, "-p", prefix, "-g", "daemon off;")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	startPeerProcess(t, cmd)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	waitPort(t, addr)
	checkGetFrom(t, tree, "http://"+addr, "http://"+addr+"/old.bin")
}

// TestHTTPGetFromPlumbServe: plumb get against plumb serve, with the
// JSON listing, HTTPS and HTTP/2, and a PUT read back.
func TestHTTPGetFromPlumbServe(t *testing.T) {
	s, anon, home := startHTTPServe(t)
	os.RemoveAll(anon)
	tree := httpPeerTreeIn(t, anon)
	checkGetFrom(t, tree, "http://"+s.Addr(t, "http"), "http://"+s.Addr(t, "http")+"/data.bin")
	ca := filepath.Join(s.Data, "tls", "cert.pem")
	src := filepath.Join(tree, "data.bin")
	u := fmt.Sprintf("https://%s:%s@%s/~alice/", ftpUser, ftpPass, s.Addr(t, "https"))
	if out, errs, code := plumbRun(t, "", "put", "-s", "--ca", ca, src, u); code != 0 {
		t.Fatalf("plumb put over https: exit %d %s%s", code, out, errs)
	}
	want, _ := os.ReadFile(src)
	if got, _ := os.ReadFile(filepath.Join(home, "data.bin")); !bytes.Equal(got, want) {
		t.Errorf("put stored %d bytes, want %d", len(got), len(want))
	}
	out, errs, code := plumbRun(t, "", "get", "--json", "--ca", ca, "-o", filepath.Join(t.TempDir(), "x"), u+"data.bin")
	if code != 0 || !strings.Contains(out, `"proto": "HTTP/2.0"`) || !strings.Contains(out, `"status": 200`) {
		t.Errorf("plumb get --json over https: exit %d, %s %s", code, out, errs)
	}
	// --parallel asks for the digest, which plumb serve gives, and checks it.
	out, errs, code = plumbRun(t, "", "get", "-s", "--json", "--parallel", "4", "-o", filepath.Join(t.TempDir(), "p"), "http://"+s.Addr(t, "http")+"/data.bin")
	if code != 0 || !strings.Contains(out, `"Repr-Digest": "sha-256=:`) {
		t.Errorf("plumb get --parallel from plumb serve: exit %d, no Repr-Digest in %s %s", code, out, errs)
	}
	if _, errs, code := plumbRun(t, "", "put", "-s", src, "http://"+s.Addr(t, "http")+"/data.bin"); code != 1 || !strings.Contains(errs, "401") {
		t.Errorf("plumb put without credentials: exit %d %q, want 1 naming 401", code, errs)
	}
}

func mustCreate(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
