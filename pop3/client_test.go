package pop3

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
	"github.com/plumbnet/plumb/internal/wire"
	"github.com/plumbnet/plumb/sasl"
)

func TestClientAgainstServer(t *testing.T) {
	server, client := testkit.TLS(t)
	ts := startServer(t, nil, func(s *Server) { s.TLSConfig = server })
	d := Dialer{TLSConfig: client}
	c, err := d.Dial(context.Background(), ts.addr)
	if err != nil {
		t.Fatalf("Dial(%s) = %v", ts.addr, err)
	}
	defer c.Close()
	caps, err := c.Capabilities()
	if err != nil {
		t.Fatalf("Capabilities() = %v", err)
	}
	if _, ok := caps["STLS"]; !ok {
		t.Errorf("Capabilities() = %v, want STLS", caps)
	}
	if err := c.StartTLS(nil); err != nil {
		t.Fatalf("StartTLS(nil) = %v, want the Dialer's config", err)
	}
	var pe *Error
	if err := c.Auth(sasl.NewPlainClient("", "alice", "wrong")); !errors.As(err, &pe) || pe.Code != "AUTH" || pe.Command != "AUTH" {
		t.Errorf("Auth(PLAIN, wrong) = %v, want an *Error with code AUTH", err)
	}
	if err := c.Auth(sasl.NewLoginClient("alice", "secret")); err != nil {
		t.Fatalf("Auth(LOGIN) = %v", err)
	}
	list, err := c.List()
	if err != nil || len(list) != 2 || list[1].Size != 50 {
		t.Fatalf("List() = %v, %v; want 2 messages, the second of 50 octets", list, err)
	}
	uids, err := c.UIDL()
	if err != nil || len(uids) != 2 || uids[0].UID != "m1" {
		t.Fatalf("UIDL() = %v, %v; want m1 first", uids, err)
	}
	if mi, err := c.UIDLOne(2); err != nil || mi.UID != "m2" {
		t.Errorf("UIDLOne(2) = %v, %v; want m2", mi, err)
	}
	body, err := c.Retr(2)
	want := "Subject: two\r\n\r\n.dotted line\r\nline 2\r\nline 3\r\n..\r\n"
	if err != nil || string(body) != want {
		t.Errorf("Retr(2) = %q, %v; want %q", body, err, want)
	}
	if int64(len(body)) != list[1].Size {
		t.Errorf("Retr(2) gave %d bytes, LIST said %d", len(body), list[1].Size)
	}
	if top, err := c.Top(1, 0); err != nil || string(top) != "Subject: one\r\n\r\n" {
		t.Errorf("Top(1, 0) = %q, %v; want the header and the blank line", top, err)
	}
	if _, err := c.Retr(9); !errors.As(err, &pe) {
		t.Errorf("Retr(9) = %v, want an *Error", err)
	}
	for _, step := range []struct {
		name string
		f    func() error
	}{{"Dele(1)", func() error { return c.Dele(1) }}, {"Rset()", c.Rset}, {"Noop()", c.Noop}, {"Quit()", c.Quit}} {
		if err := step.f(); err != nil {
			t.Fatalf("%s = %v", step.name, err)
		}
	}
	if n := len(ts.b.Bodies("alice")); n != 2 {
		t.Errorf("after RSET and QUIT %d messages, want 2", n)
	}
}

func TestClientRefusesInjection(t *testing.T) {
	c := dialClient(t, startServer(t, nil, nil).addr)
	for _, bad := range []string{"alice\r\nDELE 1", "a\nb", "x\x00"} {
		if err := c.User(bad); !errors.Is(err, ErrBadArgument) {
			t.Errorf("User(%q) = %v, want ErrBadArgument", bad, err)
		}
		if err := c.APOP(bad, "s"); !errors.Is(err, ErrBadArgument) {
			t.Errorf("APOP(%q) = %v, want ErrBadArgument", bad, err)
		}
		if err := c.Pass(bad); !errors.Is(err, ErrBadArgument) || strings.Contains(err.Error(), bad) {
			t.Errorf("Pass(%q) = %v, want ErrBadArgument without the password", bad, err)
		}
	}
}

