package simple

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

func TestClientAgainstServer(t *testing.T) {
	now := func() time.Time { return fixedNow }
	for _, network := range []string{"tcp", "udp"} {
		t.Run(network, func(t *testing.T) {
			start := startTCP
			if network == "udp" {
				start = startUDP
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cl := &Client{Network: network}

			echo := start(t, &Server{Service: Echo})
			msg := []byte("round\r\ntrip\x00\xff")
			if _, err := cl.Echo(ctx, echo, msg); err != nil {
				t.Errorf("Echo(%q) = %v, want nil", msg, err)
			}

			day := start(t, &Server{Service: Daytime, Now: now, Location: fixedNow.Location()})
			if got, err := cl.Daytime(ctx, day); err != nil || got != "Monday, February 22, 1982 17:37:43 -0800" {
				t.Errorf("Daytime() = %q, %v; want RFC 867's example instant", got, err)
			}

			tm := start(t, &Server{Service: Time, Now: now})
			if got, err := cl.Time(ctx, tm); err != nil || !got.Equal(fixedNow) {
				t.Errorf("Time() = %v, %v; want %v", got, err, fixedNow)
			}

			q := start(t, &Server{Service: QOTD, Quotes: []string{"only quote"}})
			if got, err := cl.QOTD(ctx, q); err != nil || got != "only quote" {
				t.Errorf("QOTD() = %q, %v; want %q", got, err, "only quote")
			}

			cg := start(t, &Server{Service: Chargen})
			var buf bytes.Buffer
			n, err := cl.Chargen(ctx, cg, &buf, 1000)
			if err != nil || n < 1000 || int64(buf.Len()) != n {
				t.Errorf("Chargen(1000) = %d, %v (buffer %d); want at least 1000 bytes", n, err, buf.Len())
			}
			if network == "tcp" && (n != 1000 || !strings.HasPrefix(wantChargenLine(0)+wantChargenLine(1), buf.String()[:148])) {
				t.Errorf("Chargen over tcp = %d bytes starting %q, want 1000 from line 0", n, buf.String()[:74])
			}

			d := start(t, &Server{Service: Discard})
			if err := cl.Discard(ctx, d, []byte("gone")); err != nil {
				t.Errorf("Discard() = %v, want nil", err)
			}
		})
	}
}

func TestEchoClientMismatch(t *testing.T) {
	// A broken echo server that flips one byte.
	l := testkit.Listen(t)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b := make([]byte, 5)
		io.ReadFull(c, b)
		b[3] ^= 1
		c.Write(b)
	}()
	_, err := (&Client{}).Echo(context.Background(), l.Addr().String(), []byte("hello"))
	var me *MismatchError
	if !errors.As(err, &me) || me.Offset != 3 || me.Sent != 'l' || me.Got != 'm' {
		t.Fatalf("Echo against a byte-flipping server = %v, want MismatchError at 3 ('l' vs 'm')", err)
	}
}

func TestClientTimeoutAndCancel(t *testing.T) {
	// A server that accepts and never answers.
	l := testkit.Listen(t)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	_, err := (&Client{Timeout: 200 * time.Millisecond}).Daytime(context.Background(), l.Addr().String())
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Errorf("Daytime against a silent server = %v after %v, want DeadlineExceeded after 200ms", err, time.Since(start))
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	n, err := (&Client{}).Chargen(ctx, l.Addr().String(), io.Discard, 0)
	if !errors.Is(err, context.Canceled) || n != 0 {
		t.Errorf("Chargen cancelled = %d, %v; want 0, context.Canceled", n, err)
	}

	// UDP: no server at all; the client resends and gives up at the deadline.
	pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
	defer pc.Close()
	start = time.Now()
	_, err = (&Client{Network: "udp", Timeout: 300 * time.Millisecond}).Time(context.Background(), pc.LocalAddr().String())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Time over udp to a silent socket = %v, want DeadlineExceeded", err)
	}
}

