package sasl

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"

	gosasl "github.com/emersion/go-sasl"
)

// Client is the client side of one exchange (go-sasl's interface).
type Client = gosasl.Client

// ErrUnexpectedChallenge is returned by a client given a challenge it did not expect.
var ErrUnexpectedChallenge = errors.New("sasl: unexpected server challenge")

// NewPlainClient returns the client side of PLAIN; identity is usually "".
// Start fails if a field contains NUL or user or password is empty.
func NewPlainClient(identity, username, password string) Client {
	return &plainClient{identity, username, password}
}

type plainClient struct{ identity, user, pass string }

func (c *plainClient) Start() (string, []byte, error) {
	if strings.ContainsRune(c.identity+c.user+c.pass, 0) {
		return "", nil, fmt.Errorf("%w: NUL in a PLAIN field", ErrMalformed)
	}
	if c.user == "" || c.pass == "" {
		return "", nil, fmt.Errorf("%w: empty user name or password", ErrMalformed)
	}
	return Plain, []byte(c.identity + "\x00" + c.user + "\x00" + c.pass), nil
}

func (c *plainClient) Next(challenge []byte) ([]byte, error) {
	return nil, ErrUnexpectedChallenge
}

// NewLoginClient returns the client side of LOGIN. It sends no initial
// response and answers the server's "Username:" and "Password:"
// prompts; a server whose prompts say neither is answered in order.
func NewLoginClient(username, password string) Client {
	return &loginClient{user: username, pass: password}
}

type loginClient struct {
	user, pass string
	step       int
}

func (c *loginClient) Start() (string, []byte, error) {
	if c.user == "" || c.pass == "" {
		return "", nil, fmt.Errorf("%w: empty user name or password", ErrMalformed)
	}
	return Login, nil, nil
}

func (c *loginClient) Next(challenge []byte) ([]byte, error) {
	p := bytes.ToLower(challenge)
	c.step++
	switch {
	case bytes.HasPrefix(p, []byte("user")):
		return []byte(c.user), nil
	case bytes.HasPrefix(p, []byte("pass")):
		return []byte(c.pass), nil
	case c.step == 1:
		return []byte(c.user), nil
	case c.step == 2:
		return []byte(c.pass), nil
	}
	return nil, ErrUnexpectedChallenge
}

// PlaintextAllowed reports whether a password may cross c in the clear
// under SASL PLAIN or LOGIN: c is TLS (after its handshake) or a
// loopback or Unix-domain connection.
func PlaintextAllowed(c net.Conn) bool {
	if tc, ok := c.(interface{ ConnectionState() tls.ConnectionState }); ok && tc.ConnectionState().HandshakeComplete {
		return true
	}
	return IsLoopback(c.RemoteAddr())
}

// IsLoopback reports whether a is a loopback IP address or a Unix socket.
func IsLoopback(a net.Addr) bool {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	case *net.UDPAddr:
		return a.IP.IsLoopback()
	case *net.UnixAddr:
		return true
	case nil:
		return false
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
