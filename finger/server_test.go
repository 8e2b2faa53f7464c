package finger

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

var (
	t0   = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	plan = "Write a \x1b[31mfinger\x1b[0m server.\nThen rest."
	proj = "plumb"
)

func testBackend() *MemoryBackend {
	m := &MemoryBackend{}
	m.Set(Entry{Login: "alice", Name: "Alice Liddell", LastLogin: Login{User: "alice", Protocol: "pop3", Since: t0}, LastLoginShown: true,
		Sessions: []Login{{User: "alice", Name: "Alice Liddell", Protocol: "ftp", Since: t0.Add(time.Hour)}},
		Mail:     &MailStatus{Unread: 3}, Plan: &plan, Project: &proj})
	empty := ""
	m.Set(Entry{Login: "bob", LastLoginShown: true, Plan: &empty})
	return m
}

// gatedBackend waits at the gate in User, for the conformance test.
type gatedBackend struct {
	*MemoryBackend
	gate *testkit.Gate
}

func (b gatedBackend) User(ctx context.Context, c ConnInfo, name string, verbose bool) (*Entry, error) {
	if err := b.gate.Wait(ctx); err != nil {
		return nil, err
	}
	return b.MemoryBackend.User(ctx, c, name, verbose)
}

func TestConformance(t *testing.T) {
	testkit.Conformance(t, testkit.Target{
		New: func(t *testing.T, gate *testkit.Gate) testkit.StreamServer {
			return &Server{Backend: gatedBackend{testBackend(), gate}, Logger: quietLog}
		},
		Busy: func(t *testing.T, c *testkit.Transcript) { c.Send("alice") },
		Finish: func(t *testing.T, c *testkit.Transcript) {
			if got := c.Line(); !strings.HasPrefix(got, "Login: alice") {
				t.Errorf("answer to alice = %q, want Login: alice...", got)
			}
		},
	})
}

func start(t *testing.T, s *Server) string {
	t.Helper()
	if s.Backend == nil {
		s.Backend = testBackend()
	}
	s.Logger, s.Location = quietLog, time.UTC
	return testkit.Serve(t, s, nil)
}

// ask sends line raw and returns the whole answer.
func ask(t *testing.T, addr, raw string) string {
	t.Helper()
	c := testkit.Dial(t, addr)
	c.Write(raw)
	b, err := io.ReadAll(c.R)
	if err != nil {
		t.Fatalf("reading the answer to %q: %v", raw, err)
	}
	return string(b)
}

func TestAnswers(t *testing.T) {
	addr := start(t, &Server{ListUsers: true})
	for _, tc := range []struct{ query, want string }{
		{"alice\r\n", "Login: alice                     Name: Alice Liddell\r\n" +
			"Last login Wed Mar  4 05:06 2026 (UTC) over pop3\r\n" +
			"3 unread messages.\r\n" +
			"Plan:\r\nWrite a ^[[31mfinger^[[0m server.\r\nThen rest.\r\n"},
		{"/W ALICE\r\n", "Login: alice                     Name: Alice Liddell\r\n" +
			"Last login Wed Mar  4 05:06 2026 (UTC) over pop3\r\n" +
			"On since Wed Mar  4 06:06 2026 (UTC) over ftp\r\n" +
			"3 unread messages.\r\n" +
			"Project: plumb\r\n" +
			"Plan:\r\nWrite a ^[[31mfinger^[[0m server.\r\nThen rest.\r\n"},
		{"bob\n", "Login: bob\r\nNever logged in.\r\nNo Plan.\r\n"},
		{"carol\r\n", "finger: carol: no such user.\r\n"},
		{"\r\n", "Login            Name                     Service  Since\r\n" +
			"alice            Alice Liddell            ftp      Wed Mar  4 06:06 2026 (UTC)\r\n"},
		{"alice bob\r\n", "finger: bad query\r\n"},
		{"/X\r\n", "finger: bad query\r\n"},
		{"a\x00b\r\n", "finger: bad query\r\n"},
		{"alice@example.org\r\n", "finger: forwarding is refused here.\r\n"},
		{strings.Repeat("a", 600) + "\r\n", "finger: query too long\r\n"},
		{strings.Repeat("a", 200_000) + "\r\n", "finger: query too long\r\n"},
	} {
		if got := ask(t, addr, tc.query); got != tc.want {
			t.Errorf("query %.40q: answer = %q, want %q", tc.query, got, tc.want)
		}
	}
}

func TestListingOffByDefault(t *testing.T) {
	addr := start(t, &Server{})
	want := "finger: listing of users is not offered here.\r\n"
	for _, q := range []string{"\r\n", "/W\r\n"} {
		if got := ask(t, addr, q); got != want {
			t.Errorf("query %q with ListUsers off = %q, want %q", q, got, want)
		}
	}
}

func TestForwarding(t *testing.T) {
	far := &MemoryBackend{}
	far.Set(Entry{Login: "zed", Name: "Zed \x07Bell"})
	farAddr := start(t, &Server{Backend: far})
	p := portOf(t, farAddr)
	addr := start(t, &Server{Forward: true, ForwardPort: p, ForwardTimeout: 5 * time.Second})
	if got, want := ask(t, addr, "zed@127.0.0.1\r\n"), "[127.0.0.1]\r\nLogin: zed                       Name: Zed ^GBell\r\n"; got != want {
		t.Errorf("forwarded zed@127.0.0.1 = %q, want %q", got, want)
	}
	if got, want := ask(t, addr, "zed@127.0.0.1@127.0.0.1\r\n"), "finger: forwarding is limited to one host.\r\n"; got != want {
		t.Errorf("two hops = %q, want %q", got, want)
	}
	// A host that never answers: the forward gives up at ForwardTimeout.
	silent := testkit.Listen(t)
	p = portOf(t, silent.Addr().String())
	addr = start(t, &Server{Forward: true, ForwardPort: p, ForwardTimeout: 200 * time.Millisecond})
	begin := time.Now()
	if got, want := ask(t, addr, "zed@127.0.0.1\r\n"), "finger: 127.0.0.1: no answer.\r\n"; got != want {
		t.Errorf("forward to a silent host = %q, want %q", got, want)
	}
	if d := time.Since(begin); d > 3*time.Second {
		t.Errorf("forward to a silent host took %v, want about ForwardTimeout (200ms)", d)
	}
}

func TestLineTimeout(t *testing.T) {
	addr := start(t, &Server{LineTimeout: 100 * time.Millisecond, IdleTimeout: 5 * time.Second})
	c := testkit.Dial(t, addr)
	c.Write("ali") // and never the rest
	if !c.Closed(3 * time.Second) {
		t.Fatal("a query line trickling in is still open after LineTimeout")
	}
	addr = start(t, &Server{IdleTimeout: 100 * time.Millisecond})
	if c := testkit.Dial(t, addr); !c.Closed(3 * time.Second) {
		t.Fatal("a connection sending nothing is still open after IdleTimeout")
	}
}

// panicking panics in User; the session answers and only it ends.
type panicking struct{}

func (panicking) User(context.Context, ConnInfo, string, bool) (*Entry, error) { panic("boom") }

func TestPanicEndsOneSession(t *testing.T) {
	addr := start(t, &Server{Backend: panicking{}})
	for range 2 {
		if got, want := ask(t, addr, "x\r\n"), "finger: internal error\r\n"; got != want {
			t.Errorf("answer after a panic = %q, want %q", got, want)
		}
	}
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	p, err2 := strconv.Atoi(port)
	if err != nil || err2 != nil {
		t.Fatalf("port of %q: %v %v", addr, err, err2)
	}
	return p
}