func TestFetch(t *testing.T) {
	ts := startServer(t, nil, nil)
	for i := range 40 {
		ts.b.Deliver("alice", fmt.Sprintf("Subject: %d\r\n\r\n.body %d\r\n", i, i))
	}
	c := dialClient(t, ts.addr)
	if err := c.Login("alice", "secret"); err != nil {
		t.Fatal(err)
	}
	var got []string
	n, err := c.Fetch(func(uid string) bool { return uid == "m1" || uid == "m5" }, true,
		func(mi MessageInfo, body []byte) error {
			got = append(got, mi.UID)
			if mi.UID == "m10" && string(body) != "Subject: 7\r\n\r\n.body 7\r\n" {
				t.Errorf("Fetch body of m10 = %q", body)
			}
			return nil
		})
	if err != nil || n != 40 || len(got) != 40 || got[0] != "m2" || got[3] != "m6" {
		t.Fatalf("Fetch = %d, %v; fetched %v", n, err, got)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
	left := ts.b.Bodies("alice")
	if len(left) != 2 || !strings.Contains(left[0], "one") || !strings.Contains(left[1], "Subject: 2") {
		t.Errorf("after Fetch with delete: %q, want the two skipped messages", left)
	}
}

// fakeServer plays a scripted server on one end of a pipe: for each
// expected client line it sends the given reply.
func fakeServer(t *testing.T, greeting string, script [][2]string) *Client {
	t.Helper()
	cs, ss := net.Pipe()
	go func() {
		defer ss.Close()
		br := bufio.NewReader(ss)
		ss.Write([]byte(greeting + "\r\n"))
		for _, step := range script {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if got := strings.TrimSuffix(l, "\r\n"); got != step[0] {
				t.Errorf("client sent %q, want %q", got, step[0])
				return
			}
			ss.Write([]byte(step[1]))
		}
	}()
	c, err := NewClient(cs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestClientAPOPDigest(t *testing.T) {
	// RFC 1939 section 7's timestamp and secret; the digest as Python's hashlib computes it.
	c := fakeServer(t, "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>", [][2]string{
		{"APOP mrose a6f0dd348916c9ee9539661f94c75203", "+OK maildrop has 1 message (369 octets)\r\n"},
	})
	if err := c.APOP("mrose", "tanstaafl"); err != nil {
		t.Errorf("APOP(mrose) = %v", err)
	}
}

// hostileServer greets with greeting (none when empty) and reads one
// command, then sends reply and size bytes of "x" with no line end, as
// fast as the client takes them.
func hostileServer(greeting, reply string, size int) net.Conn {
	cs, ss := net.Pipe()
	go func() {
		defer ss.Close()
		if greeting != "" {
			ss.Write([]byte(greeting))
			if _, err := bufio.NewReader(ss).ReadString('\n'); err != nil {
				return
			}
		}
		if _, err := ss.Write([]byte(reply)); err != nil {
			return
		}
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := ss.Write(chunk); err != nil {
				return // the client hung up, as it should
			}
		}
	}()
	return cs
}

// TestClientBoundedReads: a server's endless line fails fast with a
// clear error instead of exhausting the client's memory.
func TestClientBoundedReads(t *testing.T) {
	const hundredMB = 100 << 20
	start := time.Now()
	if _, err := NewClient(hostileServer("", "+OK ", hundredMB)); !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "line over") {
		t.Errorf("NewClient with a 100 MB greeting line = %v, want ErrProtocol (line over ...)", err)
	}
	c, err := NewClient(hostileServer("+OK ready\r\n", "+OK\r\nSubject: x\r\n\r\n", hundredMB))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Retr(1); !errors.Is(err, ErrProtocol) {
		t.Errorf("Retr(1) with a 100 MB body line = %v, want ErrProtocol", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("100 MB lines took %v to refuse, want them refused at once", d)
	}

	var lines strings.Builder
	for range 100 {
		lines.WriteString(strings.Repeat("y", 998) + "\r\n")
	}
	c = fakeServer(t, "+OK ready", [][2]string{{"RETR 1", "+OK\r\n" + lines.String() + ".\r\n"}})
	c.MaxMessageSize = 50 << 10
	if _, err := c.Retr(1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Retr(1) of 100 KB with MaxMessageSize 50 KB = %v, want ErrTooLarge", err)
	}
}

func TestDialerTimeout(t *testing.T) {
	ln := testkit.Listen(t)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			io.Copy(io.Discard, c) // never greets
		}
	}()
	start := time.Now()
	d := Dialer{Timeout: 200 * time.Millisecond}
	if _, err := d.Dial(context.Background(), ln.Addr().String()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Dial to a server that never greets = %v, want context.DeadlineExceeded", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("Dial gave up after %v, want about 200ms", el)
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"USER alice", "PASS a b  c", "TOP 1 10", "retr 1", "AUTH PLAIN =", "X\x00", "LIST  1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		c, err := parseCommand(line)
		if err != nil {
			return
		}
		if c.name == "" || len(c.name) > maxKeyword || strings.ToUpper(c.name) != c.name {
			t.Fatalf("parseCommand(%q) name %q", line, c.name)
		}
		if strings.ContainsAny(c.rest, "\r\n\x00") || len(c.args) > maxArgs {
			t.Fatalf("parseCommand(%q) = %+v", line, c)
		}
	})
}

