package ftp

import (
	"context"
	"io"
	"sync"
	"testing"
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

func TestFaultsRefuseControlAndDataSteps(t *testing.T) {
	f := &stepFaults{by: map[string]*Error{"stor": {Code: 452, Msg: "injected: no room"}}}
	ts := startServer(t, func(s *Server) { s.Faults = f })
	c := dialT(t, ts.addr)
	c.login("alice", "secret")
	if msg := c.Do("STOR a.txt", 452); msg != "452 injected: no room" {
		t.Errorf("STOR under a fault = %q", msg)
	}
	f.set("stor", nil)
	f.set("data", &Error{Code: 425, Msg: "injected: no data connection"})
	d := c.epsv()
	c.Do("STOR a.txt", 425)
	if n, _ := io.ReadAll(d); len(n) != 0 {
		t.Errorf("the refused data connection carried %q", n)
	}
	if _, err := ts.home.ReadFile("a.txt"); err == nil {
		t.Error("a.txt was stored through a refused data connection")
	}
	f.set("data", nil)
	d = c.epsv()
	c.Do("STOR a.txt", 150)
	d.Write([]byte("hello"))
	d.Close()
	if code, msg := c.Reply(); code != 226 {
		t.Fatalf("STOR's last reply = %q, want 226", msg)
	}
	if b, err := ts.home.ReadFile("a.txt"); err != nil || string(b) != "hello" {
		t.Errorf("a.txt after the fault = %q, %v", b, err)
	}
}
