package testkit

import (
	"context"
	"errors"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// A Gate holds one backend call of a protocol's test server until the
// test opens it, so that Conformance can shut a server down while a
// session is busy. The backend calls Wait inside the call it makes slow
// (a RETR, a DATA, a chargen write); a nil *Gate never waits.
type Gate struct {
	entered chan struct{}
	open    chan struct{}
	once    sync.Once
}

// NewGate returns a closed gate.
func NewGate() *Gate {
	return &Gate{entered: make(chan struct{}, 64), open: make(chan struct{})}
}

// Wait tells the test a call has entered and blocks until Open or ctx is done.
func (g *Gate) Wait(ctx context.Context) error {
	if g == nil {
		return nil
	}
	select {
	case g.entered <- struct{}{}:
	default:
	}
	select {
	case <-g.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Open lets every waiting and later call through.
func (g *Gate) Open() { g.once.Do(func() { close(g.open) }) }

// A Target is what Conformance needs of one protocol's server.
type Target struct {
	// New returns a fresh server whose backend waits at gate in the call
	// Busy makes.
	New func(t *testing.T, gate *Gate) StreamServer
	// Greet reads what the server says first on a new connection, so that
	// the session is then waiting for a command; nil when the server says
	// nothing first.
	Greet func(t *testing.T, c *Transcript)
	// Busy, for a protocol with commands, sends on a greeted connection a
	// command whose backend call waits at the gate. Finish reads that
	// command's reply once the gate is open and fails unless it succeeded.
	// Both nil skip the busy-session cases.
	Busy   func(t *testing.T, c *Transcript)
	Finish func(t *testing.T, c *Transcript)
}

// Conformance checks the lifecycle every stream server shares (see
// internal/lifecycle): Serve, idle and busy sessions, Shutdown with and
// without a deadline, Close, Serve after Shutdown, listeners of any type,
// Accept errors retried, and no goroutine left behind. Call it from a
// test that is not parallel.
func Conformance(t *testing.T, tg Target) {
	ignore := goleak.IgnoreCurrent()
	t.Run("ServeAfterShutdown", func(t *testing.T) {
		srv := tg.New(t, nil)
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Fatalf("Shutdown on a new server = %v, want nil", err)
		}
		ln := Listen(t)
		if err := srv.Serve(ln); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Serve after Shutdown = %v, want an error matching net.ErrClosed", err)
		}
		if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
			c.Close()
			t.Fatalf("Serve after Shutdown left its listener open")
		}
	})
	t.Run("IdleSessionsEnd", func(t *testing.T) {
		srv, addr, served := start(t, tg, nil)
		a, b := greet(t, tg, addr), greet(t, tg, addr)
		shutdown(t, srv, 5*time.Second, nil)
		for _, c := range []*Transcript{a, b} {
			if !c.Closed(2 * time.Second) {
				t.Fatalf("idle session still open after Shutdown")
			}
		}
		waitServe(t, served)
	})
	t.Run("AnyListener", func(t *testing.T) {
		srv := tg.New(t, nil)
		ln := flakyListener{Listener: Listen(t), fails: &failures{errs: []error{syscall.EMFILE, syscall.ECONNABORTED}}}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ln) }()
		greet(t, tg, ln.Addr().String())
		shutdown(t, srv, 5*time.Second, nil)
		waitServe(t, served)
	})
	if tg.Busy != nil {
		t.Run("BusySessionFinishes", func(t *testing.T) {
			gate := NewGate()
			defer gate.Open()
			srv, addr, served := start(t, tg, gate)
			c := busy(t, tg, addr, gate)
			idle := greet(t, tg, addr)
			result := make(chan error, 1)
			go func() { result <- srv.Shutdown(context.Background()) }()
			if !idle.Closed(2 * time.Second) {
				t.Fatalf("idle session beside a busy one still open after Shutdown")
			}
			select {
			case err := <-result:
				t.Fatalf("Shutdown = %v with a session busy, want it to wait", err)
			case <-time.After(100 * time.Millisecond):
			}
			gate.Open()
			tg.Finish(t, c)
			if err := <-result; err != nil {
				t.Fatalf("Shutdown = %v, want nil once the busy session finished", err)
			}
			if !c.Closed(2 * time.Second) {
				t.Fatalf("busy session still open after its command and Shutdown")
			}
			waitServe(t, served)
		})
		t.Run("ShutdownDeadline", func(t *testing.T) {
			gate := NewGate()
			defer gate.Open()
			srv, addr, served := start(t, tg, gate)
			c := busy(t, tg, addr, gate)
			shutdown(t, srv, 200*time.Millisecond, context.DeadlineExceeded)
			if !c.Closed(2 * time.Second) {
				t.Fatalf("busy session still open after Shutdown's deadline")
			}
			waitServe(t, served)
		})
		t.Run("Close", func(t *testing.T) {
			gate := NewGate()
			srv, addr, served := start(t, tg, gate)
			c, idle := busy(t, tg, addr, gate), greet(t, tg, addr)
			if err := srv.Close(); err != nil {
				t.Fatalf("Close = %v", err)
			}
			for _, s := range []*Transcript{c, idle} {
				if !s.Closed(2 * time.Second) {
					t.Fatalf("session still open after Close")
				}
			}
			waitServe(t, served)
			gate.Open()
		})
	}
	goleak.VerifyNone(t, ignore)
}

func start(t *testing.T, tg Target, gate *Gate) (StreamServer, string, chan error) {
	t.Helper()
	srv := tg.New(t, gate)
	ln := Listen(t)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return srv, ln.Addr().String(), served
}

func greet(t *testing.T, tg Target, addr string) *Transcript {
	t.Helper()
	c := Dial(t, addr)
	if tg.Greet != nil {
		tg.Greet(t, c)
	}
	return c
}

func busy(t *testing.T, tg Target, addr string, gate *Gate) *Transcript {
	t.Helper()
	c := greet(t, tg, addr)
	tg.Busy(t, c)
	select {
	case <-gate.entered:
	case <-time.After(5 * time.Second):
		t.Fatalf("Busy's command never reached the backend's gate")
	}
	return c
}

func shutdown(t *testing.T, srv StreamServer, d time.Duration, want error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	err := srv.Shutdown(ctx)
	if !errors.Is(err, want) || (want == nil && err != nil) {
		t.Fatalf("Shutdown = %v, want %v", err, want)
	}
	if el := time.Since(start); el > d+2*time.Second {
		t.Fatalf("Shutdown took %v, want at most %v", el, d)
	}
}

func waitServe(t *testing.T, served chan error) {
	t.Helper()
	select {
	case err := <-served:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Serve = %v, want an error matching net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("Serve did not return after Shutdown")
	}
}

// flakyListener fails its first Accepts, and is a value that is not
// comparable (it has a slice field), as a listener may be.
type flakyListener struct {
	net.Listener
	fails *failures
	_     []byte
}

type failures struct {
	mu   sync.Mutex
	errs []error
}

func (l flakyListener) Accept() (net.Conn, error) {
	l.fails.mu.Lock()
	if len(l.fails.errs) > 0 {
		err := l.fails.errs[0]
		l.fails.errs = l.fails.errs[1:]
		l.fails.mu.Unlock()
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: err}
	}
	l.fails.mu.Unlock()
	return l.Listener.Accept()
}
