package sasl

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	gosasl "github.com/emersion/go-sasl"
)

var errWrong = errors.New("wrong password")

// checker accepts alice/secret and records what it was given.
type checker struct{ identity, user, pass string }

func (c *checker) auth(_ context.Context, identity, user, pass string) error {
	c.identity, c.user, c.pass = identity, user, pass
	if user == "alice" && pass == "secret" {
		return nil
	}
	return errWrong
}

// wire runs Run against a scripted client: lines are what the client
// sends after each challenge; it returns the challenges sent.
func wire(t *testing.T, srv Server, ir []byte, lines ...string) ([]string, error) {
	t.Helper()
	var sent []string
	err := Run(context.Background(), srv, ir,
		func(c string) error { sent = append(sent, c); return nil },
		func() (string, error) {
			if len(lines) == 0 {
				return "", errors.New("client has nothing more to say")
			}
			l := lines[0]
			lines = lines[1:]
			return l, nil
		})
	return sent, err
}

func TestPlainServer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ir    []byte
		lines []string
		sent  string
		err   error
		ident string
	}{
		{"initial response", []byte("\x00alice\x00secret"), nil, "", nil, ""},
		{"same authzid", []byte("alice\x00alice\x00secret"), nil, "", nil, "alice"},
		{"after empty challenge", nil, []string{Encode([]byte("\x00alice\x00secret"))}, "", nil, ""},
		{"wrong password", []byte("\x00alice\x00nope"), nil, "", errWrong, ""},
		{"proxy authzid refused", []byte("root\x00alice\x00secret"), nil, "", ErrIdentityRefused, ""},
		{"canceled", nil, []string{"*"}, "", ErrCanceled, ""},
		{"bad base64", nil, []string{"!!!"}, "", ErrMalformed, ""},
		{"empty response", []byte{}, nil, "", ErrMalformed, ""},
		{"two fields", []byte("alice\x00secret"), nil, "", ErrMalformed, ""},
		{"too long", []byte("\x00alice\x00" + strings.Repeat("x", MaxFieldLen+1)), nil, "", ErrTooLong, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &checker{}
			sent, err := wire(t, NewPlainServer(c.auth), tc.ir, tc.lines...)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Run(PLAIN) = %v, want %v", err, tc.err)
			}
			if got := strings.Join(sent, "|"); got != tc.sent {
				t.Errorf("challenges = %q, want %q", got, tc.sent)
			}
			if err == nil && (c.user != "alice" || c.identity != tc.ident) {
				t.Errorf("callback got identity %q user %q, want %q alice", c.identity, c.user, tc.ident)
			}
		})
	}
}

func TestLoginServer(t *testing.T) {
	u, p := Encode([]byte("Username:")), Encode([]byte("Password:"))
	for _, tc := range []struct {
		name  string
		ir    []byte
		lines []string
		sent  string
		err   error
	}{
		{"prompts", nil, []string{Encode([]byte("alice")), Encode([]byte("secret"))}, u + "|" + p, nil},
		{"user as initial response", []byte("alice"), []string{Encode([]byte("secret"))}, p, nil},
		{"wrong", nil, []string{Encode([]byte("alice")), Encode([]byte("x"))}, u + "|" + p, errWrong},
		{"cancel at password", nil, []string{Encode([]byte("alice")), "*"}, u + "|" + p, ErrCanceled},
		{"empty user", nil, []string{""}, u, ErrMalformed},
		{"NUL in user", nil, []string{Encode([]byte("al\x00ice"))}, u, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &checker{}
			sent, err := wire(t, NewLoginServer(c.auth), tc.ir, tc.lines...)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Run(LOGIN) = %v, want %v", err, tc.err)
			}
			if got := strings.Join(sent, "|"); got != tc.sent {
				t.Errorf("challenges = %q, want %q", got, tc.sent)
			}
		})
	}
}

func TestNextAfterEnd(t *testing.T) {
	c := &checker{}
	for _, mech := range Mechanisms() {
		s, err := NewServer(strings.ToLower(mech), c.auth)
		if err != nil {
			t.Fatalf("NewServer(%s) = %v", mech, err)
		}
		ctx := context.Background()
		resp := []byte("\x00alice\x00secret")
		if mech == Login {
			s.Next(ctx, []byte("alice"))
			resp = []byte("secret")
		}
		if _, done, err := s.Next(ctx, resp); !done || err != nil {
			t.Fatalf("%s Next(final) = %v, %v; want done", mech, done, err)
		}
		if _, _, err := s.Next(ctx, resp); !errors.Is(err, ErrUnexpected) {
			t.Errorf("%s Next after done = %v, want ErrUnexpected", mech, err)
		}
	}
	if _, err := NewServer("CRAM-MD5", c.auth); !errors.Is(err, ErrUnknownMechanism) {
		t.Errorf("NewServer(CRAM-MD5) = %v, want ErrUnknownMechanism", err)
	}
}

