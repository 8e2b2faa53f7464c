package httpfs

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/plumbnet/plumb/internal/testkit"
)

// userConn records the names set on it; it sits under a wrapper that
// exposes it only with NetConn, as crypto/tls's Conn does.
type userConn struct {
	net.Conn
	mu    *sync.Mutex
	names *[]string
}

func (c userConn) SetUser(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	*c.names = append(*c.names, name)
}

type wrapped struct{ net.Conn }

func (w wrapped) NetConn() net.Conn { return w.Conn }

type userListener struct {
	net.Listener
	mu    sync.Mutex
	names []string
}

func (l *userListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return wrapped{userConn{c, &l.mu, &l.names}}, nil
}

// TestUserConnToldOfLogins: the connection under the request hears the
// user of each request that logged in (to WebDAV, a home, or a mounted
// handler that calls LoggedIn), and nothing of those that did not log
// in or failed to.
func TestUserConnToldOfLogins(t *testing.T) {
	be := newTestBackend(t, t.TempDir(), map[string]string{"alice": "alice-pw", "bob": "bob-pw"})
	ln := &userListener{Listener: testkit.Listen(t)}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { LoggedIn(r, "carol") })
	addr := testkit.Serve(t, &Server{Backend: be, Handlers: map[string]http.Handler{"/api": api}}, ln)
	c := &http.Client{}
	for _, a := range []struct{ user, pass, path string }{{"", "", "/dav/"}, {"alice", "wrong", "/dav/"}, {"alice", "alice-pw", "/dav/"},
		{"bob", "nope", "/dav/"}, {"", "", "/"}, {"bob", "bob-pw", "/~bob/"}, {"", "", "/api"}} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+a.path, nil)
		if a.user != "" {
			req.SetBasicAuth(a.user, a.pass)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	ln.mu.Lock()
	defer ln.mu.Unlock()
	if got := strings.Join(ln.names, " "); got != "alice bob carol" {
		t.Errorf("SetUser calls = %q, want alice bob carol (the mounted handler's)", got)
	}
}
