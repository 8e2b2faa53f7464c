package interop

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// docPython returns the ```python block of a doc file that holds marker.
func docPython(t *testing.T, doc, marker string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", doc))
	if err != nil {
		t.Fatal(err)
	}
	for _, block := range strings.Split(string(b), "```python\n")[1:] {
		code, _, _ := strings.Cut(block, "```")
		if strings.Contains(code, marker) {
			// The block is indented as a list item's; Python wants it flush.
			var out strings.Builder
			indent := len(code) - len(strings.TrimLeft(code, " "))
			for _, l := range strings.Split(code, "\n") {
				out.WriteString(strings.TrimPrefix(l, strings.Repeat(" ", indent)) + "\n")
			}
			return out.String()
		}
	}
	t.Fatalf("docs/%s has no python block with %q", doc, marker)
	return ""
}

// docs/SECURITY.md shows ftplib users how to make FTP_TLS resume the
// control connection's TLS session; the snippet, run as printed against
// plumb serve (require_session_reuse on), lists the directory.
func TestFTPSecurityDocFtplibSessionReuse(t *testing.T) {
	py := needPyModule(t, "ftplib")
	s, home := startFTPServe(t, "")
	os.WriteFile(filepath.Join(home, "listed.txt"), []byte("x"), 0o640)
	host, port, _ := strings.Cut(s.Addr(t, "ftp"), ":")
	code := docPython(t, "SECURITY.md", "class ReusingFTP_TLS")
	for old, new := range map[string]string{
		`"plumb-data/tls/cert.pem"`: strconv.Quote(filepath.Join(s.Data, "tls", "cert.pem")),
		`"localhost", 10021`:        strconv.Quote(host) + ", " + port,
		`"alice", "her password"`:   strconv.Quote(ftpUser) + ", " + strconv.Quote(ftpPass),
	} {
		if !strings.Contains(code, old) {
			t.Fatalf("the SECURITY.md snippet no longer has %s:\n%s", old, code)
		}
		code = strings.ReplaceAll(code, old, new)
	}
	script := filepath.Join(t.TempDir(), "reuse.py")
	os.WriteFile(script, []byte(code), 0o600)
	if out := run(t, time.Minute, py, "-W", "ignore", script); !strings.Contains(out, "listed.txt") {
		t.Errorf("the SECURITY.md ftplib snippet printed %q, want a listing with listed.txt", out)
	}
}
