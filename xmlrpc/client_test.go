package xmlrpc

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// hostile serves a fixed response body to every request.
func hostile(t *testing.T, status int, body string) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestClientLimits(t *testing.T) {
	ctx := context.Background()
	deep := "<methodResponse><params><param>" + strings.Repeat("<value><array><data>", 50) + strings.Repeat("</data></array></value>", 50) + "</param></params></methodResponse>"
	big := "<methodResponse><params><param><value>" + strings.Repeat("x", 5000) + "</value></param></params></methodResponse>"
	tests := []struct {
		name string
		c    *Client
		want error
	}{
		{"deep", &Client{URL: hostile(t, 200, deep)}, ErrTooLarge},
		{"big", &Client{URL: hostile(t, 200, big), MaxResponseBytes: 4096}, ErrTooLarge},
		{"garbage", &Client{URL: hostile(t, 200, "<html>")}, ErrSyntax},
		{"doctype", &Client{URL: hostile(t, 200, `<!DOCTYPE x SYSTEM "http://example.org/x.dtd"><methodResponse/>`)}, ErrSyntax},
	}
	for _, tt := range tests {
		var v any
		if err := tt.c.Call(ctx, "m", &v); !errors.Is(err, tt.want) {
			t.Errorf("%s: Call = %v, want %v", tt.name, err, tt.want)
		}
	}
	c := &Client{URL: hostile(t, 200, big), MaxResponseBytes: int64(len(big))}
	var s string
	if err := c.Call(ctx, "m", &s); err != nil || len(s) != 5000 {
		t.Errorf("a response of exactly MaxResponseBytes: %d bytes, %v", len(s), err)
	}
	c = &Client{URL: hostile(t, 500, "oops")}
	if err := c.Call(ctx, "m", nil); err == nil || !strings.Contains(err.Error(), "HTTP 500") {
		t.Errorf("HTTP 500: %v, want an error naming it", err)
	}
}

func TestClientResultTypes(t *testing.T) {
	_, c, _ := newTestServer(t)
	ctx := context.Background()
	var n int
	var f *Fault
	if err := c.Call(ctx, "echo", &n, "five"); !errors.Is(err, ErrType) || errors.As(err, &f) {
		t.Errorf("a string result into an int = %v, want ErrType", err)
	}
	if err := c.Call(ctx, "math.add", n, 1, 2); err == nil {
		t.Errorf("Call with a non-pointer result = nil, want an error")
	}
	if err := c.Call(ctx, "bad name", nil); !errors.Is(err, ErrBadArgument) {
		t.Errorf("Call with a method name holding a space = %v, want ErrBadArgument", err)
	}
}

func TestClientBasicAuth(t *testing.T) {
	var got string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		got = u + ":" + p
		w.Write([]byte("<methodResponse><params><param><value>ok</value></param></params></methodResponse>"))
	}))
	defer ts.Close()
	c := &Client{URL: strings.Replace(ts.URL, "http://", "http://alice:s3cret@", 1)}
	if err := c.Call(context.Background(), "m", nil); err != nil || got != "alice:s3cret" {
		t.Errorf("Basic auth from the URL: server saw %q, %v", got, err)
	}
	far := &Client{URL: "http://alice:s3cret@192.0.2.1/RPC2"}
	if err := far.Call(context.Background(), "m", nil); !errors.Is(err, ErrPlaintext) {
		t.Errorf("a password over plain HTTP off loopback = %v, want ErrPlaintext", err)
	}
	if err := (&Client{URL: "ftp://x/"}).Call(context.Background(), "m", nil); err == nil {
		t.Errorf("an ftp:// URL = nil error")
	}
}

// TestClientTLS: over https, with the server's certificate trusted
// through HTTPClient, Basic auth goes to any host.
func TestClientTLS(t *testing.T) {
	var user string
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _, _ = r.BasicAuth()
		w.Write([]byte("<methodResponse><params><param><value><i4>1</i4></value></param></params></methodResponse>"))
	}))
	ts.StartTLS()
	defer ts.Close()
	c := &Client{URL: strings.Replace(ts.URL, "https://", "https://alice:pw@", 1), HTTPClient: ts.Client()}
	var n int
	if err := c.Call(context.Background(), "m", &n); err != nil || n != 1 || user != "alice" {
		t.Errorf("Call over TLS = %d, %v (server saw user %q)", n, err, user)
	}
	plain := &Client{URL: c.URL} // the default client does not trust the test certificate
	if err := plain.Call(context.Background(), "m", &n); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Call over TLS to an untrusted certificate = %v, want a certificate error", err)
	}
}

// TestClientRedirectKeepsCredentialsSafe: a redirect from https to
// plain http on the same host name (net/http would copy Authorization)
// or to another host is refused, and the plain server never sees the
// password; a redirect within the https server is followed.
func TestClientRedirectKeepsCredentialsSafe(t *testing.T) {
	plainAuth := make(chan string, 4)
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainAuth <- r.Header.Get("Authorization")
		w.Write([]byte("<methodResponse><params><param><value>plain</value></param></params></methodResponse>"))
	}))
	defer plain.Close()
	_, plainPort, _ := net.SplitHostPort(plain.Listener.Addr().String())
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/down":
			http.Redirect(w, r, "http://example.com:"+plainPort+"/RPC2", http.StatusTemporaryRedirect)
		case "/away":
			http.Redirect(w, r, "https://other.example.com/RPC2", http.StatusTemporaryRedirect)
		case "/moved":
			http.Redirect(w, r, "/RPC2", http.StatusTemporaryRedirect)
		default:
			u, _, _ := r.BasicAuth()
			w.Write([]byte("<methodResponse><params><param><value>" + u + "</value></param></params></methodResponse>"))
		}
	}))
	defer ts.Close()
	_, tlsPort, _ := net.SplitHostPort(ts.Listener.Addr().String())
	// example.com (which the test certificate names) is this machine.
	tr := ts.Client().Transport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, _ := net.SplitHostPort(addr)
		return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
	}
	hc := &http.Client{Transport: tr}
	base := "https://alice:pw@example.com:" + tlsPort
	var s string
	if err := (&Client{URL: base + "/down", HTTPClient: hc}).Call(context.Background(), "m", &s); !errors.Is(err, ErrPlaintext) {
		t.Errorf("redirect https to http = %q, %v; want ErrPlaintext", s, err)
	}
	if err := (&Client{URL: base + "/away", HTTPClient: hc}).Call(context.Background(), "m", &s); err == nil || !strings.Contains(err.Error(), "another host") {
		t.Errorf("redirect to another host = %q, %v; want a refusal", s, err)
	}
	select {
	case a := <-plainAuth:
		t.Errorf("the plain server was asked, with Authorization %q", a)
	default:
	}
	if err := (&Client{URL: base + "/moved", HTTPClient: hc}).Call(context.Background(), "m", &s); err != nil || s != "alice" {
		t.Errorf("redirect within the https server = %q, %v; want alice", s, err)
	}
	// Without credentials the client follows as HTTPClient does.
	if err := (&Client{URL: "https://example.com:" + tlsPort + "/down", HTTPClient: hc}).Call(context.Background(), "m", &s); err != nil || s != "plain" {
		t.Errorf("redirect without credentials = %q, %v; want plain", s, err)
	}
	if a := <-plainAuth; a != "" {
		t.Errorf("the plain server saw Authorization %q", a)
	}
}
