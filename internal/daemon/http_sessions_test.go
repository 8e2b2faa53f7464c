package daemon

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/testkit"
)

// startHTTPDaemonWith starts a daemon of cfg with the account alice
// (password pw-alice-123), and returns it with its services' addresses.
func startHTTPDaemonWith(t *testing.T, cfg *Config) (*Daemon, map[string]string) {
	t.Helper()
	db, err := accounts.OpenWith(filepath.Join(cfg.Data, accounts.FileName), accounts.Options{Cost: 4})
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
	t.Cleanup(func() { d.Close() })
	addrs := map[string]string{}
	for _, b := range d.Bound() {
		addrs[b.Name] = b.Addr
	}
	return d, addrs
}

// TestHTTPSessionsShowUser: an HTTP or HTTPS connection (HTTP/1.1 and
// HTTP/2) shows no user until a request on it logs in with Basic, then
// the account's name; a failed login neither sets it nor clears it,
// and an anonymous request after the login leaves it.
func TestHTTPSessionsShowUser(t *testing.T) {
	d, addrs := startHTTPDaemonWith(t, httpTestConfig(t))
	for _, tc := range []struct {
		name, service, url string
		h2                 bool
	}{
		{"http", "http", "http://" + addrs["http"], false},
		{"https", "https", "https://" + addrs["https"], false},
		{"h2", "https", "https://" + addrs["https"], true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// One connection for every request, whose address is local.
			var local atomic.Pointer[net.Addr]
			dials := 0
			tr := &http.Transport{
				TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
				ForceAttemptHTTP2: tc.h2,
				MaxConnsPerHost:   1,
				DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
					dials++
					c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
					if err == nil {
						a := c.LocalAddr()
						local.Store(&a)
					}
					return c, err
				},
			}
			t.Cleanup(tr.CloseIdleConnections)
			c := &http.Client{Transport: tr}
			get := func(path, user, pass string, want int) {
				t.Helper()
				req, err := http.NewRequest(http.MethodGet, tc.url+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				if user != "" {
					req.SetBasicAuth(user, pass)
				}
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Fatalf("GET %s as %q: %s, want %d", path, user, resp.Status, want)
				}
				if tc.h2 != (resp.ProtoMajor == 2) {
					t.Fatalf("GET %s: %s, want HTTP/2 %v", path, resp.Proto, tc.h2)
				}
			}
			user := func() string {
				t.Helper()
				s, ok := sessionOf(d, tc.service, *local.Load())
				if !ok {
					t.Fatalf("no %s session from %v in %+v", tc.service, *local.Load(), d.Sessions())
				}
				return s.User
			}

			get("/", "", "", http.StatusOK)
			if u := user(); u != "" {
				t.Errorf("after an anonymous request the user is %q, want none", u)
			}
			get("/dav/", "alice", "wrong-password", http.StatusUnauthorized)
			if u := user(); u != "" {
				t.Errorf("after a failed login the user is %q, want none", u)
			}
			get("/dav/", "Alice", "pw-alice-123", http.StatusOK) // GET of a collection lists it
			if u := user(); u != "alice" {
				t.Errorf("after a login the user is %q, want alice", u)
			}
			// finger sees the login: alice's last one, over this
			// service, and her session while the connection is open.
			if l, ok := d.Presence().Last("alice"); !ok || l.Protocol != tc.service || time.Since(l.Time) > time.Minute {
				t.Errorf("alice's last login: %+v %v, want one just now over %s", l, ok, tc.service)
			}
			if ss := d.Presence().Sessions("alice"); len(ss) != 1 || ss[0].protocol != tc.service {
				t.Errorf("alice's sessions: %+v, want one over %s", ss, tc.service)
			}
			get("/dav/", "alice", "wrong-password", http.StatusUnauthorized)
			get("/", "", "", http.StatusOK)
			if u := user(); u != "alice" {
				t.Errorf("after a failed login and an anonymous request the user is %q, want alice still", u)
			}
			if dials != 1 {
				t.Errorf("the requests took %d connections, want 1 (kept alive)", dials)
			}
			tr.CloseIdleConnections()
			testkit.Eventually(t, 5*time.Second, "the session gone when the connection closes", func() bool {
				_, ok := sessionOf(d, tc.service, *local.Load())
				return !ok && len(d.Presence().Sessions("alice")) == 0
			})
		})
	}
}

// TestHTTPSessionsShowConsoleAndRPCUser: the console and /RPC2 check
// Basic credentials themselves; a connection that logs in through
// either shows its user too.
func TestHTTPSessionsShowConsoleAndRPCUser(t *testing.T) {
	cfg := httpTestConfig(t)
	httpSection.of(cfg).Console = true
	d, addrs := startHTTPDaemonWith(t, cfg)
	for _, tc := range []struct {
		name, method, path string
		want               int
	}{
		{"console", http.MethodGet, "/console/", http.StatusOK},
		// alice is no operator: she logs in, then is refused the methods.
		{"rpc", http.MethodPost, "/RPC2", http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addrs["http"])
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			req, err := http.NewRequest(tc.method, "http://"+addrs["http"]+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.SetBasicAuth("alice", "pw-alice-123")
			if err := req.Write(c); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(c), req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("%s %s: %s, want %d", tc.method, tc.path, resp.Status, tc.want)
			}
			s, ok := sessionOf(d, "http", c.LocalAddr())
			if !ok || s.User != "alice" {
				t.Errorf("session after a login through %s: %+v (found %v), want user alice", tc.path, s, ok)
			}
		})
	}
}
