package lifecycle_test

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/lifecycle"
)

// TestWakerWakeNotLost: a Wake ends a wait, and a deadline the session
// sets after it (for its next line, or a handshake) stays in the past.
func TestWakerWakeNotLost(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	w := lifecycle.NewWaker(a, time.Second)
	defer w.Close()
	w.Wake() // not waiting: nothing happens
	if w.Woken() {
		t.Fatal("Wake while not waiting woke the session")
	}
	w.SetWaiting(true)
	w.Wake()
	for _, set := range []func(time.Time) error{w.SetReadDeadline, w.SetDeadline} {
		if err := set(time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { _, err := a.Read(make([]byte, 1)); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("read after Wake = %v, want a deadline error", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a deadline set after Wake was not in the past")
		}
	}
}

// TestWakerWrite: a write that the peer does not take ends at the
// write timeout.
func TestWakerWrite(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	w := lifecycle.NewWaker(a, 20*time.Millisecond)
	defer w.Close()
	if _, err := w.Write([]byte("x")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Write to a peer that does not read = %v, want a deadline error", err)
	}
}

func TestOrDefaultAndWireTimeout(t *testing.T) {
	if lifecycle.OrDefault(0, 5) != 5 || lifecycle.OrDefault(-1, 5) != 5 || lifecycle.OrDefault(int64(3), 5) != 3 {
		t.Error("OrDefault")
	}
	if lifecycle.WireTimeout(0, time.Second) != time.Second || lifecycle.WireTimeout(-1, time.Second) != -1 ||
		lifecycle.WireTimeout(2*time.Second, time.Second) != 2*time.Second || lifecycle.WireTimeout(0, 0) != -1 {
		t.Error("WireTimeout")
	}
}