func TestClientRefusesBadArguments(t *testing.T) {
	ctx := context.Background()
	for _, addr := range []string{"127.0.0.1:13\r\nX", "127.0.0.1:13\x00"} {
		if _, err := (&Client{}).Daytime(ctx, addr); !errors.Is(err, ErrBadArgument) {
			t.Errorf("Daytime(%q) = %v, want ErrBadArgument", addr, err)
		}
	}
	if _, err := (&Client{Network: "unix"}).QOTD(ctx, "/tmp/x"); err == nil {
		t.Errorf("QOTD over unix = nil error, want refusal")
	}
	addr := startUDP(t, &Server{Service: Echo})
	if _, err := (&Client{Network: "udp"}).Echo(ctx, addr, make([]byte, MaxDatagram+1)); err == nil {
		t.Errorf("Echo of %d bytes over udp = nil error, want refusal", MaxDatagram+1)
	}
}

func TestTimeReplyErrors(t *testing.T) {
	l := testkit.Listen(t)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		c.Write([]byte{1, 2, 3})
		c.Close()
	}()
	_, err := (&Client{}).Time(context.Background(), l.Addr().String())
	var re *ReplyError
	if !errors.As(err, &re) || re.Service != Time {
		t.Errorf("Time with a 3-byte reply = %v, want a ReplyError", err)
	}
}

func TestDecodeTime(t *testing.T) {
	for _, tc := range []struct {
		b    []byte
		want time.Time
	}{
		{[]byte{0x83, 0xaa, 0x7e, 0x80}, time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)},
		{[]byte{0xff, 0xff, 0xff, 0xff}, time.Date(2036, 2, 7, 6, 28, 15, 0, time.UTC)},
		{[]byte{0, 0, 0, 0}, time.Date(2036, 2, 7, 6, 28, 16, 0, time.UTC)},
		{[]byte{0x80, 0, 0, 0}, time.Date(1968, 1, 20, 3, 14, 8, 0, time.UTC)},
	} {
		got, err := DecodeTime(tc.b)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("DecodeTime(% x) = %v, %v; want %v", tc.b, got, err, tc.want)
		}
		if enc := EncodeTime(tc.want); !bytes.Equal(enc[:], tc.b) {
			t.Errorf("EncodeTime(%v) = % x, want % x", tc.want, enc, tc.b)
		}
	}
	if _, err := DecodeTime([]byte{1, 2, 3, 4, 5}); err == nil {
		t.Errorf("DecodeTime of 5 bytes = nil error, want one")
	}
}

func TestParseQuotes(t *testing.T) {
	long := strings.Repeat("y", 520)
	in := "\n\nFirst quote\n  -- first author\n%\nSecond\r\n\r\n\r\nThird\x1b[31m red\n%\n%\n" + long + "\n\nLast"
	got, skipped, err := ParseQuotes(strings.NewReader(in))
	want := []string{"First quote\r\n  -- first author", "Second", "Third[31m red", "Last"}
	if err != nil || skipped != 1 || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("ParseQuotes = %q, skipped %d, %v; want %q, skipped 1", got, skipped, err, want)
	}
}

// TestClientBoundedReply: a daytime or qotd "server" that sends 100 MB
// fails fast with a ReplyError instead of filling the client's memory.
func TestClientBoundedReply(t *testing.T) {
	ln := testkit.Listen(t)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				chunk := bytes.Repeat([]byte("x"), 64<<10)
				for sent := 0; sent < 100<<20; sent += len(chunk) {
					if _, err := c.Write(chunk); err != nil {
						return // the client hung up, as it should
					}
				}
			}()
		}
	}()
	start := time.Now()
	for name, call := range map[string]func() error{
		"Daytime": func() error { _, err := (&Client{}).Daytime(context.Background(), ln.Addr().String()); return err },
		"QOTD":    func() error { _, err := (&Client{}).QOTD(context.Background(), ln.Addr().String()); return err },
	} {
		var re *ReplyError
		if err := call(); !errors.As(err, &re) {
			t.Errorf("%s from a server sending 100 MB = %v, want a ReplyError", name, err)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("100 MB replies took %v to refuse, want them refused at once", d)
	}
}
