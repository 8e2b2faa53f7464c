package daemon

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/ftp"
	"github.com/plumbnet/plumb/internal/accounts"
)

func TestParsePortRange(t *testing.T) {
	for in, want := range map[string][2]int{"": {0, 0}, "30000-30999": {30000, 30999}, " 2000 - 2000 ": {2000, 2000}} {
		lo, hi, err := parsePortRange(in)
		if err != nil || lo != want[0] || hi != want[1] {
			t.Errorf("parsePortRange(%q) = %d, %d, %v; want %v", in, lo, hi, err, want)
		}
	}
	for _, bad := range []string{"30000", "5-10", "3000-2000", "1024-70000", "a-b"} {
		if _, _, err := parsePortRange(bad); err == nil {
			t.Errorf("parsePortRange(%q) accepted", bad)
		}
	}
}

// ftpTestConfig is the default config with only FTP and FTPS, on free ports.
func ftpTestConfig(t *testing.T) *Config {
	cfg := DefaultConfig()
	cfg.Data = t.TempDir()
	cfg.Admin.Enabled = false
	cfg.Accounts.FirstUser = ""
	for _, l := range cfg.listeners() {
		l.Enabled = false
	}
	f := ftpSection.of(cfg)
	f.Enabled, f.Addr = true, "127.0.0.1:0"
	f.FTPS.Enabled, f.FTPS.Addr = true, "127.0.0.1:0"
	return cfg
}

func TestFTPConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		edit func(*FTPConfig)
		want string
	}{
		{func(c *FTPConfig) { c.PassivePorts = "1-2" }, "ftp.passive_ports"},
		{func(c *FTPConfig) { c.PassiveAddress = "::1" }, "ftp.passive_address"},
		{func(c *FTPConfig) { c.PassiveAddress = "example.org" }, "ftp.passive_address"},
		{func(c *FTPConfig) { c.RequireTLS = "sometimes" }, "ftp.require_tls"},
		{func(c *FTPConfig) { c.FTPS.Addr = "nowhere" }, "ftp.ftps.addr"},
	} {
		cfg := ftpTestConfig(t)
		tc.edit(ftpSection.of(cfg))
		d := New(cfg, slog.New(slog.DiscardHandler), io.Discard)
		err := d.Start(context.Background())
		if err == nil {
			d.Shutdown(context.Background())
			t.Errorf("Start with a bad [ftp] section succeeded, want an error naming %s", tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Start error = %q, want it to name %s", err, tc.want)
		}
	}
}

// startFTPDaemon starts a daemon of cfg with the account alice
// (password pw-alice-123) and returns the addresses of ftp and ftps.
func startFTPDaemon(t *testing.T, cfg *Config) map[string]string {
	t.Helper()
	db, err := accounts.Open(filepath.Join(cfg.Data, accounts.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Add("alice", "pw-alice-123"); err != nil {
		t.Fatal(err)
	}
	d := New(cfg, slog.New(slog.DiscardHandler), io.Discard)
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d.Shutdown(ctx)
	})
	addrs := map[string]string{}
	for _, b := range d.Bound() {
		addrs[b.Name] = b.Addr
	}
	if addrs["ftp"] == "" || addrs["ftps"] == "" {
		t.Fatalf("Bound() = %v, want ftp and ftps", d.Bound())
	}
	return addrs
}

