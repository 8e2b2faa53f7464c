package pop3

import (
	"context"
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

func TestFaultsRefuseLoginAndFetch(t *testing.T) {
	f := &stepFaults{by: map[string]*Error{"login": {Code: "SYS/TEMP", Msg: "injected"}}}
	srv := startServer(t, nil, func(s *Server) { s.Faults = f })
	c := dialPOP(t, srv.addr)
	do(c, "USER alice", "+OK")
	if got := do(c, "PASS secret", "-ERR"); got != "-ERR [SYS/TEMP] injected" {
		t.Errorf("PASS under a fault = %q", got)
	}
	f.set("login", nil)
	f.set("fetch", &Error{Msg: "fetch refused"})
	do(c, "USER alice", "+OK")
	do(c, "PASS secret", "+OK")
	do(c, "RETR 1", "-ERR fetch refused")
	do(c, "TOP 1 0", "-ERR fetch refused")
	do(c, "STAT", "+OK 2 ")
	f.set("fetch", nil)
	do(c, "RETR 1", "+OK")
	if body := multi(c); len(body) == 0 || body[0] != "Subject: one" {
		t.Errorf("RETR 1 after the fault = %q", body)
	}
}
