package interop

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/plumbnet/plumb/internal/testkit"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ftpServeConfig runs plumb serve with only FTP and FTPS, on free
// ports; ftpKeys go into the [ftp] section.
func ftpServeConfig(ftpKeys string) string {
	return `
[smtp]
enabled = false
[smtp.submission]
enabled = false
[smtp.submissions]
enabled = false
[pop3]
enabled = false
[pop3.pop3s]
enabled = false
[ftp]
addr = "127.0.0.1:0"
` + ftpKeys + `
[ftp.ftps]
addr = "127.0.0.1:0"
`
}

const (
	ftpUser = "alice"
	ftpPass = "alice-ftp-password"
)

// startFTPServe starts plumb serve with FTP ([ftp] keys ftpKeys), adds
// the account alice and returns the daemon and alice's home on disk.
func startFTPServe(t *testing.T, ftpKeys string) (*Serve, string) {
	t.Helper()
	s := startServe(t, ftpServeConfig(ftpKeys))
	if _, errs, code := plumbUser(t, s.Data, ftpPass+"\n", "add", ftpUser); code != 0 {
		t.Fatalf("plumb user add %s: exit %d: %s", ftpUser, code, errs)
	}
	home := filepath.Join(s.Data, "files", "home", ftpUser)
	if err := os.MkdirAll(home, 0o750); err != nil {
		t.Fatal(err)
	}
	return s, home
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// ftplibTour is what testdata/ftp_ftplib.py reports for "session".
type ftplibTour struct {
	Welcome     string                       `json:"welcome"`
	Pwd         string                       `json:"pwd"`
	Mkd         string                       `json:"mkd"`
	Pwd2        string                       `json:"pwd2"`
	Stor        string                       `json:"stor"`
	StorSeconds float64                      `json:"stor_seconds"`
	RetrSHA     string                       `json:"retr_sha256"`
	RetrBytes   int64                        `json:"retr_bytes"`
	RetrSeconds float64                      `json:"retr_seconds"`
	Size        int64                        `json:"size"`
	RestSHA     string                       `json:"rest_sha256"`
	RestBytes   int64                        `json:"rest_bytes"`
	Small       string                       `json:"small"`
	List        []string                     `json:"list"`
	Nlst        []string                     `json:"nlst"`
	MLSD        map[string]map[string]string `json:"mlsd"`
	Rename      string                       `json:"rename"`
	Delete      string                       `json:"delete"`
	Rmd         string                       `json:"rmd"`
	After       []string                     `json:"after"`
	Quit        string                       `json:"quit"`
}

func runFtplibTour(t *testing.T, kind string) {
	py := needPyModule(t, "ftplib")
	s, home := startFTPServe(t, "")
	data := randomBytes(t, 100<<20)
	big := filepath.Join(t.TempDir(), "big.bin")
	if err := os.WriteFile(big, data, 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(s.Addr(t, "ftp"), ":")
	out := run(t, 3*time.Minute, py, "-W", "ignore", "testdata/ftp_ftplib.py", "session", host, port, ftpUser, ftpPass,
		kind, big, filepath.Join(s.Data, "tls", "cert.pem"))
	var r ftplibTour
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("ftp_ftplib.py printed %q: %v", out, err)
	}
	const dir = "dir ü space"
	checks := []struct {
		what      string
		got, want any
	}{
		{"welcome", strings.HasPrefix(r.Welcome, "220 "), true},
		{"pwd", r.Pwd, "/"},
		{"mkd", r.Mkd, "/" + dir},
		{"pwd after cwd", r.Pwd2, "/" + dir},
		{"stor reply", r.Stor[:3], "226"},
		{"retr bytes", r.RetrBytes, int64(len(data))},
		{"retr sha256", r.RetrSHA, sha256Hex(data)},
		{"size", r.Size, int64(len(data))},
		{"rest bytes", r.RestBytes, int64(len(data) - 1000)},
		{"rest sha256", r.RestSHA, sha256Hex(data[1000:])},
		{"STOR+APPE+REST STOR", r.Small, "hello WORLD"},
		{"nlst", strings.Join(r.Nlst, "|"), "dir ü space|small.txt|日本語 ファイル.txt"},
		{"mlsd dir type", r.MLSD[dir]["type"], "dir"},
		{"mlsd file size", r.MLSD["small.txt"]["size"], "11"},
		{"mlsd utf-8 name", r.MLSD["日本語 ファイル.txt"]["type"], "file"},
		{"rename", r.Rename[:3], "250"},
		{"delete", r.Delete[:3], "250"},
		{"rmd", r.Rmd[:3], "250"},
		{"after", strings.Join(r.After, "|"), "日本語 ファイル.txt"},
		{"quit", r.Quit[:3], "221"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("ftplib %s %s = %v, want %v", kind, c.what, c.got, c.want)
		}
	}
	var listed bool
	for _, l := range r.List {
		if strings.HasPrefix(l, "d") && strings.HasSuffix(l, " "+dir) {
			listed = true
		}
	}
	if !listed {
		t.Errorf("ftplib %s LIST = %q, want a directory line for %q", kind, r.List, dir)
	}
	if b, err := os.ReadFile(filepath.Join(home, "日本語 ファイル.txt")); err != nil || string(b) != "x" {
		t.Errorf("the UTF-8 named upload on disk = %q, %v; want %q", b, err, "x")
	}
	mb := float64(len(data)) / (1 << 20)
	t.Logf("ftplib %s: 100 MiB STOR %.0f MiB/s, RETR %.0f MiB/s", kind, mb/r.StorSeconds, mb/r.RetrSeconds)
}

func TestFTPServerFtplib(t *testing.T)    { runFtplibTour(t, "PLAIN") }
func TestFTPServerFtplibTLS(t *testing.T) { runFtplibTour(t, "TLS") }

// Python's own FTP_TLS does not resume the control connection's TLS
// session on data connections, so require_session_reuse (the default)
// refuses its data connections; with it off the same client works.
func TestFTPServerFtplibTLSWithoutSessionReuse(t *testing.T) {
	py := needPyModule(t, "ftplib")
	for _, reuse := range []bool{true, false} {
		extra := ""
		if !reuse {
			extra = "require_session_reuse = false\n"
		}
		s, _ := startFTPServe(t, extra)
		host, port, _ := strings.Cut(s.Addr(t, "ftp"), ":")
		out := run(t, time.Minute, py, "-W", "ignore", "testdata/ftp_ftplib.py", "session", host, port, ftpUser, ftpPass,
			"TLS-STOCK", "-", filepath.Join(s.Data, "tls", "cert.pem"))
		var r struct{ Nlst string }
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("ftp_ftplib.py printed %q: %v", out, err)
		}
		if reuse && !strings.Contains(r.Nlst, "425") {
			t.Errorf("stock FTP_TLS NLST with require_session_reuse = %q, want a 425 refusal", r.Nlst)
		}
		if !reuse && r.Nlst != "ok" {
			t.Errorf("stock FTP_TLS NLST without require_session_reuse = %q, want ok", r.Nlst)
		}
	}
}

