package chaos

import (
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Faults is every service's rule and what applies them. Its methods are
// safe for concurrent use. Make one with New.
type Faults struct {
	log   *slog.Logger
	count func(service, kind string)
	// Rand returns a number in [0, 1) for each chance taken; tests
	// replace it before use.
	Rand func() float64
	// clock waits for latency and bandwidth; tests replace it.
	clock clock

	mu       sync.Mutex
	services map[string]*Service
}

// New returns Faults with no rule, which log each injected fault to
// log and call count(service, kind) for it (count may be nil).
func New(log *slog.Logger, count func(service, kind string)) *Faults {
	if log == nil {
		log = slog.Default()
	}
	if count == nil {
		count = func(string, string) {}
	}
	return &Faults{log: log, count: count, Rand: rand.Float64, clock: realClock{},
		services: map[string]*Service{}}
}

// Service returns the named service's state, made on first use: what a
// listener and a protocol server of that service hold on to.
func (f *Faults) Service(name string) *Service {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.services[name]
	if !ok {
		s = &Service{name: name, f: f}
		f.services[name] = s
	}
	return s
}

// Set makes r the named service's rule, at once, after checking it.
// An inactive rule clears the service's.
func (f *Faults) Set(name string, r Rule) error {
	if err := r.Validate(); err != nil {
		return err
	}
	r.Steps = slices.Clone(r.Steps) // the caller's slice stays the caller's
	s := f.Service(name)
	if !r.Active() {
		s.rule.Store(nil)
	} else {
		s.rule.Store(&r)
	}
	f.log.Info("chaos: rule set", "service", name, "active", r.Active())
	return nil
}

// Clear removes the named service's rule, at once.
func (f *Faults) Clear(name string) {
	s := f.Service(name)
	if s.rule.Swap(nil) != nil {
		f.log.Info("chaos: rule cleared", "service", name)
	}
}

// Rules returns the active rules by service.
func (f *Faults) Rules() map[string]Rule {
	f.mu.Lock()
	services := maps.Clone(f.services)
	f.mu.Unlock()
	out := map[string]Rule{}
	for name, s := range services {
		if r := s.rule.Load(); r != nil {
			out[name] = *r
		}
	}
	return out
}

// Service is one service's faults.
type Service struct {
	name string
	f    *Faults
	rule atomic.Pointer[Rule]
}

// Name is the service's name.
func (s *Service) Name() string { return s.name }

// Rule returns the service's rule now, nil when it has none.
func (s *Service) Rule() *Rule { return s.rule.Load() }

// Step returns the fault that answers step now, or nil to do the step.
// A fault that fires is logged and counted.
func (s *Service) Step(step string) *StepFault {
	r := s.rule.Load()
	if r == nil {
		return nil
	}
	for i := range r.Steps {
		sf := &r.Steps[i]
		if sf.Step != step && sf.Step != "*" {
			continue
		}
		if !s.take(sf.chance()) {
			return nil
		}
		s.injected(KindStep, "step", step, "code", sf.Code)
		return sf
	}
	return nil
}

// FailHandshake reports whether a TLS handshake is to be refused now,
// logging and counting it if so.
func (s *Service) FailHandshake() bool {
	r := s.rule.Load()
	if r == nil || !s.take(r.TLSFailure) {
		return false
	}
	s.injected(KindTLS, "step", "tls")
	return true
}

// take reports whether a chance of p comes up: never for 0, always for 1.
func (s *Service) take(p float64) bool {
	switch {
	case p <= 0:
		return false
	case p >= 1:
		return true
	}
	return s.f.Rand() < p
}

func (s *Service) injected(kind string, attrs ...any) {
	s.f.count(s.name, kind)
	s.f.log.Warn("chaos: fault injected", append([]any{"service", s.name, "kind", kind}, attrs...)...)
}

// StepError is a step fault as an error, for code that passes it
// through an error path.
type StepError struct{ Fault *StepFault }

func (e *StepError) Error() string {
	return fmt.Sprintf("chaos: step %s answered %s %s", e.Fault.Step, e.Fault.Code, e.Fault.Text())
}

// clock is time for the connection faults: now, and a wait that ends
// early, returning false, when done is closed.
type clock interface {
	now() time.Time
	wait(d time.Duration, done <-chan struct{}) bool
}

type realClock struct{}

func (realClock) now() time.Time { return time.Now() }

func (realClock) wait(d time.Duration, done <-chan struct{}) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}
