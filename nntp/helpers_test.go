package nntp

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/plumbnet/plumb/internal/testkit"
)

var quietLog = slog.New(slog.DiscardHandler)

type testServer struct {
	*Server
	b    *MemoryBackend
	addr string
}

// newTestBackend holds alice (password "secret", moderator of
// mod.group) and bob ("pw with spaces"), groups misc.test (posting),
// ro.group (read-only) and mod.group (moderated), and three articles
// in misc.test, the second cross-posted to ro.group.
func newTestBackend() *MemoryBackend {
	b := NewMemoryBackend(map[string]string{"alice": "secret", "bob": "pw with spaces"})
	b.AddGroup("misc.test", 'y')
	b.AddGroup("ro.group", 'n')
	b.AddGroup("mod.group", 'm', "alice")
	ctx := context.Background()
	for _, a := range []string{
		"Path: seed!not-for-mail\r\nFrom: a@example.org\r\nNewsgroups: misc.test\r\nSubject: first\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <1@example.org>\r\n\r\nbody one\r\n",
		"Path: seed!not-for-mail\r\nFrom: b@example.org\r\nNewsgroups: misc.test,ro.group\r\nSubject: second\r\nDate: Mon, 1 Jan 2024 11:00:00 +0000\r\nMessage-ID: <2@example.org>\r\nReferences: <1@example.org>\r\nX-Extra: hello\r\n\r\n.dotted\r\nline 2\r\n",
		"Path: seed!not-for-mail\r\nFrom: c@example.org\r\nNewsgroups: misc.test\r\nSubject: third\r\nDate: Mon, 1 Jan 2024 12:00:00 +0000\r\nMessage-ID: <3@example.org>\r\n\r\nbody three\r\n",
	} {
		art, err := ParseArticle([]byte(a))
		if err != nil {
			panic(err)
		}
		if err := b.Post(ctx, art, "", true); err != nil {
			panic(err)
		}
	}
	return b
}

func startServer(t *testing.T, ln net.Listener, configure func(*Server)) *testServer {
	t.Helper()
	b := newTestBackend()
	s := &Server{Backend: b, Logger: quietLog, Hostname: "news.test"}
	if configure != nil {
		configure(s)
	}
	return &testServer{Server: s, b: b, addr: testkit.Serve(t, s, ln)}
}

func dialNNTP(t *testing.T, addr string) *testkit.Transcript {
	t.Helper()
	c := testkit.Dial(t, addr)
	c.Expect("20")
	return c
}

// multi reads a multi-line block up to ".".
func multi(c *testkit.Transcript) []string {
	var out []string
	for {
		l := c.Line()
		if l == "." {
			return out
		}
		out = append(out, l)
	}
}

func login(t *testing.T, c *testkit.Transcript, user, pass string) {
	t.Helper()
	c.Do("AUTHINFO USER "+user, 381)
	c.Do("AUTHINFO PASS "+pass, 281)
}

func dialClient(t *testing.T, addr string) *Client {
	t.Helper()
	c, err := Dial(context.Background(), addr)
	if err != nil {
		t.Fatalf("Dial(%s): %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func readAll(t *testing.T, r io.Reader) string {
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func post(subject, groups string, extra ...string) string {
	return "From: poster@example.org\r\nNewsgroups: " + groups + "\r\nSubject: " + subject + "\r\n" +
		strings.Join(extra, "") + "\r\nHello\r\n"
}
