package interop

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plumbnet/plumb/ftp"
	"github.com/plumbnet/plumb/internal/testkit"
)

// ftpPeer is an independent FTP server started by a test.
type ftpPeer struct {
	addr       string
	user, pass string
	root       string // the server's root directory on disk
	upload     string // a directory, relative to the root, the user may write in
	tls        *tls.Config
	implicit   bool   // TLS from the first byte (FTPS)
	certFile   string // the server's certificate, for plumb --ca
}

// peerCert writes testkit's certificate and key into dir for a peer
// server, and returns the file names and a client config that trusts it.
func peerCert(t *testing.T, dir string) (certFile, keyFile string, cfg *tls.Config) {
	t.Helper()
	certFile, keyFile = testkit.TLSFiles(t, dir)
	_, cfg = testkit.TLS(t)
	return certFile, keyFile, cfg
}

// startPeerProcess starts a peer server in its own process group and
// kills that group when the test ends.
func startPeerProcess(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("peer %s did not exit", cmd.Path)
		}
	})
}

// startPyftpdlib runs pyftpdlib with a user and password, with AUTH TLS
// required when withTLS is set.
func startPyftpdlib(t *testing.T, withTLS bool) *ftpPeer {
	t.Helper()
	py := needPyModule(t, "pyftpdlib")
	p := &ftpPeer{user: "alice", pass: "s3cret pass", root: t.TempDir()}
	args := []string{"-W", "ignore", "testdata/ftp_client_pyftpdlib.py", p.root, p.user, p.pass}
	if withTLS {
		needPyModule(t, "OpenSSL")
		var kf string
		p.certFile, kf, p.tls = peerCert(t, t.TempDir())
		args = append(args, p.certFile, kf)
	}
	cmd := exec.Command(py, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	startPeerProcess(t, cmd)
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		io.Copy(io.Discard, out)
	}()
	select {
	case l := <-line:
		var port int
		if _, err := fmt.Sscanf(l, "PORT %d", &port); err != nil {
			t.Fatalf("pyftpdlib said %q, want PORT n; stderr: %s", l, stderr.String())
		}
		p.addr = fmt.Sprintf("127.0.0.1:%d", port)
	case <-time.After(20 * time.Second):
		t.Fatal("pyftpdlib did not start in 20s")
	}
	return p
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startVsftpd runs vsftpd with anonymous access to a root owned by root
// and an "upload" directory owned by the ftp user, where anonymous may
// write, rename and delete. withTLS requires TLS for everything and
// data connections that reuse the control connection's TLS session.
func startVsftpd(t *testing.T, withTLS bool) *ftpPeer { return startVsftpdMode(t, withTLS, false) }

// startVsftpdMode is startVsftpd, with implicit TLS (FTPS from the first byte) when implicit is set.
func startVsftpdMode(t *testing.T, withTLS, implicit bool) *ftpPeer {
	t.Helper()
	bin := need(t, "vsftpd")
	if os.Geteuid() != 0 {
		if requirePeers() {
			t.Fatal("vsftpd needs root to run (PLUMB_INTEROP=require)")
		}
		t.Skip("vsftpd needs root to run")
	}
	ftpUser, err := exec.Command("id", "-u", "ftp").Output()
	if err != nil {
		t.Skip("no ftp system user for vsftpd's anonymous login")
	}
	var uid int
	fmt.Sscan(string(ftpUser), &uid)
	dir := t.TempDir()
	p := &ftpPeer{user: "anonymous", pass: "plumb@example.org", root: filepath.Join(dir, "root"), upload: "upload"}
	empty := filepath.Join(dir, "empty")
	for _, d := range []string{p.root, empty, filepath.Join(p.root, "upload")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(filepath.Join(p.root, "upload"), uid, -1); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	p.addr = fmt.Sprintf("127.0.0.1:%d", port)
	conf := fmt.Sprintf(`listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=%d
background=NO
seccomp_sandbox=NO
secure_chroot_dir=%s
anonymous_enable=YES
local_enable=NO
no_anon_password=YES
anon_root=%s
write_enable=YES
anon_upload_enable=YES
anon_mkdir_write_enable=YES
anon_other_write_enable=YES
anon_world_readable_only=NO
anon_umask=022
connect_from_port_20=NO
pasv_enable=YES
port_enable=YES
utf8_filesystem=YES
xferlog_enable=NO
vsftpd_log_file=%s
`, port, empty, p.root, filepath.Join(dir, "vsftpd.log"))
	if withTLS {
		var cf, kf string
		cf, kf, p.tls = peerCert(t, dir)
		p.certFile = cf
		conf += fmt.Sprintf(`ssl_enable=YES
allow_anon_ssl=YES
force_anon_logins_ssl=YES
force_anon_data_ssl=YES
require_ssl_reuse=YES
rsa_cert_file=%s
rsa_private_key_file=%s
`, cf, kf)
		if implicit {
			conf += "implicit_ssl=YES\n"
		}
	}
	cfgFile := filepath.Join(dir, "vsftpd.conf")
	if err := os.WriteFile(cfgFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, cfgFile)
	cmd.Stderr, cmd.Stdout = &stderr, &stderr
	startPeerProcess(t, cmd)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", p.addr, time.Second)
		if err == nil {
			c.Close()
			if implicit {
				p.implicit = true
			}
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("vsftpd did not listen on %s: %v; output: %s", p.addr, err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dial connects and logs in to the peer, over AUTH TLS when it has a certificate.
func (p *ftpPeer) dial(t *testing.T, active bool) *ftp.Client {
	t.Helper()
	d := ftp.Dialer{Timeout: 10 * time.Second, Active: active, TLSConfig: p.tls}
	dial := d.Dial
	if p.implicit {
		dial = d.DialTLS
	}
	c, err := dial(context.Background(), p.addr)
	if err != nil {
		t.Fatalf("Dial(%s): %v", p.addr, err)
	}
	t.Cleanup(func() { c.Close() })
	if p.tls != nil && !p.implicit {
		if err := c.AuthTLS(p.tls); err != nil {
			t.Fatalf("AuthTLS: %v", err)
		}
	}
	if err := c.Login(p.user, p.pass); err != nil {
		t.Fatalf("Login(%q): %v", p.user, err)
	}
	return c
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// exerciseFTPClient runs every client operation against a peer and
// checks both what the client reports and what lands on the peer's disk.
func exerciseFTPClient(t *testing.T, p *ftpPeer) {
	c := p.dial(t, false)
	if p.upload != "" {
		if err := c.Cwd(p.upload); err != nil {
			t.Fatalf("Cwd(%q): %v", p.upload, err)
		}
	}
	base, err := c.Pwd()
	if err != nil {
		t.Fatalf("Pwd(): %v", err)
	}
	disk := filepath.Join(p.root, p.upload)

	const dir = "sub dir ü"
	if _, err := c.MakeDir(dir); err != nil {
		t.Fatalf("MakeDir(%q): %v", dir, err)
	}
	if err := c.Cwd(dir); err != nil {
		t.Fatalf("Cwd(%q): %v", dir, err)
	}
	if got, err := c.Pwd(); err != nil || got != strings.TrimSuffix(base, "/")+"/"+dir {
		t.Fatalf("Pwd() = %q, %v, want %q", got, err, strings.TrimSuffix(base, "/")+"/"+dir)
	}
	disk = filepath.Join(disk, dir)

	// Upload, check on disk, size, time, download.
	const name = "a file ü.bin"
	data := randomBytes(t, 3<<20+17)
	if n, err := c.Stor(name, bytes.NewReader(data)); err != nil || n != int64(len(data)) {
		t.Fatalf("Stor(%q) = %d, %v, want %d", name, n, err, len(data))
	}
	if got, err := os.ReadFile(filepath.Join(disk, name)); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("file stored by Stor(%q): %d bytes, %v; want the %d bytes sent", name, len(got), err, len(data))
	}
	if n, err := c.Size(name); err != nil || n != int64(len(data)) {
		t.Errorf("Size(%q) = %d, %v, want %d", name, n, err, len(data))
	}
	if mt, err := c.ModTime(name); err != nil || time.Since(mt).Abs() > 10*time.Minute {
		t.Errorf("ModTime(%q) = %v, %v, want about now", name, mt, err)
	}
	var got bytes.Buffer
	if n, err := c.Retr(name, &got); err != nil || n != int64(len(data)) || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("Retr(%q) = %d, %v, content equal %v; want %d bytes, equal", name, n, err, bytes.Equal(got.Bytes(), data), len(data))
	}
	got.Reset()
	const off = 1<<20 + 3
	if n, err := c.RetrFrom(name, &got, off); err != nil || !bytes.Equal(got.Bytes(), data[off:]) {
		t.Fatalf("RetrFrom(%q, %d) = %d, %v; want the last %d bytes", name, off, n, err, len(data)-off)
	}

	// Resumed upload and append.
	const part = "part.bin"
	if _, err := c.Stor(part, bytes.NewReader(data[:off])); err != nil {
		t.Fatalf("Stor(%q): %v", part, err)
	}
	if _, err := c.StorFrom(part, bytes.NewReader(data[off:2*off]), off); err != nil {
		t.Fatalf("StorFrom(%q, %d): %v", part, off, err)
	}
	if _, err := c.Append(part, bytes.NewReader(data[2*off:])); err != nil {
		t.Fatalf("Append(%q): %v", part, err)
	}
	if b, err := os.ReadFile(filepath.Join(disk, part)); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("after Stor, StorFrom, Append: %q has %d bytes, %v; want the %d bytes sent", part, len(b), err, len(data))
	}

	// Listings.
	entries, err := c.List("")
	if err != nil {
		t.Fatalf("List(): %v", err)
	}
	checkEntries(t, "List", entries, name, int64(len(data)))
	entries, err = c.ReadDir("")
	if err != nil {
		t.Fatalf("ReadDir(): %v", err)
	}
	checkEntries(t, "ReadDir", entries, name, int64(len(data)))
	names, err := c.NameList("")
	if err != nil || !slices.Contains(names, name) || !slices.Contains(names, part) {
		t.Errorf("NameList() = %q, %v; want %q and %q in it", names, err, name, part)
	}

	// Active mode and ASCII type.
	c.SetActive(true)
	got.Reset()
	if _, err := c.Retr(part, &got); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("active Retr(%q): %d bytes, %v; want %d bytes, equal", part, got.Len(), err, len(data))
	}
	if names, err := c.NameList(""); err != nil || !slices.Contains(names, part) {
		t.Errorf("active NameList() = %q, %v; want %q in it", names, err, part)
	}
	c.SetActive(false)
	text := "line one\nline two ü\n\nend\n"
	if err := c.SetASCII(true); err != nil {
		t.Fatalf("SetASCII(true): %v", err)
	}
	if _, err := c.Stor("text.txt", strings.NewReader(text)); err != nil {
		t.Fatalf("ASCII Stor(text.txt): %v", err)
	}
	got.Reset()
	if _, err := c.Retr("text.txt", &got); err != nil || got.String() != text {
		t.Errorf("ASCII Retr(text.txt) = %q, %v, want %q", got.String(), err, text)
	}
	if err := c.SetASCII(false); err != nil {
		t.Fatalf("SetASCII(false): %v", err)
	}

	// Rename, delete, remove the directory.
	if err := c.Rename(name, "renamed.bin"); err != nil {
		t.Fatalf("Rename(%q, renamed.bin): %v", name, err)
	}
	if _, err := os.Stat(filepath.Join(disk, "renamed.bin")); err != nil {
		t.Errorf("after Rename: %v", err)
	}
	var ferr *ftp.Error
	if _, err := c.Size(name); !errors.As(err, &ferr) || ferr.Code != 550 {
		t.Errorf("Size(%q) after rename: %v, want a 550 *ftp.Error", name, err)
	}
	for _, f := range []string{"renamed.bin", part, "text.txt"} {
		if err := c.Delete(f); err != nil {
			t.Fatalf("Delete(%q): %v", f, err)
		}
	}
	if err := c.CdUp(); err != nil {
		t.Fatalf("CdUp(): %v", err)
	}
	if err := c.RemoveDir(dir); err != nil {
		t.Fatalf("RemoveDir(%q): %v", dir, err)
	}
	if _, err := os.Stat(disk); !os.IsNotExist(err) {
		t.Errorf("after RemoveDir(%q): stat says %v, want not exist", dir, err)
	}
	if err := c.Cwd("no such dir"); !errors.As(err, &ferr) || ferr.Code/100 != 5 {
		t.Errorf("Cwd(no such dir) = %v, want a 5xx *ftp.Error", err)
	}
	if err := c.Delete("x\r\nDELE y"); !errors.Is(err, ftp.ErrBadArgument) {
		t.Errorf("Delete with CRLF = %v, want ErrBadArgument", err)
	}
	if err := c.NoOp(); err != nil {
		t.Errorf("NoOp() after the refused argument: %v", err)
	}
	if err := c.Quit(); err != nil {
		t.Errorf("Quit(): %v", err)
	}
}

func checkEntries(t *testing.T, op string, entries []*ftp.Entry, name string, size int64) {
	t.Helper()
	for _, e := range entries {
		if e.Name == name {
			if e.Type != ftp.EntryFile || e.Size != size || e.ModTime.IsZero() {
				t.Errorf("%s: entry %q = type %v size %d time %v, want file of %d bytes with a time", op, name, e.Type, e.Size, e.ModTime, size)
			}
			return
		}
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name)
	}
	t.Errorf("%s: names %q, want %q among them", op, got, name)
}

func TestFTPClientPyftpdlib(t *testing.T) {
	exerciseFTPClient(t, startPyftpdlib(t, false))
}

func TestFTPClientPyftpdlibTLS(t *testing.T) {
	exerciseFTPClient(t, startPyftpdlib(t, true))
}

func TestFTPClientVsftpd(t *testing.T) {
	exerciseFTPClient(t, startVsftpd(t, false))
}

// TestFTPClientVsftpdTLS passes only if data connections resume the
// control connection's TLS session: vsftpd runs with require_ssl_reuse.
func TestFTPClientVsftpdTLS(t *testing.T) {
	exerciseFTPClient(t, startVsftpd(t, true))
}

func TestFTPClientVsftpdImplicitTLS(t *testing.T) {
	exerciseFTPClient(t, startVsftpdMode(t, true, true))
}