// curlFTP runs curl with a timeout and fails the test on an error.
func curlFTP(t *testing.T, args ...string) string {
	t.Helper()
	curl := need(t, "curl")
	return run(t, 2*time.Minute, curl, append([]string{"-sS", "--max-time", "110"}, args...)...)
}

func TestFTPServerCurl(t *testing.T) {
	s, home := startFTPServe(t, "")
	data := randomBytes(t, 8<<20)
	if err := os.WriteFile(filepath.Join(home, "data.bin"), data, 0o640); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(home, "sub dir"), 0o750)
	cert := filepath.Join(s.Data, "tls", "cert.pem")
	base := "ftp://" + ftpUser + ":" + ftpPass + "@" + s.Addr(t, "ftp") + "/"
	tmp := t.TempDir()
	local := filepath.Join(tmp, "local.bin")
	os.WriteFile(local, data, 0o600)
	check := func(what, file string, want []byte) {
		t.Helper()
		got, err := os.ReadFile(file)
		if err != nil || sha256Hex(got) != sha256Hex(want) {
			t.Errorf("curl %s: %s has %d bytes (err %v), want the %d sent (sha256 %s)", what, file, len(got), err, len(want), sha256Hex(want)[:12])
		}
	}

	// curl turns the CRLF of ASCII listings into LF.
	if out := curlFTP(t, base); !strings.Contains(out, " data.bin\n") || !strings.Contains(out, " sub dir\n") || !strings.HasPrefix(out, "-rw") && !strings.HasPrefix(out, "d") {
		t.Errorf("curl list = %q, want ls -l lines for data.bin and sub dir", out)
	}
	if out := curlFTP(t, "-l", base); out != "data.bin\r\nsub dir\r\n" && out != "data.bin\nsub dir\n" {
		t.Errorf("curl -l (NLST) = %q, want the two names", out)
	}

	dl := filepath.Join(tmp, "dl.bin")
	curlFTP(t, "-o", dl, base+"data.bin")
	check("download (EPSV)", dl, data)
	curlFTP(t, "--disable-epsv", "-o", dl, base+"data.bin")
	check("download (PASV)", dl, data)
	curlFTP(t, "-P", "127.0.0.1", "-o", dl, base+"data.bin")
	check("download (active, EPRT)", dl, data)
	curlFTP(t, "-P", "127.0.0.1", "--disable-eprt", "-o", dl, base+"data.bin")
	check("download (active, PORT)", dl, data)

	// Resumed download: the local file holds the first part.
	os.WriteFile(dl, data[:3<<20], 0o600)
	curlFTP(t, "-C", "-", "-o", dl, base+"data.bin")
	check("resumed download (-C -)", dl, data)

	curlFTP(t, "-T", local, base+"sub%20dir/up.bin")
	check("upload", filepath.Join(home, "sub dir", "up.bin"), data)
	curlFTP(t, "-P", "127.0.0.1", "-T", local, base+"up-active.bin")
	check("upload (active)", filepath.Join(home, "up-active.bin"), data)

	// Resumed upload: the server holds the first part.
	os.WriteFile(filepath.Join(home, "resume.bin"), data[:5<<20], 0o640)
	curlFTP(t, "-C", "-", "-T", local, base+"resume.bin")
	check("resumed upload (-C -)", filepath.Join(home, "resume.bin"), data)

	// Explicit FTPS (AUTH TLS, PROT P), with the daemon's certificate.
	curlFTP(t, "--ssl-reqd", "--cacert", cert, "-o", dl, base+"data.bin")
	check("explicit FTPS download", dl, data)
	curlFTP(t, "--ssl-reqd", "--cacert", cert, "-T", local, base+"tls-up.bin")
	check("explicit FTPS upload", filepath.Join(home, "tls-up.bin"), data)
	if out := curlFTP(t, "--ssl-reqd", "--cacert", cert, base); !strings.Contains(out, " tls-up.bin\n") {
		t.Errorf("explicit FTPS list = %q, want tls-up.bin", out)
	}
	curlFTP(t, "--ssl-reqd", "-k", "-o", dl, base+"data.bin")
	check("explicit FTPS download (-k)", dl, data)

	// Implicit FTPS.
	implicit := "ftps://" + ftpUser + ":" + ftpPass + "@" + s.Addr(t, "ftps") + "/"
	curlFTP(t, "--cacert", cert, "-o", dl, implicit+"data.bin")
	check("implicit FTPS download", dl, data)
	curlFTP(t, "--cacert", cert, "-T", local, implicit+"implicit-up.bin")
	check("implicit FTPS upload", filepath.Join(home, "implicit-up.bin"), data)

	// Anonymous: read-only area.
	os.WriteFile(filepath.Join(s.Data, "files", "anonymous", "pub.txt"), []byte("public\n"), 0o644)
	if out := curlFTP(t, "ftp://"+s.Addr(t, "ftp")+"/pub.txt"); out != "public\n" {
		t.Errorf("anonymous download = %q, want %q", out, "public\n")
	}
	curl := need(t, "curl")
	if out, err := exec.Command(curl, "-sS", "--max-time", "20", "-T", local, "ftp://"+s.Addr(t, "ftp")+"/x.bin").CombinedOutput(); err == nil {
		t.Errorf("anonymous upload succeeded: %s", out)
	}
	if _, err := os.Stat(filepath.Join(s.Data, "files", "anonymous", "x.bin")); err == nil {
		t.Error("anonymous upload left a file in the read-only area")
	}
}

