package interop

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/ftp"
)

// needServeModTimes skips (fails under PLUMB_INTEROP=require) when plumb
// serve's file store cannot set file times: MFMT answers 502 then.
func needServeModTimes(t *testing.T, s *Serve, home string) {
	t.Helper()
	os.WriteFile(filepath.Join(home, ".probe"), nil, 0o640)
	defer os.Remove(filepath.Join(home, ".probe"))
	c := dialServe(t, s)
	defer c.Quit()
	var fe *ftp.Error
	if err := c.SetModTime(".probe", time.Now()); errors.As(err, &fe) && fe.Code == 502 {
		if requirePeers() {
			t.Fatalf("plumb serve cannot set file times (MFMT = %v): internal/filestore's Tree needs Chtimes", err)
		}
		t.Skipf("plumb serve cannot set file times yet (MFMT = %v): internal/filestore's Tree needs Chtimes", err)
	}
}

// Our client sets file times on pyftpdlib and on plumb serve.
func TestFTPClientSetModTime(t *testing.T) {
	want := time.Date(2014, 3, 4, 5, 6, 7, 0, time.UTC)
	check := func(t *testing.T, c *ftp.Client, file string) {
		t.Helper()
		if err := c.SetModTime(filepath.Base(file), want); err != nil {
			t.Fatalf("SetModTime(%s) = %v", filepath.Base(file), err)
		}
		if fi, err := os.Stat(file); err != nil {
			t.Errorf("after SetModTime: %v", err)
		} else if !fi.ModTime().Equal(want) {
			t.Errorf("after SetModTime the file's time on disk = %v, want %v", fi.ModTime().UTC(), want)
		}
		if got, err := c.ModTime(filepath.Base(file)); err != nil || !got.Equal(want) {
			t.Errorf("ModTime after SetModTime = %v, %v; want %v", got, err, want)
		}
	}
	t.Run("pyftpdlib", func(t *testing.T) {
		p := startPyftpdlib(t, false)
		os.WriteFile(filepath.Join(p.root, "f.txt"), []byte("x"), 0o644)
		check(t, p.dial(t, false), filepath.Join(p.root, "f.txt"))
	})
	t.Run("plumb", func(t *testing.T) {
		s, home := startFTPServe(t, "")
		needServeModTimes(t, s, home)
		os.WriteFile(filepath.Join(home, "f.txt"), []byte("x"), 0o640)
		check(t, dialServe(t, s), filepath.Join(home, "f.txt"))
	})
}

// lftp's mirror -R keeps file times on plumb serve, with each way lftp
// has of setting them: MFMT (FEAT lists it), and without FEAT the
// 2-argument and the 5-argument SITE UTIME.
func TestFTPServerLftpMirrorKeepsTimes(t *testing.T) {
	lftp := need(t, "lftp")
	s, home := startFTPServe(t, "")
	needServeModTimes(t, s, home)
	local := t.TempDir()
	os.MkdirAll(filepath.Join(local, "sub dir"), 0o755)
	times := map[string]time.Time{
		"a.txt":         time.Date(2015, 6, 7, 8, 9, 10, 0, time.UTC),
		"sub dir/b.txt": time.Date(2016, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	for name, mt := range times {
		f := filepath.Join(local, name)
		os.WriteFile(f, []byte(name), 0o644)
		os.Chtimes(f, mt, mt)
	}
	for _, way := range []struct{ name, settings, sent string }{
		{"MFMT", "", "MFMT 2015"},
		{"SITE UTIME", "set ftp:use-feat no; ", "SITE UTIME 2015"},
		{"SITE UTIME 5 arguments", "set ftp:use-feat no; set ftp:use-site-utime2 no; ", " UTC"},
	} {
		t.Run(way.name, func(t *testing.T) {
			remote := strings.ReplaceAll(way.name, " ", "-")
			debug := filepath.Join(t.TempDir(), "lftp.log")
			script := "set ftp:ssl-allow no; set net:max-retries 1; set net:timeout 20; " + way.settings +
				"debug -o " + debug + "; mirror -R " + local + " " + remote + "; bye"
			run(t, 2*time.Minute, lftp, "-u", ftpUser+","+ftpPass, "-e", script, "ftp://"+s.Addr(t, "ftp"))
			log, _ := os.ReadFile(debug)
			if !strings.Contains(string(log), way.sent) {
				t.Errorf("lftp did not send %q to set the times; its log:\n%s", way.sent, log)
			}
			for name, mt := range times {
				fi, err := os.Stat(filepath.Join(home, remote, name))
				if err != nil {
					t.Errorf("after lftp mirror -R (%s): %v", way.name, err)
				} else if !fi.ModTime().Equal(mt) {
					t.Errorf("after lftp mirror -R (%s): %s has time %v, want %v", way.name, name, fi.ModTime().UTC(), mt)
				}
			}
		})
	}
}
