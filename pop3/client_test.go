package pop3

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/plumbnet/plumb/sasl"
)

func TestClientAgainstServer(t *testing.T) {
	ts := startServer(t, func(s *Server) { s.TLSConfig = testTLSConfig(t) })
	c, err := Dial(ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	caps, err := c.Capabilities()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := caps["STLS"]; !ok {
		t.Errorf("Capabilities() = %v, want STLS", caps)
	}
	if err := c.StartTLS(testClientTLS()); err != nil {
		t.Fatalf("StartTLS = %v", err)
	}
	if err := c.Auth(sasl.NewPlainClient("", "alice", "wrong")); err == nil {
		t.Fatalf("Auth with a wrong password succeeded")
	} else {
		var pe *Error
		if !errors.As(err, &pe) || pe.Code != "AUTH" {
			t.Errorf("Auth(wrong) = %v, want an *Error with code AUTH", err)
		}
	}
	if err := c.Auth(sasl.NewLoginClient("alice", "secret")); err != nil {
		t.Fatalf("Auth(LOGIN) = %v", err)
	}
	list, err := c.List()
	if err != nil || len(list) != 2 || list[1].Size != 50 {
		t.Fatalf("List() = %v, %v", list, err)
	}
	uids, err := c.UIDL()
	if err != nil || len(uids) != 2 || uids[0].UID != "m1" {
		t.Fatalf("UIDL() = %v, %v", uids, err)
	}
	if mi, err := c.UIDLOne(2); err != nil || mi.UID != "m2" {
		t.Errorf("UIDLOne(2) = %v, %v", mi, err)
	}
	body, err := c.Retr(2)
	want := "Subject: two\r\n\r\n.dotted line\r\nline 2\r\nline 3\r\n..\r\n"
	if err != nil || string(body) != want {
		t.Errorf("Retr(2) = %q, %v; want %q", body, err, want)
	}
	if int64(len(body)) != list[1].Size {
		t.Errorf("Retr(2) gave %d bytes, LIST said %d", len(body), list[1].Size)
	}
	top, err := c.Top(1, 0)
	if err != nil || string(top) != "Subject: one\r\n\r\n" {
		t.Errorf("Top(1, 0) = %q, %v", top, err)
	}
	if _, err := c.Retr(9); err == nil {
		t.Errorf("Retr(9) succeeded")
	}
	if err := c.Dele(1); err != nil {
		t.Fatal(err)
	}
	if err := c.Rset(); err != nil {
		t.Fatal(err)
	}
	if err := c.Noop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
	if n := len(ts.b.Bodies("alice")); n != 2 {
		t.Errorf("after RSET and QUIT %d messages, want 2", n)
	}
}

func TestClientRefusesInjection(t *testing.T) {
	ts := startServer(t, nil)
	c, err := Dial(ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, bad := range []string{"alice\r\nDELE 1", "a\nb", "x\x00"} {
		if err := c.User(bad); !errors.Is(err, ErrBadArgument) {
			t.Errorf("User(%q) = %v, want ErrBadArgument", bad, err)
		}
		if err := c.APOP(bad, "s"); !errors.Is(err, ErrBadArgument) {
			t.Errorf("APOP(%q) = %v, want ErrBadArgument", bad, err)
		}
	}
}

func TestFetch(t *testing.T) {
	ts := startServer(t, nil)
	for i := range 40 {
		ts.b.Deliver("alice", fmt.Sprintf("Subject: %d\r\n\r\n.body %d\r\n", i, i))
	}
	c, err := Dial(ts.addr)
	if err != nil {
		t.Fatal(err)
	}
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

func TestShutdownLeavesNoGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	b := NewMemoryBackend()
	b.AddUser("alice", "secret", "")
	s := &Server{Backend: b}
	ln, err := listenLoopback()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	c, err := Dial(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login("alice", "secret"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown = %v", err)
	}
	if err := <-done; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve after Shutdown = %v, want ErrServerClosed", err)
	}
	if err := c.Noop(); err == nil {
		t.Errorf("idle session still served after Shutdown")
	}
	c.Close()
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

// FuzzWriteMessage checks that whatever a message holds, the wire form
// is CRLF lines, ends in ".", and the client's reading gives back the
// message with CRLF line ends.
func FuzzWriteMessage(f *testing.F) {
	for _, s := range []string{"a\nb\n", "a\r\nb", ".\r\n", "..\n.\n", "\r", "x\r\r\n", "", "\n\n.x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		var wire bytes.Buffer
		bw := bufio.NewWriter(&wire)
		if err := writeMessage(bw, strings.NewReader(msg), -1); err != nil {
			t.Fatal(err)
		}
		bw.Flush()
		w := wire.String()
		if !strings.HasSuffix(w, ".\r\n") {
			t.Fatalf("wire %q does not end in .CRLF", w)
		}
		if strings.Count(w, "\n") != strings.Count(w, "\r\n") {
			t.Fatalf("wire %q has a bare LF", w)
		}
		c := &Client{br: bufio.NewReader(strings.NewReader(w)), conn: nopConn{}}
		var back bytes.Buffer
		if _, err := c.readBody(&back); err != nil {
			t.Fatalf("readBody(%q) = %v", w, err)
		}
		want := strings.ReplaceAll(strings.ReplaceAll(msg, "\r\n", "\n"), "\n", "\r\n")
		if want != "" && !strings.HasSuffix(want, "\r\n") {
			want += "\r\n"
		}
		if back.String() != want {
			t.Fatalf("message %q: wire %q read back as %q, want %q", msg, w, back.String(), want)
		}
	})
}