func TestFTPServerAbuse(t *testing.T) {
	py := needPyModule(t, "ftplib")
	s, home := startFTPServe(t, "")
	os.Symlink(filepath.Join(s.Data, "accounts.toml"), filepath.Join(home, "escape"))
	os.Symlink("../../..", filepath.Join(home, "escape-dir"))
	host, port, _ := strings.Cut(s.Addr(t, "ftp"), ":")
	out := run(t, time.Minute, py, "-W", "ignore", "testdata/ftp_ftplib.py", "abuse", host, port, ftpUser, ftpPass)
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("ftp_ftplib.py printed %q: %v", out, err)
	}
	for key, want := range map[string]string{
		"port_third_party": "504", "eprt_third_party": "504", "long_line": "500",
		"retr_dotdot": "550", "retr_symlink": "550", "cwd_symlink": "550",
		"after_long_line": "200", "reset_reply": "426",
	} {
		if got, _ := r[key].(string); !strings.HasPrefix(got, want) {
			t.Errorf("ftplib %s = %q, want %s", key, got, want)
		}
	}
	if got := r["pwd_after_cdup"]; got != "/" {
		t.Errorf("PWD after CDUP from / = %v, want /", got)
	}
	// The symlinks lead outside the tree, so listings leave them out too.
	if got, _ := r["listing"].([]any); len(got) != 0 {
		t.Errorf("listing after a reset upload = %v, want nothing", got)
	}

	// A client killed mid-upload: nothing under the final name.
	run(t, time.Minute, py, "-W", "ignore", "testdata/ftp_ftplib.py", "killed", host, port, ftpUser, ftpPass)
	// The server notices the cut connection and removes the partial
	// upload's temporary file: wait for that, then nothing else is there.
	testkit.Eventually(t, 5*time.Second, "the home holding only the symlinks after uploads cut off", func() bool {
		ents, _ := os.ReadDir(home)
		for _, e := range ents {
			if e.Name() != "escape" && e.Name() != "escape-dir" {
				return false
			}
		}
		return true
	})
}

