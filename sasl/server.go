package sasl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Mechanism names.
const (
	Plain = "PLAIN"
	Login = "LOGIN"
)

// Limits every server mechanism enforces.
const (
	// MaxResponseLen is the longest decoded client response.
	MaxResponseLen = 4096
	// MaxFieldLen is the longest identity, user name or password.
	MaxFieldLen = 1024
	// MaxSteps is the most challenges one exchange may take.
	MaxSteps = 4
)

// Errors a server exchange ends with besides the callback's own.
var (
	ErrUnknownMechanism = errors.New("sasl: unsupported mechanism")
	ErrCanceled         = errors.New("sasl: authentication canceled by the client")
	ErrMalformed        = errors.New("sasl: malformed response")
	ErrTooLong          = errors.New("sasl: response too long")
	ErrIdentityRefused  = errors.New("sasl: authorization identity differs from the user")
	ErrUnexpected       = errors.New("sasl: response after the exchange ended")
)

// AuthenticateFunc checks credentials; identity is the authorization
// identity ("" when the client sent none). Its error ends the exchange
// and is returned unchanged.
type AuthenticateFunc func(ctx context.Context, identity, username, password string) error

// Server is the server side of one exchange.
type Server interface {
	// Next takes the client's response (nil at the start when the client
	// sent no initial response) and returns the next challenge, or done
	// when authentication succeeded. An error ends the exchange.
	Next(ctx context.Context, response []byte) (challenge []byte, done bool, err error)
}

// Mechanisms lists the server mechanisms, strongest first, as a
// protocol advertises them.
func Mechanisms() []string { return []string{Plain, Login} }

// NewServer returns the server side of mechanism mech (any case), or ErrUnknownMechanism.
func NewServer(mech string, auth AuthenticateFunc) (Server, error) {
	switch strings.ToUpper(mech) {
	case Plain:
		return NewPlainServer(auth), nil
	case Login:
		return NewLoginServer(auth), nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownMechanism, mech)
}

// NewPlainServer returns the server side of PLAIN (RFC 4616).
func NewPlainServer(auth AuthenticateFunc) Server { return &plainServer{auth: auth} }

type plainServer struct {
	auth  AuthenticateFunc
	asked bool
	ended bool
}

func (s *plainServer) Next(ctx context.Context, resp []byte) ([]byte, bool, error) {
	switch {
	case s.ended:
		return nil, false, ErrUnexpected
	case resp == nil && !s.asked:
		s.asked = true
		return []byte{}, false, nil // RFC 4616: an empty challenge asks for the message
	}
	s.ended = true
	identity, user, pass, err := ParsePlain(resp)
	if err != nil {
		return nil, false, err
	}
	if identity != "" && identity != user {
		return nil, false, ErrIdentityRefused
	}
	if err := s.auth(ctx, identity, user, pass); err != nil {
		return nil, false, err
	}
	return nil, true, nil
}

// ParsePlain splits a PLAIN message (RFC 4616 section 2):
// [authzid] NUL authcid NUL passwd, each UTF-8 without NUL, authcid and
// passwd non-empty, none longer than MaxFieldLen.
func ParsePlain(msg []byte) (identity, username, password string, err error) {
	if len(msg) > MaxResponseLen {
		return "", "", "", ErrTooLong
	}
	parts := bytes.Split(msg, []byte{0})
	if len(parts) != 3 {
		return "", "", "", fmt.Errorf("%w: PLAIN wants authzid NUL authcid NUL passwd", ErrMalformed)
	}
	for i, p := range parts {
		if len(p) > MaxFieldLen {
			return "", "", "", ErrTooLong
		}
		if !utf8.Valid(p) {
			return "", "", "", fmt.Errorf("%w: not UTF-8", ErrMalformed)
		}
		if i > 0 && len(p) == 0 {
			return "", "", "", fmt.Errorf("%w: empty user name or password", ErrMalformed)
		}
	}
	return string(parts[0]), string(parts[1]), string(parts[2]), nil
}

// NewLoginServer returns the server side of LOGIN
// (draft-murchison-sasl-login): it asks "Username:" then "Password:"; a
// user name sent as the initial response skips the first question.
func NewLoginServer(auth AuthenticateFunc) Server { return &loginServer{auth: auth} }

type loginServer struct {
	auth  AuthenticateFunc
	step  int // 0 start, 1 asked user, 2 asked password, 3 ended
	user  string
	asked bool
}

var (
	loginUserPrompt = []byte("Username:")
	loginPassPrompt = []byte("Password:")
)

func loginField(b []byte) (string, error) {
	switch {
	case len(b) > MaxFieldLen:
		return "", ErrTooLong
	case len(b) == 0:
		return "", fmt.Errorf("%w: empty user name or password", ErrMalformed)
	case bytes.IndexByte(b, 0) >= 0 || !utf8.Valid(b):
		return "", fmt.Errorf("%w: not UTF-8 text", ErrMalformed)
	}
	return string(b), nil
}

func (s *loginServer) Next(ctx context.Context, resp []byte) ([]byte, bool, error) {
	switch s.step {
	case 0:
		if resp == nil {
			s.step = 1
			return loginUserPrompt, false, nil
		}
		fallthrough
	case 1:
		u, err := loginField(resp)
		if err != nil {
			s.step = 3
			return nil, false, err
		}
		s.user, s.step = u, 2
		return loginPassPrompt, false, nil
	case 2:
		s.step = 3
		p, err := loginField(resp)
		if err != nil {
			return nil, false, err
		}
		if err := s.auth(ctx, "", s.user, p); err != nil {
			return nil, false, err
		}
		return nil, true, nil
	}
	return nil, false, ErrUnexpected
}