func TestFTPServiceOverFileStore(t *testing.T) {
	cfg := ftpTestConfig(t)
	cfg.Files.Quota = 1 << 20
	os.MkdirAll(filepath.Join(cfg.Data, "files", "anonymous"), 0o750)
	os.WriteFile(filepath.Join(cfg.Data, "files", "anonymous", "pub.txt"), []byte("public"), 0o640)
	addrs := startFTPDaemon(t, cfg)

	c, err := ftp.Dial(context.Background(), addrs["ftp"])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("alice", "wrong"); err == nil {
		t.Fatal("Login with a wrong password succeeded")
	}
	if err := c.Login("alice", "pw-alice-123"); err != nil {
		t.Fatalf("Login: %v", err)
	}
	if _, err := c.Stor("a.txt", strings.NewReader("stored")); err != nil {
		t.Fatalf("Stor(a.txt): %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(cfg.Data, "files", "home", "alice", "a.txt")); err != nil || string(b) != "stored" {
		t.Fatalf("a.txt on disk = %q, %v; want %q", b, err, "stored")
	}
	var buf bytes.Buffer
	if _, err := c.Retr("a.txt", &buf); err != nil || buf.String() != "stored" {
		t.Fatalf("Retr(a.txt) = %q, %v; want %q", buf.String(), err, "stored")
	}
	mtime := time.Date(2014, 3, 4, 5, 6, 7, 0, time.UTC)
	if err := c.SetModTime("a.txt", mtime); err != nil {
		t.Fatalf("SetModTime(a.txt) = %v, want nil", err)
	}
	if fi, err := os.Stat(filepath.Join(cfg.Data, "files", "home", "alice", "a.txt")); err != nil || !fi.ModTime().Equal(mtime) {
		t.Fatalf("a.txt's time on disk after SetModTime = %v, %v; want %v", fi.ModTime(), err, mtime)
	}
	// Large enough that the server aborts the data connection while the
	// client still writes: the 552 on the control connection must win.
	_, err = c.Stor("big", bytes.NewReader(make([]byte, 64<<20)))
	var fe *ftp.Error
	if !errors.As(err, &fe) || fe.Code != 552 {
		t.Fatalf("Stor over quota: err = %v, want a 552 reply", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.Data, "files", "home", "alice", "big")); err == nil {
		t.Fatal("an over-quota upload left a file")
	}

	anon, err := ftp.Dial(context.Background(), addrs["ftp"])
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	if err := anon.Login("anonymous", "guest"); err != nil {
		t.Fatalf("anonymous Login: %v", err)
	}
	buf.Reset()
	if _, err := anon.Retr("pub.txt", &buf); err != nil || buf.String() != "public" {
		t.Fatalf("anonymous Retr(pub.txt) = %q, %v; want %q", buf.String(), err, "public")
	}
	if _, err := anon.Stor("x", strings.NewReader("x")); !errors.As(err, &fe) || fe.Code != 550 {
		t.Fatalf("anonymous Stor: err = %v, want a 550 reply", err)
	}
}

// TestFTPDataConnsUnderLimits: data connections count against the
// limits on open connections, with their control connection's client,
// but spend no accept_rate_per_ip token.
func TestFTPDataConnsUnderLimits(t *testing.T) {
	t.Run("accept rate", func(t *testing.T) {
		cfg := ftpTestConfig(t)
		cfg.Limits.AcceptRate = 1 // a burst of 2: the control connection and one more
		addrs := startFTPDaemon(t, cfg)
		c, err := ftp.Dial(context.Background(), addrs["ftp"])
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Login("alice", "pw-alice-123"); err != nil {
			t.Fatalf("Login: %v", err)
		}
		for i := range 5 {
			if _, err := c.Stor("a.txt", strings.NewReader("x")); err != nil {
				t.Fatalf("Stor(a.txt) #%d under accept_rate_per_ip = 1 = %v, want nil (data connections spend no token)", i+1, err)
			}
		}
	})
	t.Run("max_conns_per_ip", func(t *testing.T) {
		cfg := ftpTestConfig(t)
		cfg.Limits.MaxConnsPerIP = 1 // the control connection only
		addrs := startFTPDaemon(t, cfg)
		c, err := ftp.Dial(context.Background(), addrs["ftp"])
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Login("alice", "pw-alice-123"); err != nil {
			t.Fatalf("Login: %v", err)
		}
		var fe *ftp.Error
		if _, err := c.Stor("a.txt", strings.NewReader("x")); !errors.As(err, &fe) || fe.Code != 425 {
			t.Fatalf("Stor(a.txt) under max_conns_per_ip = 1 = %v, want a 425 reply", err)
		}
	})
}
