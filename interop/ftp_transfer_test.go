package interop

import (
	"bufio"
	"bytes"
	"context"
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
)

// plumbRun runs the plumb binary with stdin and returns its output and exit status.
func plumbRun(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, plumbBin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &errb
	cmd.Env = append(os.Environ(), "NETRC="+filepath.Join(t.TempDir(), "none"))
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("plumb %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), code
}

func (p *ftpPeer) url(path string) string {
	scheme := "ftp"
	if p.implicit {
		scheme = "ftps"
	}
	u := fmt.Sprintf("%s://%s@%s/", scheme, p.user, p.addr)
	if p.pass != "" && p.user != "anonymous" {
		u = fmt.Sprintf("%s://%s:%s@%s/", scheme, p.user, strings.ReplaceAll(p.pass, " ", "%20"), p.addr)
	}
	if p.upload != "" {
		u += p.upload + "/"
	}
	return u + path
}

// tlsArgs are the plumb flags that make it trust the peer's certificate.
func (p *ftpPeer) tlsArgs() []string {
	if p.tls == nil {
		return nil
	}
	return []string{"--ca", p.certFile}
}

// exerciseGetPut drives plumb get, plumb put and plumb ftp against a peer.
func exerciseGetPut(t *testing.T, p *ftpPeer) {
	work := t.TempDir()
	disk := filepath.Join(p.root, p.upload)
	data := randomBytes(t, 2<<20+5)
	local := filepath.Join(work, "up load ü.bin")
	os.WriteFile(local, data, 0o644)
	extra := p.tlsArgs()
	if p.tls != nil && !p.implicit {
		extra = append(extra, "--ssl-reqd")
	}

	// put, then get it back under another name.
	if _, stderr, code := plumbRun(t, "", append([]string{"put", local, p.url("")}, extra...)...); code != 0 {
		t.Fatalf("plumb put = exit %d, want 0; stderr: %s", code, stderr)
	}
	if got, err := os.ReadFile(filepath.Join(disk, "up load ü.bin")); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("after plumb put: server has %d bytes, %v; want the %d sent", len(got), err, len(data))
	}
	got := filepath.Join(work, "got.bin")
	remote := p.url("up%20load%20%C3%BC.bin")
	if _, stderr, code := plumbRun(t, "", append([]string{"get", remote, "-o", got}, extra...)...); code != 0 {
		t.Fatalf("plumb get = exit %d, want 0; stderr: %s", code, stderr)
	}
	if b, _ := os.ReadFile(got); !bytes.Equal(b, data) {
		t.Fatalf("plumb get wrote %d bytes, want the %d on the server", len(b), len(data))
	}

	// --continue after a partial download, and after a partial upload.
	os.Truncate(got, 12345)
	if _, stderr, code := plumbRun(t, "", append([]string{"get", "--continue", "--active", remote, "-o", got}, extra...)...); code != 0 {
		t.Fatalf("plumb get --continue = exit %d, want 0; stderr: %s", code, stderr)
	}
	if b, _ := os.ReadFile(got); !bytes.Equal(b, data) {
		t.Fatalf("plumb get --continue left %d bytes, want the %d on the server", len(b), len(data))
	}
	os.Truncate(filepath.Join(disk, "up load ü.bin"), 54321)
	if _, stderr, code := plumbRun(t, "", append([]string{"put", "-C", local, remote}, extra...)...); code != 0 {
		t.Fatalf("plumb put --continue = exit %d, want 0; stderr: %s", code, stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(disk, "up load ü.bin")); !bytes.Equal(b, data) {
		t.Fatalf("plumb put --continue: server has %d bytes, want %d", len(b), len(data))
	}

	// A directory URL lists it; a missing file is exit status 1.
	out, stderr, code := plumbRun(t, "", append([]string{"get", p.url("")}, extra...)...)
	if code != 0 || !strings.Contains(out, "up load ü.bin") {
		t.Errorf("plumb get DIR/ = exit %d, %q; want 0 and a listing naming the file; stderr: %s", code, out, stderr)
	}
	if _, stderr, code := plumbRun(t, "", append([]string{"get", p.url("missing"), "-o", filepath.Join(work, "m")}, extra...)...); code != 1 {
		t.Errorf("plumb get missing = exit %d, want 1; stderr: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(work, "m")); err == nil {
		t.Errorf("plumb get of a missing file created the output file")
	}

	// The interactive client, scripted on standard input.
	script := fmt.Sprintf("mkdir \"d 1\"\ncd \"d 1\"\nlcd %s\nput \"up load ü.bin\" copy.bin\nactive\nls\nget copy.bin back.bin\npassive\nrename copy.bin c2.bin\ndir\nmget c2*\nrm c2.bin\ncdup\nrmdir \"d 1\"\npwd\nbye\n", work)
	out, stderr, code = plumbRun(t, script, append([]string{"ftp", p.url("")}, extra...)...)
	if code != 0 {
		t.Fatalf("plumb ftp script = exit %d, want 0; output:\n%s\nstderr: %s", code, out, stderr)
	}
	for _, f := range []string{"back.bin", "c2.bin"} {
		if b, _ := os.ReadFile(filepath.Join(work, f)); !bytes.Equal(b, data) {
			t.Errorf("plumb ftp: %s has %d bytes, want %d", f, len(b), len(data))
		}
	}
	if !strings.Contains(out, "copy.bin") || !strings.Contains(out, "c2.bin") {
		t.Errorf("plumb ftp output lacks the ls/dir lines:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(disk, "d 1")); !os.IsNotExist(err) {
		t.Errorf("plumb ftp rmdir: the directory is still there (%v)", err)
	}
	out, _, code = plumbRun(t, "cd nowhere\nbye\n", append([]string{"ftp", p.url("")}, extra...)...)
	if code != 1 || !strings.Contains(out, "cd: ") {
		t.Errorf("plumb ftp with a failing command = exit %d, output %q; want 1 and the error", code, out)
	}
}

func TestFTPGetPutPyftpdlib(t *testing.T) {
	exerciseGetPut(t, startPyftpdlib(t, false))
}

func TestFTPGetPutPyftpdlibTLS(t *testing.T) {
	exerciseGetPut(t, startPyftpdlib(t, true))
}

func TestFTPGetPutVsftpdTLS(t *testing.T) {
	exerciseGetPut(t, startVsftpd(t, true))
}

func TestFTPGetPutVsftpdImplicit(t *testing.T) {
	exerciseGetPut(t, startVsftpdMode(t, true, true))
}

// TestFTPGetNetrc checks that plumb get takes the password from a netrc file.
func TestFTPGetNetrc(t *testing.T) {
	p := startPyftpdlib(t, false)
	os.WriteFile(filepath.Join(p.root, "n.txt"), []byte("netrc works\n"), 0o644)
	netrc := filepath.Join(t.TempDir(), "netrc")
	os.WriteFile(netrc, []byte(fmt.Sprintf("machine 127.0.0.1\n  login %s\n  password %q\n", p.user, p.pass)), 0o600)
	out, stderr, code := plumbRun(t, "", "get", "--netrc-file", netrc, "-o", "-", fmt.Sprintf("ftp://%s/n.txt", p.addr))
	if code != 0 || out != "netrc works\n" {
		t.Errorf("plumb get with netrc = exit %d, %q; want 0, %q; stderr: %s", code, out, "netrc works\n", stderr)
	}
	_, stderr, code = plumbRun(t, "", "get", "-o", "-", fmt.Sprintf("ftp://%s@%s/n.txt", p.user, p.addr))
	if code != 2 || !strings.Contains(stderr, "password") {
		t.Errorf("plumb get without a password off a terminal = exit %d, %q; want 2 and advice", code, stderr)
	}
}

// TestFTPGetPartialExit checks the exit status of a download the server
// cuts short, and that --continue then completes it: a scripted server
// sends half the file and 426 the first time, the rest after REST.
func TestFTPGetPartialExit(t *testing.T) {
	content := randomBytes(t, 100000)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for first := true; ; first = false {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go serveHalfFTP(conn, content, first)
		}
	}()
	out := filepath.Join(t.TempDir(), "f.bin")
	old := []byte("the copy from yesterday\n")
	os.WriteFile(out, old, 0o644)
	url := fmt.Sprintf("ftp://u:p@%s/f.bin", ln.Addr())
	_, stderr, code := plumbRun(t, "", "get", url, "-o", out)
	if code != 3 || !strings.Contains(stderr, "--continue") {
		t.Fatalf("plumb get of a cut transfer = exit %d, %q; want 3 and a hint to --continue", code, stderr)
	}
	if b, _ := os.ReadFile(out); !bytes.Equal(b, old) {
		t.Fatalf("a broken download replaced the existing file: it has %d bytes, want the old %d", len(b), len(old))
	}
	if b, _ := os.ReadFile(out + ".part"); !bytes.Equal(b, content[:len(content)/2]) {
		t.Fatalf("partial file has %d bytes, want the first %d", len(b), len(content)/2)
	}
	if _, stderr, code := plumbRun(t, "", "get", "--continue", url, "-o", out); code != 0 {
		t.Fatalf("plumb get --continue = exit %d, want 0; stderr: %s", code, stderr)
	}
	if b, _ := os.ReadFile(out); !bytes.Equal(b, content) {
		t.Errorf("after --continue the file has %d bytes, want %d intact", len(b), len(content))
	}
	if _, err := os.Stat(out + ".part"); err == nil {
		t.Errorf("%s.part is still there after the download completed", out)
	}
}

// serveHalfFTP is a scripted FTP server for one session: the first
// session's RETR sends half of content then 426; later ones honour REST.
func serveHalfFTP(conn net.Conn, content []byte, cut bool) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(conn)
	fmt.Fprint(conn, "220 scripted\r\n")
	var data net.Listener
	var rest int64
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		switch strings.ToUpper(verb) {
		case "USER":
			fmt.Fprint(conn, "331 password\r\n")
		case "PASS":
			fmt.Fprint(conn, "230 in\r\n")
		case "TYPE":
			fmt.Fprint(conn, "200 ok\r\n")
		case "SIZE":
			fmt.Fprintf(conn, "213 %d\r\n", len(content))
		case "EPSV":
			data, _ = net.Listen("tcp", "127.0.0.1:0")
			fmt.Fprintf(conn, "229 Entering Extended Passive Mode (|||%d|)\r\n", data.Addr().(*net.TCPAddr).Port)
		case "REST":
			rest, _ = strconv.ParseInt(arg, 10, 64)
			fmt.Fprint(conn, "350 restarting\r\n")
		case "RETR":
			fmt.Fprint(conn, "150 sending\r\n")
			dc, err := data.Accept()
			data.Close()
			if err != nil {
				return
			}
			if cut {
				dc.Write(content[:len(content)/2])
				dc.Close()
				fmt.Fprint(conn, "426 connection lost\r\n")
				continue
			}
			dc.Write(content[rest:])
			dc.Close()
			fmt.Fprint(conn, "226 done\r\n")
		case "QUIT":
			fmt.Fprint(conn, "221 bye\r\n")
			return
		default:
			fmt.Fprint(conn, "502 not here\r\n")
		}
	}
}

