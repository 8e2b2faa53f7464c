package finger

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

func TestClientAgainstServer(t *testing.T) {
	addr := start(t, &Server{})
	got, err := Finger(context.Background(), addr, Query{Verbose: true, User: "alice"})
	if err != nil {
		t.Fatalf("Finger(/W alice) = %v", err)
	}
	if s := string(got); !strings.Contains(s, "On since") || !strings.Contains(s, "\x5e[[31m") {
		t.Errorf("Finger(/W alice) = %q, want the long form with ESC made harmless", s)
	}
	if _, err := Finger(context.Background(), addr, Query{User: "a\r\nb"}); !errors.Is(err, ErrBadArgument) {
		t.Errorf("Finger(user with CRLF) = %v, want ErrBadArgument", err)
	}
}

func TestClientLimits(t *testing.T) {
	ln := testkit.Listen(t)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 64)
				n, _ := c.Read(buf)
				if strings.HasPrefix(string(buf[:n]), "big") {
					c.Write([]byte(strings.Repeat("x", 5000)))
				} // "slow": say nothing and wait for the client to leave
				c.Read(buf)
			}()
		}
	}()
	d := Dialer{MaxResponse: 1000, Timeout: 200 * time.Millisecond}
	body, err := d.Finger(context.Background(), ln.Addr().String(), Query{User: "big"})
	if !errors.Is(err, ErrTooLarge) || len(body) != 1000 {
		t.Errorf("Finger(big) = %d bytes, %v; want 1000 bytes, ErrTooLarge", len(body), err)
	}
	begin := time.Now()
	_, err = d.Finger(context.Background(), ln.Addr().String(), Query{User: "slow"})
	var ne net.Error
	if !errors.Is(err, context.DeadlineExceeded) && !(errors.As(err, &ne) && ne.Timeout()) {
		t.Errorf("Finger(slow) = %v, want a timeout", err)
	}
	if d := time.Since(begin); d > 3*time.Second {
		t.Errorf("Finger(slow) took %v, want about Timeout (200ms)", d)
	}
}

func TestHarmless(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain\ttext\r\nnext\n", "plain\ttext\nnext\n"},
		{"\x1b]0;owned\x07", "^[]0;owned^G"},
		{"del\x7f lone\rcr", "del^? lone^Mcr"},
		{"caf\xc3\xa9 \xff \xc2\x9b2J", "café \\xFF \\xC2\\x9B2J"},
	} {
		if got := string(Harmless([]byte(tc.in))); got != tc.want {
			t.Errorf("Harmless(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
