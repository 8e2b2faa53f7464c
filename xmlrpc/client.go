package xmlrpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
)

// A Client calls the methods of one XML-RPC server. Its fields are set
// before the first call and not changed after; a Client is safe for
// concurrent use.
//
//	c := &xmlrpc.Client{URL: "https://alice:secret@example.org/RPC2"}
//	var sum int
//	err := c.Call(ctx, "math.add", &sum, 2, 3)
type Client struct {
	// URL is the server's endpoint. User information in it
	// (https://user:password@host/RPC2) is sent as HTTP Basic
	// authentication, and never over plain HTTP to a host that is not
	// loopback unless InsecureAuth is set; with credentials, a redirect
	// to another host or from https to such plain HTTP is refused.
	URL string
	// HTTPClient makes the requests: its Transport has the TLS config
	// (a CA, a client certificate) and its Timeout the overall limit.
	// nil means http.DefaultClient.
	HTTPClient *http.Client
	// Header holds extra request headers.
	Header http.Header
	// MaxResponseBytes caps a response body; 0 means DefaultMaxBytes.
	MaxResponseBytes int64
	// MaxDepth and MaxValues cap a response's nesting and its count of
	// values, and MaxDepth the nesting of arguments; 0 means the
	// package defaults.
	MaxDepth, MaxValues int
	// InsecureAuth allows Basic authentication over plain HTTP to a
	// host that is not loopback.
	InsecureAuth bool
}

// Call calls method with args and decodes its result into result, a
// non-nil pointer (or nil, to ignore the result). Values map as the
// package doc says; a result is converted as [Server.Register]
// converts arguments (decode into *any to take it as it comes). A fault
// response is returned as a [*Fault]; a result that does not fit
// result, as an error wrapping ErrType; a response over a limit, as
// one wrapping ErrTooLarge; an HTTP status other than 200, as an
// error naming it.
func (c *Client) Call(ctx context.Context, method string, result any, args ...any) error {
	if result != nil {
		if v := reflect.ValueOf(result); v.Kind() != reflect.Pointer || v.IsNil() {
			return fmt.Errorf("xmlrpc: Call(%s): the result must be a non-nil pointer, not %T", method, result)
		}
	}
	if err := checkName(method); err != nil {
		return err
	}
	v, err := c.roundTrip(ctx, method, args)
	if err != nil {
		return err
	}
	if result == nil {
		return nil
	}
	if err := assign(reflect.ValueOf(result).Elem(), v); err != nil {
		return fmt.Errorf("xmlrpc: result of %s: %w", method, err)
	}
	return nil
}

// A Request is one call of a [Client.Multicall]: after it, Result holds
// the decoded result, or Err the fault or decoding error.
type Request struct {
	Method string
	Args   []any
	Result any // a non-nil pointer, or nil to ignore the result
	Err    error
}

// Multicall makes every call of reqs in one request, with
// system.multicall, and sets each one's Result or Err. The error
// returned is the request's own: a transport error or a fault of
// system.multicall itself.
func (c *Client) Multicall(ctx context.Context, reqs ...*Request) error {
	calls := make([]any, len(reqs))
	for i, r := range reqs {
		if err := checkName(r.Method); err != nil {
			return err
		}
		args := r.Args
		if args == nil {
			args = []any{}
		}
		calls[i] = map[string]any{"methodName": r.Method, "params": args}
	}
	var results []any
	if err := c.Call(ctx, "system.multicall", &results, calls); err != nil {
		return err
	}
	if len(results) != len(reqs) {
		return fmt.Errorf("%w: system.multicall answered %d results for %d calls", ErrSyntax, len(results), len(reqs))
	}
	for i, r := range reqs {
		switch v := results[i].(type) {
		case []any:
			if len(v) != 1 {
				r.Err = fmt.Errorf("%w: a multicall result of %d values", ErrSyntax, len(v))
			} else if r.Result != nil {
				if err := assign(reflect.ValueOf(r.Result).Elem(), v[0]); err != nil {
					r.Err = fmt.Errorf("xmlrpc: result of %s: %w", r.Method, err)
				}
			}
		default:
			f, err := faultFrom(v)
			if err == nil {
				err = f
			}
			r.Err = err
		}
	}
	return nil
}

func (c *Client) roundTrip(ctx context.Context, method string, args []any) (any, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, fmt.Errorf("xmlrpc: URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("xmlrpc: URL %q: want http:// or https://", u.Redacted())
	}
	lim := newLimits(c.MaxDepth, c.MaxValues)
	// Not pooled: the transport may read a request body until it is done with the connection.
	body := new(bytes.Buffer)
	if err := encodeCall(body, method, args, lim.depth); err != nil {
		return nil, fmt.Errorf("xmlrpc: %s: %w", method, err)
	}
	user := u.User
	u.User = nil
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body.Bytes()))
	if err != nil {
		return nil, fmt.Errorf("xmlrpc: %w", err)
	}
	for k, vs := range c.Header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "text/xml")
	if user != nil {
		if u.Scheme != "https" && !c.InsecureAuth && !loopbackHost(u.Hostname()) {
			return nil, ErrPlaintext
		}
		pass, _ := user.Password()
		req.SetBasicAuth(user.Username(), pass)
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	if user != nil {
		hc = c.guardRedirects(hc)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("xmlrpc: %s: %w", method, err)
	}
	defer func() {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so the connection is kept
		resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("xmlrpc: %s: HTTP %s", method, resp.Status)
	}
	maxBytes := c.MaxResponseBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	in := getBuffer()
	defer putBuffer(in)
	_, err = in.ReadFrom(&capped{r: resp.Body, left: maxBytes})
	var v any
	var f *Fault
	if err == nil {
		v, f, err = parseResponseBytes(in.Bytes(), lim)
	}
	if err != nil {
		return nil, fmt.Errorf("xmlrpc: response to %s: %w", method, err)
	}
	if f != nil {
		return nil, f
	}
	return v, nil
}

// guardRedirects returns a copy of hc that refuses a redirect taking
// the credentials to another host or to plain HTTP (off loopback,
// without InsecureAuth): net/http would send Authorization along to
// the same host whatever the scheme.
func (c *Client) guardRedirects(hc *http.Client) *http.Client {
	guarded := *hc
	next := hc.CheckRedirect
	guarded.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		from, to := via[0].URL, req.URL
		if !strings.EqualFold(to.Hostname(), from.Hostname()) {
			return fmt.Errorf("xmlrpc: refusing a redirect with credentials from %s to another host, %s", from.Hostname(), to.Hostname())
		}
		if from.Scheme == "https" && to.Scheme != "https" && !c.InsecureAuth && !loopbackHost(to.Hostname()) {
			return fmt.Errorf("%w (a redirect from https to %s)", ErrPlaintext, to.Redacted())
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("xmlrpc: stopped after 10 redirects")
		}
		return nil
	}
	return &guarded
}

// loopbackHost reports whether a URL's host is loopback by name or address.
func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// capped reads at most left bytes and fails after, so a hostile
// server's endless response ends with an error, not a truncated parse.
type capped struct {
	r    io.Reader
	left int64
}

var errCapped = fmt.Errorf("%w: response over its size limit", ErrTooLarge)

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One byte more tells a body that ends here from one that goes on.
		var one [1]byte
		n, err := c.r.Read(one[:])
		if n > 0 {
			return 0, errCapped
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
