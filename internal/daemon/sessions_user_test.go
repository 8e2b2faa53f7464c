package daemon

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/plumbnet/plumb/ftp"
	"github.com/plumbnet/plumb/imap"
	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/testkit"
	"github.com/plumbnet/plumb/nntp"
	"github.com/plumbnet/plumb/pop3"
	"github.com/plumbnet/plumb/sasl"
	"github.com/plumbnet/plumb/smtp"
	"github.com/plumbnet/plumb/telnet"
)

// sessionsDaemon starts a daemon with FTP, POP3, IMAP, SMTP
// submission and NNTP on free ports and the account alice (password
// alice-password), and returns it with its services' addresses.
func sessionsDaemon(t *testing.T) (*Daemon, map[string]string) {
	t.Helper()
	cfg := testConfig(t)
	cfg.Admin.Enabled = false
	cfg.Accounts.FirstUser = ""
	for _, l := range cfg.listeners() {
		l.Enabled = false
	}
	f := ftpSection.of(cfg)
	f.Enabled, f.Addr = true, "127.0.0.1:0"
	p := pop3Section.of(cfg)
	p.Enabled, p.Addr = true, "127.0.0.1:0"
	i := imapSection.of(cfg)
	i.Enabled, i.Addr = true, "127.0.0.1:0"
	n := nntpSection.of(cfg)
	n.Enabled, n.Addr, n.Hostname = true, "127.0.0.1:0", "news.test"
	s := smtpSection.of(cfg)
	s.Submission.Enabled, s.Submission.Addr = true, "127.0.0.1:0"
	s.Hostname = "mx.test"
	db, err := accounts.OpenWith(filepath.Join(cfg.Data, accounts.FileName), accounts.Options{Cost: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Add("alice", "alice-password"); err != nil {
		t.Fatal(err)
	}
	d := New(cfg, slog.New(slog.DiscardHandler), io.Discard)
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	addrs := map[string]string{}
	for _, b := range d.Bound() {
		addrs[b.Name] = b.Addr
	}
	for _, n := range []string{"ftp", "pop3", "imap", "submission", "nntp"} {
		if addrs[n] == "" {
			t.Fatalf("Bound() = %v, want %s", d.Bound(), n)
		}
	}
	return d, addrs
}

// dialTCP connects to addr, closing the connection when the test ends.
func dialTCP(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// sessionOf returns the daemon's session of service whose peer is the
// client address local.
func sessionOf(d *Daemon, service string, local net.Addr) (SessionInfo, bool) {
	for _, s := range d.Sessions() {
		if s.Service == service && s.Peer == local.String() {
			return s, true
		}
	}
	return SessionInfo{}, false
}

// TestSessionsShowUser: a session shows no user before its login, the
// account's name after it, in Sessions, the console's sessions and the
// web console's list (the account's name, as FTP's USER ALICE shows), and is gone from the list when it ends, over each
// protocol family that logs in.
func TestSessionsShowUser(t *testing.T) {
	d, addrs := sessionsDaemon(t)
	ctx := context.Background()
	for _, tc := range []struct {
		service string
		// login dials and logs in as alice in the way of the protocol,
		// calling before once connected and not yet logged in; it
		// returns the connection's local address and how to end it.
		login func(t *testing.T, before func(net.Addr)) (net.Addr, func() error)
	}{
		{"ftp", func(t *testing.T, before func(net.Addr)) (net.Addr, func() error) {
			nc := dialTCP(t, addrs["ftp"])
			local := nc.LocalAddr()
			before(local)
			c, err := ftp.NewClient(nc)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Login("ALICE", "alice-password"); err != nil {
				t.Fatal(err)
			}
			return local, c.Quit
		}},
		{"pop3", func(t *testing.T, before func(net.Addr)) (net.Addr, func() error) {
			nc := dialTCP(t, addrs["pop3"])
			local := nc.LocalAddr()
			before(local)
			c, err := pop3.NewClient(nc)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Login("alice", "alice-password"); err != nil {
				t.Fatal(err)
			}
			return local, c.Quit
		}},
		{"imap", func(t *testing.T, before func(net.Addr)) (net.Addr, func() error) {
			nc := dialTCP(t, addrs["imap"])
			local := nc.LocalAddr()
			before(local)
			c, err := imap.NewClient(nc)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Login(ctx, "alice", "alice-password"); err != nil {
				t.Fatal(err)
			}
			return local, func() error { return c.Logout(ctx) }
		}},
		{"submission", func(t *testing.T, before func(net.Addr)) (net.Addr, func() error) {
			nc := dialTCP(t, addrs["submission"])
			local := nc.LocalAddr()
			before(local)
			c, err := smtp.NewClient(nc)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Auth(sasl.NewPlainClient("", "alice", "alice-password")); err != nil {
				t.Fatal(err)
			}
			return local, c.Quit
		}},
		{"nntp", func(t *testing.T, before func(net.Addr)) (net.Addr, func() error) {
			nc := dialTCP(t, addrs["nntp"])
			local := nc.LocalAddr()
			before(local)
			c, err := nntp.NewClient(nc)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Auth(ctx, "alice", "alice-password"); err != nil {
				t.Fatal(err)
			}
			return local, func() error { return c.Quit(ctx) }
		}},
	} {
		t.Run(tc.service, func(t *testing.T) {
			local, end := tc.login(t, func(local net.Addr) {
				testkit.Eventually(t, 5*time.Second, "the connection in the session list", func() bool {
					_, ok := sessionOf(d, tc.service, local)
					return ok
				})
				if s, _ := sessionOf(d, tc.service, local); s.User != "" {
					t.Errorf("session before the login shows user %q, want none", s.User)
				}
			})
			s, ok := sessionOf(d, tc.service, local)
			if !ok || s.User != "alice" {
				t.Fatalf("session after the login = %+v, %v; want user alice (the account's name)", s, ok)
			}
			var out bytes.Buffer
			if err := (&console{d: d}).sessions(&out, &telnet.Terminal{}, nil); err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(regexp.QuoteMeta(local.String()) + `\s+alice\s`).MatchString(out.String()) {
				t.Errorf("console sessions = %q, want %s with user alice", out.String(), local)
			}
			web, err := webOps{d}.Sessions(ctx)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, w := range web {
				found = found || w.ID == s.ID && w.User == "alice"
			}
			if !found {
				t.Errorf("web console sessions = %+v, want id %d with user alice", web, s.ID)
			}
			if err := end(); err != nil {
				t.Fatal(err)
			}
			testkit.Eventually(t, 5*time.Second, "the session gone from the list after it ends", func() bool {
				_, ok := sessionOf(d, tc.service, local)
				return !ok
			})
		})
	}
}

// TestSessionUserEnds: a login's end clears the user from a connection
// still open (FTP's REIN), but not one a later login on it has set.
func TestSessionUserEnds(t *testing.T) {
	d, addrs := sessionsDaemon(t)
	c := dialTCP(t, addrs["pop3"])
	local, remote := c.RemoteAddr(), c.LocalAddr() // as the server names them
	testkit.Eventually(t, 5*time.Second, "the connection tracked", func() bool {
		_, ok := sessionOf(d, "pop3", remote)
		return ok
	})
	p := d.Presence()
	endFirst := p.LoginConn("first", "pop3", local, remote)
	endSecond := p.LoginConn("second", "pop3", local, remote)
	endFirst()
	if s, _ := sessionOf(d, "pop3", remote); s.User != "second" {
		t.Errorf("after the first login's end the user is %q, want second", s.User)
	}
	endSecond()
	if s, _ := sessionOf(d, "pop3", remote); s.User != "" {
		t.Errorf("after the second login's end the user is %q, want none", s.User)
	}
	// A connection the daemon does not know is left alone.
	p.LoginConn("nobody", "pop3", remote, local)()
}

// TestTelnetSessionsShowUser: the operator console's sessions names the
// operator on their own telnet connection, and no one on one that has
// not logged in.
func TestTelnetSessionsShowUser(t *testing.T) {
	_, addr := telnetDaemon(t, nil)
	other := dialTelnet(t, addr)
	other.until("login: ")
	s := dialTelnet(t, addr)
	s.login("alice", "alice-password")
	s.until("plumb> ")
	out := s.cmd("sessions")
	me := regexp.MustCompile(regexp.QuoteMeta(s.c.Conn().LocalAddr().String()) + ` \(you\)\s+alice\s`)
	them := regexp.MustCompile(regexp.QuoteMeta(other.c.Conn().LocalAddr().String()) + `\s+-\s`)
	if !me.MatchString(out) || !them.MatchString(out) {
		t.Errorf("sessions = %q, want alice on ours and - on the one not logged in", out)
	}
}