// TestClientsAgainstServers runs our clients and go-sasl's PLAIN client
// against our servers, stepping them the way a protocol would.
func TestClientsAgainstServers(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Client
	}{
		{"our PLAIN", NewPlainClient("", "alice", "secret")},
		{"our LOGIN", NewLoginClient("alice", "secret")},
		{"go-sasl PLAIN", gosasl.NewPlainClient("", "alice", "secret")},
		{"go-sasl LOGIN", gosasl.NewLoginClient("alice", "secret")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mech, ir, err := tc.c.Start()
			if err != nil {
				t.Fatal(err)
			}
			ck := &checker{}
			srv, err := NewServer(mech, ck.auth)
			if err != nil {
				t.Fatal(err)
			}
			// The initial response crosses the wire as a command argument.
			var resp []byte
			if ir != nil {
				if resp, err = DecodeInitialResponse(EncodeInitialResponse(ir)); err != nil {
					t.Fatal(err)
				}
			}
			err = Run(context.Background(), srv, resp,
				func(ch string) error {
					b, err := DecodeResponse(ch)
					if err != nil {
						return err
					}
					r, err := tc.c.Next(b)
					resp = r
					return err
				},
				func() (string, error) { return Encode(resp), nil })
			if err != nil || ck.user != "alice" || ck.pass != "secret" {
				t.Errorf("exchange = %v with user %q pass %q, want success as alice", err, ck.user, ck.pass)
			}
		})
	}
}

func TestClientRefusesBadFields(t *testing.T) {
	if _, _, err := NewPlainClient("", "al\x00ice", "x").Start(); !errors.Is(err, ErrMalformed) {
		t.Errorf("PLAIN Start with NUL = %v, want ErrMalformed", err)
	}
	if _, _, err := NewLoginClient("alice", "").Start(); !errors.Is(err, ErrMalformed) {
		t.Errorf("LOGIN Start with empty password = %v, want ErrMalformed", err)
	}
	c := NewLoginClient("alice", "secret")
	c.Start()
	c.Next([]byte("Username:"))
	c.Next([]byte("Password:"))
	if _, err := c.Next([]byte("What?")); !errors.Is(err, ErrUnexpectedChallenge) {
		t.Errorf("LOGIN third challenge = %v, want ErrUnexpectedChallenge", err)
	}
}

func TestDecode(t *testing.T) {
	if b, err := DecodeInitialResponse("="); err != nil || b == nil || len(b) != 0 {
		t.Errorf("DecodeInitialResponse(=) = %q, %v; want empty non-nil", b, err)
	}
	if b, err := DecodeResponse(""); err != nil || b == nil || len(b) != 0 {
		t.Errorf("DecodeResponse(\"\") = %q, %v; want empty non-nil", b, err)
	}
	if _, err := DecodeResponse(strings.Repeat("QUFB", MaxResponseLen)); !errors.Is(err, ErrTooLong) {
		t.Errorf("DecodeResponse(huge) = %v, want ErrTooLong", err)
	}
	if _, err := DecodeResponse("YQ"); !errors.Is(err, ErrMalformed) {
		t.Errorf("DecodeResponse(unpadded) = %v, want ErrMalformed", err)
	}
	if got := EncodeInitialResponse(nil); got != "=" {
		t.Errorf("EncodeInitialResponse(empty) = %q, want =", got)
	}
}

func TestRunStepLimit(t *testing.T) {
	endless := serverFunc(func(context.Context, []byte) ([]byte, bool, error) { return []byte("more"), false, nil })
	lines := make([]string, 10)
	if _, err := wire(t, endless, nil, lines...); !errors.Is(err, ErrMalformed) {
		t.Errorf("Run(endless mechanism) = %v, want ErrMalformed (too many steps)", err)
	}
}

type serverFunc func(context.Context, []byte) ([]byte, bool, error)

func (f serverFunc) Next(ctx context.Context, r []byte) ([]byte, bool, error) { return f(ctx, r) }

func TestPlaintextAllowed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !PlaintextAllowed(c) {
		t.Errorf("PlaintextAllowed(loopback TCP) = false, want true")
	}
	for _, a := range []net.Addr{
		&net.TCPAddr{IP: net.ParseIP("192.0.2.1")},
		&net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.1")},
		nil,
	} {
		if IsLoopback(a) {
			t.Errorf("IsLoopback(%v) = true, want false", a)
		}
	}
	if !IsLoopback(&net.TCPAddr{IP: net.ParseIP("::1")}) || !IsLoopback(&net.UnixAddr{Name: "@x"}) {
		t.Errorf("IsLoopback(::1 or unix) = false, want true")
	}
}

// FuzzParsePlain: the PLAIN parser never panics, and what it accepts
// is three NUL-free UTF-8 fields that join back into the input.
func FuzzParsePlain(f *testing.F) {
	f.Add([]byte("\x00alice\x00secret"))
	f.Add([]byte("a\x00b\x00c\x00d"))
	f.Add([]byte("\xff\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, u, p, err := ParsePlain(b)
		if err != nil {
			return
		}
		if u == "" || p == "" || strings.ContainsRune(id+u+p, 0) {
			t.Fatalf("ParsePlain(%q) accepted %q %q %q", b, id, u, p)
		}
		if got := id + "\x00" + u + "\x00" + p; got != string(b) {
			t.Fatalf("ParsePlain(%q) fields rejoin to %q", b, got)
		}
	})
}

// FuzzDecodeResponse: decoding a client line never panics and never
// returns more than MaxResponseLen bytes.
func FuzzDecodeResponse(f *testing.F) {
	f.Add("AGFsaWNlAHNlY3JldA==")
	f.Add("*")
	f.Add("=")
	f.Fuzz(func(t *testing.T, s string) {
		if b, err := DecodeResponse(s); err == nil && len(b) > MaxResponseLen {
			t.Fatalf("DecodeResponse gave %d bytes", len(b))
		}
		if b, err := DecodeInitialResponse(s); err == nil && b == nil {
			t.Fatalf("DecodeInitialResponse(%q) = nil, want non-nil", s)
		}
	})
}