// After failed logins from one address, the next attempt is slowed
// by the account database's throttle, the one every protocol shares.
func TestFTPServerFailedLoginsSlowed(t *testing.T) {
	py := needPyModule(t, "ftplib")
	s, _ := startFTPServe(t, "")
	host, port, _ := strings.Cut(s.Addr(t, "ftp"), ":")
	out := run(t, 2*time.Minute, py, "-W", "ignore", "testdata/ftp_ftplib.py", "slowlogin", host, port, ftpUser, ftpPass, "6")
	var r struct {
		Failures int
		Login    string
		Seconds  float64
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("ftp_ftplib.py printed %q: %v", out, err)
	}
	if r.Failures != 6 || r.Login != "ok" {
		t.Fatalf("slowlogin = %+v, want 6 failures then a login", r)
	}
	if r.Seconds < 1.5 {
		t.Errorf("login after 6 failures took %.2fs, want at least 1.5s", r.Seconds)
	}
}

func TestFTPServerQuota(t *testing.T) {
	s, home := startFTPServe(t, "\n[files]\nquota_bytes = 1000000\nmax_file_bytes = 600000\n")
	tmp := t.TempDir()
	big, small := filepath.Join(tmp, "big"), filepath.Join(tmp, "small")
	// Far over max_file_bytes, so curl is still sending when the server
	// refuses: it must still hear the 552.
	os.WriteFile(big, randomBytes(t, 8<<20), 0o600)
	os.WriteFile(small, randomBytes(t, 550000), 0o600)
	base := "ftp://" + ftpUser + ":" + ftpPass + "@" + s.Addr(t, "ftp") + "/"
	curl := need(t, "curl")
	upload := func(file, name string) string {
		out, _ := exec.Command(curl, "-sS", "--max-time", "60", "-T", file, base+name).CombinedOutput()
		return string(out)
	}
	// curl reports a 552 reply as its error 70, "Exceeded storage allocation".
	if out := upload(big, "too-large.bin"); !strings.Contains(out, "(70)") {
		t.Errorf("upload over max_file_bytes: curl said %q, want a 552 reply", out)
	}
	if out := upload(small, "one.bin"); out != "" {
		t.Errorf("upload within quota: curl said %q", out)
	}
	if out := upload(small, "two.bin"); !strings.Contains(out, "(70)") {
		t.Errorf("upload over quota_bytes: curl said %q, want a 552 reply", out)
	}
	ents, _ := os.ReadDir(home)
	if len(ents) != 1 || ents[0].Name() != "one.bin" {
		t.Errorf("home after the quota tests holds %v, want only one.bin", ents)
	}
}

