package telnet

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// clientReader reads a Client's data until text appears.
type clientReader struct {
	t   *testing.T
	c   *Client
	got bytes.Buffer
}

func (r *clientReader) until(text string) string {
	r.t.Helper()
	buf := make([]byte, 1024)
	for !strings.Contains(r.got.String(), text) {
		n, err := r.c.Read(buf)
		r.got.Write(buf[:n])
		if err != nil {
			r.t.Fatalf("Read waiting for %q: %v; got %q", text, err, r.got.String())
		}
	}
	s := r.got.String()
	i := strings.Index(s, text) + len(text)
	r.got.Reset()
	r.got.WriteString(s[i:])
	return s[:i]
}

// TestClientAgainstServer: our client negotiates with our server: the
// server echoes, the terminal type, window size and environment reach
// the program, a resize reaches it while it runs.
func TestClientAgainstServer(t *testing.T) {
	_, addr := startServer(t, func(s *Server) { s.NegotiationWait = 5 * time.Second }, nil)
	c, err := Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Conn().SetDeadline(time.Now().Add(20 * time.Second))
	c.TermType = "xterm"
	c.Env = []EnvVar{{Name: "LANG", Value: "en_US.UTF-8"}}
	c.SetWindowSize(120, 40)
	if err := c.Negotiate(); err != nil {
		t.Fatal(err)
	}
	r := &clientReader{t: t, c: c}
	r.until("login: ")
	c.Write([]byte("alice\r\n"))
	if got := r.until("Password: "); !strings.Contains(got, "alice") {
		t.Errorf("server did not echo the name: %q", got)
	}
	if !c.RemoteEcho() || !c.Enabled(SuppressGoAhead, true) || !c.Enabled(NAWS, false) || !c.Enabled(TerminalType, false) {
		t.Errorf("options after the hello: echo %v sga %v naws %v ttype %v, want all on",
			c.RemoteEcho(), c.Enabled(SuppressGoAhead, true), c.Enabled(NAWS, false), c.Enabled(TerminalType, false))
	}
	c.Write([]byte("secret\r"))
	r.until("$ ")
	for cmd, want := range map[string]string{"term": "TERM=xterm", "size": "size=120x40", "env LANG": `env LANG="en_US.UTF-8" true`} {
		c.Write([]byte(cmd + "\r"))
		if got := r.until("$ "); !strings.Contains(got, want) {
			t.Errorf("%s: got %q, want %q", cmd, got, want)
		}
	}
	c.SetWindowSize(81, 25)
	r.until("resized 81x25")
	c.Write([]byte("exit\r"))
	r.until("bye")
}
