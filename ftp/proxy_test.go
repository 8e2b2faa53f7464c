package ftp

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// proxiedConn is a connection as go-proxyproto hands it over: the
// addresses of the PROXY header, and Raw for the socket beneath.
type proxiedConn struct {
	net.Conn
	local net.Addr
}

func (c proxiedConn) LocalAddr() net.Addr { return c.local }
func (c proxiedConn) Raw() net.Conn       { return c.Conn }

// viaBalancer says c was made to the balancer's 203.0.113.9:21.
func viaBalancer(c net.Conn) net.Conn {
	return proxiedConn{c, &net.TCPAddr{IP: net.IPv4(203, 0, 113, 9), Port: 21}}
}

// pasvTarget parses a 227 reply into the address it advertises.
func pasvTarget(t *testing.T, msg string) (ip string, port int) {
	t.Helper()
	var h [6]int
	i := strings.Index(msg, "(")
	if _, err := fmt.Sscanf(msg[i+1:], "%d,%d,%d,%d,%d,%d", &h[0], &h[1], &h[2], &h[3], &h[4], &h[5]); err != nil {
		t.Fatalf("PASV reply %q: %v", msg, err)
	}
	return fmt.Sprintf("%d.%d.%d.%d", h[0], h[1], h[2], h[3]), h[4]<<8 | h[5]
}

// Behind a PROXY-protocol balancer, passive listeners bind the server's
// own socket address and PASV advertises PassiveAddress (or that socket
// address), never the header's destination.
func TestPassiveBehindProxyProtocol(t *testing.T) {
	for _, public := range []string{"", "198.51.100.4"} {
		t.Run("PassiveAddress="+public, func(t *testing.T) {
			ts := startServerWith(t, func(s *Server) {
				if public != "" {
					s.PassiveAddress = mustAddr(public)
				}
			}, func(s *Server, ln net.Listener) error {
				return s.Serve(testkit.Listener{Listener: ln, Wrap: viaBalancer})
			})
			ts.home.WriteFile("a.txt", []byte("through the balancer"))
			c := dialT(t, ts.addr)
			c.login("alice", "secret")
			if got := c.retr("RETR a.txt"); got != "through the balancer" {
				t.Fatalf("EPSV RETR behind PROXY = %q, want %q", got, "through the balancer")
			}
			ip, port := pasvTarget(t, c.Do("PASV", 227))
			want := public
			if want == "" {
				want = "127.0.0.1"
			}
			if ip != want {
				t.Fatalf("PASV behind PROXY advertises %s, want %s (not the header's 203.0.113.9)", ip, want)
			}
			d, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
			if err != nil {
				t.Fatalf("connecting to the PASV port on the server's own address: %v", err)
			}
			c.Do("RETR a.txt", 150)
			got, _ := io.ReadAll(d)
			d.Close()
			if code, msg := c.Reply(); code != 226 || string(got) != "through the balancer" {
				t.Fatalf("PASV RETR behind PROXY = %d %q %q, want 226", code, msg, got)
			}
			// Active mode connects from the server's own address.
			if _, code, msg := c.activeRetr("RETR a.txt"); code != 226 {
				t.Fatalf("active RETR behind PROXY = %d %q, want 226", code, msg)
			}
		})
	}
}
