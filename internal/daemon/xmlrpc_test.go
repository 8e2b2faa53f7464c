package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plumbnet/plumb/xmlrpc"
)

// rpcFixture starts a daemon with one line service, the operator root
// and the plain user bob, and serves its XML-RPC handler on loopback.
func rpcFixture(t *testing.T) (*Daemon, string) {
	t.Helper()
	c := testConfig(t)
	xmlrpcSection.of(c).Operators = []string{"root"}
	d := startTest(t, c, Service{Name: "line", Net: "tcp", Addr: "127.0.0.1:0", Stream: newLineServer()})
	t.Cleanup(func() { d.Close() })
	for _, u := range []string{"root", "bob"} {
		if err := d.Accounts().Add(u, u+"-password-1"); err != nil {
			t.Fatal(err)
		}
	}
	ts := httptest.NewServer(d.rpcHandler())
	t.Cleanup(ts.Close)
	return d, ts.URL + "/RPC2"
}

func withUser(url, user, pass string) string {
	return strings.Replace(url, "http://", "http://"+user+":"+pass+"@", 1)
}

func TestXMLRPCOperatorMethods(t *testing.T) {
	d, url := rpcFixture(t)
	conn, _ := dialLine(t, addrOf(t, d, "line"))
	defer conn.Close()
	c := &xmlrpc.Client{URL: withUser(url, "root", "root-password-1")}
	ctx := context.Background()
	var st struct {
		Started  any
		Services []struct {
			Name        string
			Addr        string
			Connections int
		}
	}
	if err := c.Call(ctx, "plumb.status", &st); err != nil {
		t.Fatalf("plumb.status: %v", err)
	}
	if len(st.Services) != 1 || st.Services[0].Name != "line" || st.Services[0].Addr != addrOf(t, d, "line") {
		t.Errorf("plumb.status services = %+v, want the line service at %s", st.Services, addrOf(t, d, "line"))
	}
	var conns map[string]int
	if err := c.Call(ctx, "plumb.connections", &conns); err != nil || conns["line"] != 1 || conns["total"] != 1 {
		t.Errorf("plumb.connections = %v, %v; want line 1, total 1", conns, err)
	}
	var users []struct {
		Name string
		APOP bool
	}
	if err := c.Call(ctx, "plumb.users", &users); err != nil || len(users) != 2 || users[0].Name != "bob" || users[1].Name != "root" {
		t.Errorf("plumb.users = %+v, %v; want bob and root", users, err)
	}
}

func TestXMLRPCOperatorGate(t *testing.T) {
	_, url := rpcFixture(t)
	ctx := context.Background()
	tests := []struct {
		name, url, want string
	}{
		{"no credentials", url, "401"},
		{"wrong password", withUser(url, "root", "nope-nope-1"), "401"},
		{"not an operator", withUser(url, "bob", "bob-password-1"), "403"},
	}
	for _, tt := range tests {
		c := &xmlrpc.Client{URL: tt.url}
		err := c.Call(ctx, "plumb.status", nil)
		var f *xmlrpc.Fault
		if err == nil || errors.As(err, &f) || !strings.Contains(err.Error(), "HTTP "+tt.want) {
			t.Errorf("%s: plumb.status = %v, want HTTP %s", tt.name, err, tt.want)
		}
	}
}

// TestXMLRPCOperatorGateOffLoopback: from afar, plain HTTP is refused
// before the password is looked at; over TLS the operator gets in.
func TestXMLRPCOperatorGateOffLoopback(t *testing.T) {
	d, _ := rpcFixture(t)
	h := d.rpcHandler()
	body := `<?xml version="1.0"?><methodCall><methodName>plumb.connections</methodName></methodCall>`
	for _, tt := range []struct {
		tls  bool
		want int
	}{{false, http.StatusForbidden}, {true, http.StatusOK}} {
		r := httptest.NewRequest("POST", "/RPC2", strings.NewReader(body))
		r.RemoteAddr = "192.0.2.7:40000"
		r.SetBasicAuth("root", "root-password-1")
		if tt.tls {
			r.TLS = &tls.ConnectionState{HandshakeComplete: true}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != tt.want || tt.tls && !strings.Contains(rec.Body.String(), "<name>total</name>") {
			t.Errorf("from 192.0.2.7, TLS %v: %d %s; want %d", tt.tls, rec.Code, rec.Body.String(), tt.want)
		}
	}
}

func TestXMLRPCConfigCheck(t *testing.T) {
	c := testConfig(t)
	xmlrpcSection.of(c).Operators = []string{"bad name!"}
	if err := c.validate(); err == nil || !strings.Contains(err.Error(), "xmlrpc.operators") {
		t.Errorf("validate with operator %q = %v, want an xmlrpc.operators error", "bad name!", err)
	}
}
