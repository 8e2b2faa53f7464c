package interop

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestWebAdminAPIFromPythonUrllib drives the admin REST API from a
// Python script that uses only the standard library (urllib, smtplib),
// as a user's test would: send a mail over SMTP, wait for it with
// /api/wait, read its text, mark it seen, delete it, upload a file and
// read it back. The daemon's stores are then checked from here.
func TestWebAdminAPIFromPythonUrllib(t *testing.T) {
	py := needPyModule(t, "urllib.request")
	s := startServe(t, "")
	if _, errs, code := plumbUser(t, s.Data, "alice-password\n", "add", "alice"); code != 0 {
		t.Fatalf("plumb user add alice: exit %d: %s", code, errs)
	}
	host, port, _ := net.SplitHostPort(s.Addr(t, "smtp"))
	cmd := exec.Command(py, "-W", "ignore", filepath.Join("testdata", "webadmin_api.py"), "http://"+s.Addr(t, "admin"), host, port)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil || strings.TrimSpace(out.String()) != "ok" {
		t.Fatalf("python: %v\n%s\ndaemon:\n%s", err, out.String(), s.Stderr())
	}
	b, err := os.ReadFile(filepath.Join(s.Data, "files", "anonymous", "py", "report.bin"))
	if err != nil || len(b) != 256*40 || b[255] != 255 {
		t.Errorf("the uploaded file on disk: %d bytes, %v", len(b), err)
	}
	for _, sub := range []string{"new", "cur"} {
		ents, _ := os.ReadDir(filepath.Join(s.Data, "mail", "alice", sub))
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), ".") {
				t.Errorf("alice's inbox still holds %s/%s after the API deleted it", sub, e.Name())
			}
		}
	}
}
