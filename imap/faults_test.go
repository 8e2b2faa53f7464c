package imap

import (
	"context"
	"sync"
	"testing"

	"github.com/plumbnet/plumb/internal/testkit"
)

type stepFaults struct {
	mu sync.Mutex
	by map[string]*Error
}

func (f *stepFaults) Fault(_ context.Context, step string) *Error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.by[step]
}

func (f *stepFaults) set(step string, e *Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.by[step] = e
}

func TestFaultsRefuseLoginAndBodyFetch(t *testing.T) {
	be := NewMemoryBackend()
	be.AddUser("alice", "pw")
	be.Deliver("alice", "INBOX", []byte("Subject: hi\r\n\r\nbody\r\n"))
	f := &stepFaults{by: map[string]*Error{"login": {Code: "UNAVAILABLE", Text: "injected"}}}
	addr := testkit.Serve(t, &Server{Backend: be, Faults: f}, nil)
	s := dial(t, addr)
	s.want("a LOGIN alice pw", "NO [UNAVAILABLE] injected")
	f.set("login", nil)
	f.set("fetch", &Error{Type: "NO", Text: "fetch refused"})
	s.ok("b LOGIN alice pw")
	s.ok("c SELECT INBOX")
	s.ok("d FETCH 1 (FLAGS RFC822.SIZE)") // no message text: not asked
	s.want("e FETCH 1 (BODY.PEEK[])", "NO fetch refused")
	s.want("f UID FETCH 1 RFC822", "NO fetch refused")
	f.set("fetch", nil)
	if lines := s.ok("g FETCH 1 (BODY.PEEK[TEXT])"); !has(lines, "BODY[TEXT]") {
		t.Errorf("FETCH after the fault = %q", lines)
	}
}

func TestFaultStep(t *testing.T) {
	for _, c := range []struct{ name, line, want string }{
		{"LOGIN", "a LOGIN u p", "login"},
		{"AUTHENTICATE", "a AUTHENTICATE PLAIN", "login"},
		{"FETCH", "a FETCH 1:* (FLAGS)", ""},
		{"FETCH", "a FETCH 1:* FULL", ""},
		{"FETCH", "a FETCH 1 RFC822.SIZE", ""},
		{"FETCH", "a FETCH 1 (RFC822.SIZE RFC822.HEADER)", "fetch"},
		{"FETCH", "a UID FETCH 1 (BODY[HEADER.FIELDS (SUBJECT)])", "fetch"},
		{"FETCH", "a FETCH 1 binary.peek[1]", "fetch"},
		{"SELECT", "a SELECT INBOX", ""},
	} {
		if got := faultStep(c.name, c.line); got != c.want {
			t.Errorf("faultStep(%q, %q) = %q, want %q", c.name, c.line, got, c.want)
		}
	}
}
