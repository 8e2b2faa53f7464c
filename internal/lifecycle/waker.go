package lifecycle

import (
	"net"
	"sync"
	"time"
)

// A Waker is the connection of a session that waits for its peer
// between commands, and what Shutdown's Wake needs of it: whether the
// session waits now, and whether it was woken. Once woken, every read
// deadline it sets is in the past, so a Wake that comes while the
// session is setting its own deadline (for the next line, for a TLS
// handshake) cannot be lost. A session's Wake and Close call the
// Waker's; its line reader takes the Waker as its deadline setter and
// its buffered writer writes to it. Make one with NewWaker.
type Waker struct {
	writeTimeout time.Duration

	mu      sync.Mutex
	conn    net.Conn
	waiting bool
	woken   bool
}

// NewWaker returns the Waker of nc, whose every Write must be out
// within writeTimeout (in Timeout's form: 0 is none).
func NewWaker(nc net.Conn, writeTimeout time.Duration) *Waker {
	return &Waker{conn: nc, writeTimeout: writeTimeout}
}

// Conn returns the connection: nc, or the last SetConn gave.
func (w *Waker) Conn() net.Conn {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.conn
}

// SetConn replaces the connection after a TLS upgrade: writes,
// deadlines and Close go to nc from then on.
func (w *Waker) SetConn(nc net.Conn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.conn = nc
}

// SetWaiting marks the session as waiting for its peer (a Wake then
// ends the wait) or not (a Wake lets the work in progress finish).
func (w *Waker) SetWaiting(waiting bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.waiting = waiting
}

// Wake ends the session's wait, if it is waiting: its read deadline
// moves into the past, and stays there.
func (w *Waker) Wake() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.waiting {
		w.woken = true
		w.conn.SetReadDeadline(past)
	}
}

// Woken reports whether a Wake ended a wait.
func (w *Waker) Woken() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.woken
}

// Close closes the connection at once.
func (w *Waker) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.conn.Close()
}

// past is a deadline already over.
var past = time.Unix(1, 0)

// SetReadDeadline sets the connection's read deadline, or one in the
// past once woken. It makes a Waker a wire.Reader's Conn.
func (w *Waker) SetReadDeadline(t time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.woken {
		t = past
	}
	return w.conn.SetReadDeadline(t)
}

// SetDeadline sets both deadlines (as for a TLS handshake); the read
// one is in the past once woken.
func (w *Waker) SetDeadline(t time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.conn.SetWriteDeadline(t); err != nil {
		return err
	}
	if w.woken {
		t = past
	}
	return w.conn.SetReadDeadline(t)
}

// Write writes p to the connection, within the write timeout.
func (w *Waker) Write(p []byte) (int, error) {
	nc := w.Conn()
	nc.SetWriteDeadline(Deadline(w.writeTimeout))
	return nc.Write(p)
}

// OrDefault is the house rule for a count or size field: v, or the
// package's default d when v is zero or negative.
func OrDefault[T int | int64](v, d T) T {
	if v <= 0 {
		return d
	}
	return v
}

// WireTimeout turns a Duration field into internal/wire's form, where
// 0 is wire's own default: the package's default d for 0, negative for
// none (as Timeout reads the field).
func WireTimeout(v, d time.Duration) time.Duration {
	if t := Timeout(v, d); t > 0 {
		return t
	}
	return -1
}