// wireForm is a message as the server sends it: every line end (LF,
// CRLF, a lone CR) as CRLF, and one after the last line.
func wireForm(msg string) string {
	w := strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(msg, "\r\n", "\n"), "\r", "\n"), "\n", "\r\n")
	if w != "" && !strings.HasSuffix(w, "\r\n") {
		w += "\r\n"
	}
	return w
}

// FuzzWriteMessage checks that whatever a message holds, the client
// reads back its wire form, of the size LIST reports, and that TOP gives
// a prefix of it that ends at a line end.
func FuzzWriteMessage(f *testing.F) {
	for _, s := range []string{"a\nb\n", "a\r\nb", ".\r\n", "..\n.\n", "\r", "x\r\r\n", "", "\n\n.x", "h\r\rb\nc"} {
		f.Add(s, 1)
	}
	f.Fuzz(func(t *testing.T, msg string, top int) {
		readBack := func(lines int) string {
			var out bytes.Buffer
			bw := bufio.NewWriter(&out)
			if err := writeMessage(bw, strings.NewReader(msg), lines); err != nil {
				t.Fatal(err)
			}
			w := out.String()
			if !strings.HasSuffix(w, ".\r\n") || strings.Count(w, "\n") != strings.Count(w, "\r\n") {
				t.Fatalf("writeMessage(%q, %d) = %q, want CRLF lines ending in .CRLF", msg, lines, w)
			}
			c := &Client{conn: nopConn{}, br: bufio.NewReader(strings.NewReader(w))}
			c.lr = wire.NewReader(c.br)
			c.lr.Lenient = true
			var back bytes.Buffer
			if _, err := c.readBody(&back, 0); err != nil {
				t.Fatalf("readBody(%q) = %v", w, err)
			}
			return back.String()
		}
		want := wireForm(msg)
		if got := readBack(-1); got != want || int64(len(got)) != wireSize(msg) {
			t.Fatalf("message %q read back as %q (wireSize %d), want %q", msg, got, wireSize(msg), want)
		}
		top = max(top, 0) % 8
		if got := readBack(top); !strings.HasPrefix(want, got) || got != "" && !strings.HasSuffix(got, "\r\n") {
			t.Fatalf("TOP %d of %q = %q, want a prefix of %q ending in CRLF", top, msg, got, want)
		}
	})
}
