package gopher

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

func TestClientAgainstServer(t *testing.T) {
	server, client := testkit.TLS(t)
	ts := startServer(t, nil, func(s *Server) { s.TLSConfig = server })
	ctx := context.Background()
	c := &Client{TLSConfig: client}
	for _, tlsOn := range []bool{false, true} {
		at := func(typ byte, sel string) URL { return URL{TLS: tlsOn, Host: ts.addr, Type: typ, Selector: sel} }
		items, err := c.Menu(ctx, at('1', "/docs/"))
		if err != nil || len(items) != 2 || items[0].Display != "deep" || items[1].Selector != "/docs/guide.txt" || items[1].Port != ts.port {
			t.Errorf("TLS %v: Menu(/docs/) = %+v, %v; want deep and guide.txt", tlsOn, items, err)
		}
		var text bytes.Buffer
		if _, err := c.Text(ctx, at('0', "/README"), &text); err != nil || text.String() != "Read me.\n.a line with a dot\n.\nlast\n" {
			t.Errorf("TLS %v: Text(/README) = %q, %v; want the file back", tlsOn, text.String(), err)
		}
		var bin bytes.Buffer
		if n, err := c.Binary(ctx, at('g', "/pic.gif"), &bin); err != nil || bin.String() != gifBytes || n != int64(len(gifBytes)) {
			t.Errorf("TLS %v: Binary(/pic.gif) = %q, %d, %v; want %q", tlsOn, bin.String(), n, err, gifBytes)
		}
		u := at('7', "/docs/")
		u.Search = "notes"
		if items, err := c.Menu(ctx, u); err != nil || len(items) != 1 || items[0].Selector != "/docs/deep/Notes.txt" {
			t.Errorf("TLS %v: search notes = %+v, %v", tlsOn, items, err)
		}
		var e *Error
		if _, err := c.Menu(ctx, at('1', "/nope/")); !errors.As(err, &e) || e.Msg != "Not found" {
			t.Errorf("TLS %v: Menu(/nope/) = %v, want *Error Not found", tlsOn, err)
		}
		if _, err := c.Text(ctx, at('0', "/nope"), &text); !errors.As(err, &e) {
			t.Errorf("TLS %v: Text(/nope) = %v, want *Error", tlsOn, err)
		}
		if _, err := c.Binary(ctx, at('9', "/nope"), &bin); !errors.As(err, &e) {
			t.Errorf("TLS %v: Binary(/nope) = %v, want *Error", tlsOn, err)
		}
	}
}

func TestClientRefusesInjection(t *testing.T) {
	c := &Client{}
	for _, u := range []URL{
		{Host: "127.0.0.1:1", Selector: "/a\r\n/b"},
		{Host: "127.0.0.1:1", Selector: "/a\tb"},
		{Host: "127.0.0.1:1", Selector: "/a\x00"},
		{Host: "127.0.0.1:1", Selector: "/", Search: "x\ny"},
	} {
		if _, err := c.Menu(context.Background(), u); !errors.Is(err, ErrBadArgument) {
			t.Errorf("Menu(%+v) = %v, want ErrBadArgument", u, err)
		}
	}
}

// TestClientLimits: a hostile server's endless menu or line fails fast.
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
				c.SetDeadline(time.Now().Add(5 * time.Second))
				line := make([]byte, 64)
				n, _ := c.Read(line)
				if strings.HasPrefix(string(line[:n]), "/dotted") {
					c.Write([]byte("one\r\n.\r\ntwo\r\n.\r\n"))
					return
				}
				if strings.HasPrefix(string(line[:n]), "/long") {
					c.Write([]byte(strings.Repeat("x", 100000)))
					return
				}
				for range 50 {
					c.Write([]byte("0f\t/f\th\t70\r\n"))
				}
			}()
		}
	}()
	c := &Client{MaxMenuItems: 10}
	if _, err := c.Menu(context.Background(), URL{Host: ln.Addr().String(), Selector: "/"}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Menu of 50 items with MaxMenuItems 10 = %v, want ErrTooLarge", err)
	}
	var text bytes.Buffer
	if _, err := c.Text(context.Background(), URL{Host: ln.Addr().String(), Selector: "/dotted"}, &text); err != nil || text.String() != "one\n.\ntwo\n" {
		t.Errorf("Text of a dot-terminated text = %q, %v; want %q", text.String(), err, "one\n.\ntwo\n")
	}
	if _, err := c.Menu(context.Background(), URL{Host: ln.Addr().String(), Selector: "/long"}); !errors.Is(err, ErrProtocol) {
		t.Errorf("Menu with a 100000-byte line = %v, want ErrProtocol", err)
	}
}

func TestURLs(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want URL
	}{
		{"gopher://example.org", URL{Host: "example.org:70", Type: '1'}},
		{"gopher://example.org/", URL{Host: "example.org:70", Type: '1'}},
		{"gophers://example.org:7070/0/a%20b.txt", URL{TLS: true, Host: "example.org:7070", Type: '0', Selector: "/a b.txt"}},
		{"gopher://[::1]:70/7/find%09two%20words", URL{Host: "[::1]:70", Type: '7', Selector: "/find", Search: "two words"}},
		{"gopher://h/1/q?x", URL{Host: "h:70", Type: '1', Selector: "/q?x"}},
	} {
		got, err := ParseURL(tc.raw)
		if err != nil || got != tc.want {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v", tc.raw, got, err, tc.want)
			continue
		}
		if again, err := ParseURL(got.String()); err != nil || again != got {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v", got.String(), again, err, got)
		}
	}
	for _, raw := range []string{"http://h/", "gopher:///x", "gopher://h/0a%0d%0ab"} {
		if _, err := ParseURL(raw); err == nil {
			t.Errorf("ParseURL(%q) succeeded, want an error", raw)
		}
	}
}
