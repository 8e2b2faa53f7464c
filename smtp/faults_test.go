package smtp

import (
	"context"
	"sync"
	"testing"
)

// stepFaults answers the steps it has a reply for, and records the
// steps it was asked about.
type stepFaults struct {
	mu    sync.Mutex
	by    map[string]*Error
	asked []string
}

func (f *stepFaults) Fault(_ context.Context, step string) *Error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, step)
	return f.by[step]
}

func (f *stepFaults) set(step string, e *Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.by[step] = e
}

func TestFaultsRefuseStepsAndStoreNothing(t *testing.T) {
	b := &MemoryBackend{}
	f := &stepFaults{by: map[string]*Error{"data": {Code: 451, Msg: "injected"}}}
	addr := startServer(t, &Server{Backend: b, Faults: f})
	s := dialSession(t, addr)
	s.cmd("EHLO client.test", "250 ")
	s.cmd("MAIL FROM:<a@client.test>", "250 ")
	s.cmd("RCPT TO:<b@mx.test>", "250 ")
	if r := s.cmd("DATA", "451 "); r != "451 4.0.0 injected" {
		t.Errorf("DATA under a fault = %q, want %q", r, "451 4.0.0 injected")
	}
	if n := len(b.Messages()); n != 0 {
		t.Fatalf("%d messages stored after a refused DATA, want 0", n)
	}
	f.set("data", nil)
	f.set("rcpt", &Error{Code: 550, Msg: "no such user (injected)", EnhancedCode: EnhancedCode{5, 1, 1}})
	s.cmd("RCPT TO:<c@mx.test>", "550 5.1.1 no such user")
	s.cmd("DATA", "354 ")
	s.send("Subject: x\r\n\r\nhi\r\n.\r\n")
	s.expect("250 ")
	if n := len(b.Messages()); n != 1 {
		t.Fatalf("%d messages stored, want 1", n)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	want := []string{"ehlo", "mail", "rcpt", "data", "rcpt", "data"}
	if len(f.asked) != len(want) {
		t.Fatalf("Faults asked about %v, want %v", f.asked, want)
	}
	for i := range want {
		if f.asked[i] != want[i] {
			t.Fatalf("Faults asked about %v, want %v", f.asked, want)
		}
	}
}
