package daemon

import (
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// TestTelnetLoginInPresence: a telnet session is in the presence record
// while it lasts (finger's sessions) and leaves its last login.
func TestTelnetLoginInPresence(t *testing.T) {
	d, addr := telnetDaemon(t, nil)
	s := dialTelnet(t, addr)
	s.login("alice", "alice-password")
	s.until("plumb> ")
	if ss := d.Presence().Sessions("alice"); len(ss) != 1 || ss[0].protocol != "telnet" {
		t.Errorf("sessions of alice during a telnet session = %+v, want one over telnet", ss)
	}
	s.c.Write([]byte("quit\r\n"))
	s.until("bye")
	testkit.Eventually(t, 5*time.Second, "the telnet session ended in the presence record", func() bool {
		return len(d.Presence().Sessions("alice")) == 0
	})
	if l, ok := d.Presence().Last("alice"); !ok || l.Protocol != "telnet" {
		t.Errorf("last login of alice = %+v, %v; want telnet", l, ok)
	}
}