func TestFTPServerLftp(t *testing.T) {
	lftp := need(t, "lftp")
	s, home := startFTPServe(t, "")
	data := randomBytes(t, 4<<20)
	os.MkdirAll(filepath.Join(home, "tree", "sub"), 0o750)
	os.WriteFile(filepath.Join(home, "tree", "a.bin"), data, 0o640)
	os.WriteFile(filepath.Join(home, "tree", "sub", "b.txt"), []byte("bee\n"), 0o640)
	tmp := t.TempDir()
	local := filepath.Join(tmp, "local.bin")
	os.WriteFile(local, data, 0o600)
	cert := filepath.Join(s.Data, "tls", "cert.pem")
	for _, secure := range []bool{false, true} {
		settings := "set ftp:ssl-allow no; "
		if secure {
			settings = "set ftp:ssl-force true; set ftp:ssl-protect-data true; set ssl:ca-file " + cert + "; "
		}
		mirror := filepath.Join(tmp, "mirror")
		if secure {
			mirror += "-tls"
		}
		script := settings + "set net:max-retries 1; set net:timeout 20; " +
			"ls tree; mirror tree " + mirror + "; put " + local + " -o up.bin; mkdir made; rmdir made; " +
			"mv up.bin moved.bin; cls -1 --sort=name; rm moved.bin; bye"
		out := run(t, 2*time.Minute, lftp, "-u", ftpUser+","+ftpPass, "-e", script, "ftp://"+s.Addr(t, "ftp"))
		if !strings.Contains(out, " a.bin") || !strings.Contains(out, " sub") {
			t.Errorf("lftp (TLS %v) ls tree = %q, want a.bin and sub", secure, out)
		}
		if !strings.Contains(out, "moved.bin\n") {
			t.Errorf("lftp (TLS %v) cls after put and mv = %q, want moved.bin", secure, out)
		}
		if b, err := os.ReadFile(filepath.Join(mirror, "a.bin")); err != nil || sha256Hex(b) != sha256Hex(data) {
			t.Errorf("lftp (TLS %v) mirror: a.bin has %d bytes (%v), want the %d on the server", secure, len(b), err, len(data))
		}
		if b, err := os.ReadFile(filepath.Join(mirror, "sub", "b.txt")); err != nil || string(b) != "bee\n" {
			t.Errorf("lftp (TLS %v) mirror: sub/b.txt = %q (%v), want %q", secure, b, err, "bee\n")
		}
		if _, err := os.Stat(filepath.Join(home, "moved.bin")); err == nil {
			t.Errorf("lftp (TLS %v) rm moved.bin left the file", secure)
		}
	}
}

// Many small files over one curl session: curl stalls a second before
// connecting a data connection when the EPSV reply comes back faster
// than it looks for it, which a server must not provoke.
func TestFTPServerCurlManyFiles(t *testing.T) {
	curl := need(t, "curl")
	s, home := startFTPServe(t, "")
	os.Mkdir(filepath.Join(home, "small"), 0o750)
	var cfg strings.Builder
	out := t.TempDir()
	const n = 200
	for i := range n {
		os.WriteFile(filepath.Join(home, "small", fmt.Sprintf("f%d", i)), []byte(fmt.Sprint("file ", i)), 0o640)
		fmt.Fprintf(&cfg, "url = \"ftp://%s:%s@%s/small/f%d\"\noutput = \"%s/f%d\"\n", ftpUser, ftpPass, s.Addr(t, "ftp"), i, out, i)
	}
	cfgFile := filepath.Join(t.TempDir(), "curl.cfg")
	os.WriteFile(cfgFile, []byte(cfg.String()), 0o600)
	start := time.Now()
	run(t, 2*time.Minute, curl, "-sS", "-K", cfgFile)
	d := time.Since(start)
	t.Logf("curl fetched %d small files in %v", n, d)
	if d > 20*time.Second {
		t.Errorf("curl fetched %d small files in %v, want well under 20s", n, d)
	}
	for i := range n {
		if b, err := os.ReadFile(filepath.Join(out, fmt.Sprintf("f%d", i))); err != nil || string(b) != fmt.Sprint("file ", i) {
			t.Fatalf("file f%d = %q, %v; want %q", i, b, err, fmt.Sprint("file ", i))
		}
	}
}