// Without --ssl-reqd, plumb get still secures the session with AUTH TLS
// where the server offers it: pyftpdlib and plumb serve here refuse
// logins in the clear, and on loopback their certificates need no --ca.
// A server without TLS is used in plain text, silently on loopback.
func TestFTPGetTriesTLS(t *testing.T) {
	for _, tc := range []struct {
		name string
		peer func(t *testing.T) (url, root string)
	}{
		{"pyftpdlib TLS required", func(t *testing.T) (string, string) {
			p := startPyftpdlib(t, true)
			return p.url(""), p.root
		}},
		{"pyftpdlib without TLS", func(t *testing.T) (string, string) {
			p := startPyftpdlib(t, false)
			return p.url(""), p.root
		}},
		{"plumb serve, require_tls always", func(t *testing.T) (string, string) {
			s, home := startFTPServe(t, "require_tls = \"always\"\n")
			return "ftp://" + ftpUser + ":" + ftpPass + "@" + s.Addr(t, "ftp") + "/", home
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, root := tc.peer(t)
			os.WriteFile(filepath.Join(root, "tls.txt"), []byte("over TLS if offered\n"), 0o644)
			out, stderr, code := plumbRun(t, "", "get", "-o", "-", base+"tls.txt")
			if code != 0 || out != "over TLS if offered\n" || stderr != "" {
				t.Errorf("plumb get %stls.txt = exit %d, %q, stderr %q; want 0, the file, nothing on stderr", base, code, out, stderr)
			}
		})
	}
}
