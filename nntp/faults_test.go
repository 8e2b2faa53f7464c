package nntp

import (
	"context"
	"net/netip"
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

func TestFaultsRefusePostIHaveTakeThis(t *testing.T) {
	f := &stepFaults{by: map[string]*Error{"post": {Code: 441, Msg: "injected"}}}
	ts := startServer(t, nil, func(s *Server) {
		s.FeedFrom = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		s.Faults = f
	})
	c := dialNNTP(t, ts.addr)
	c.Do("AUTHINFO USER alice", 381)
	c.Do("AUTHINFO PASS secret", 281)
	if msg := c.Do("POST", 441); msg != "441 injected" {
		t.Errorf("POST under a fault = %q", msg)
	}
	f.set("post", &Error{Code: 436, Msg: "later"})
	c.Do("IHAVE <f1@peer>", 436)
	f.set("post", &Error{Code: 439})
	c.Write("TAKETHIS <f2@peer>\r\n" + peerArticle("<f2@peer>", "peer") + ".\r\n")
	c.Expect("439 <f2@peer>")
	c.Do("STAT <f2@peer>", 430) // not stored
	f.set("post", nil)
	c.Do("POST", 340)
	c.Write(post("after", "misc.test") + ".\r\n")
	c.Expect("240 ")
	c.Write("TAKETHIS <f2@peer>\r\n" + peerArticle("<f2@peer>", "peer") + ".\r\n")
	c.Expect("239 <f2@peer>")
}
