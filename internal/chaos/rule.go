// Package chaos is plumb's fault injection: per service, a Rule of
// connection faults (latency per reply and per byte, a bandwidth cap,
// connections dropped mid-reply, TLS handshakes refused) and step
// faults (a protocol step answered with a chosen error instead of being
// done), and the runtime state that applies them.
//
// Rules are swapped atomically: every read, write and step looks at the
// service's current rule, so setting one takes effect at once on open
// connections too, and clearing it undoes it at once. Each fault
// injected is logged and counted by kind through the Faults' hooks.
package chaos

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Limits on a rule, so that a mistyped one cannot hang a service for
// hours or take a service's memory.
const (
	MaxLatency        = 5 * time.Minute
	MaxLatencyPerByte = time.Second
	MaxSteps          = 64
	MaxMessageLength  = 400
	MaxCodeLength     = 32
)

// Fault kinds, the values of the kind label of the faults counter.
const (
	KindLatency   = "latency"
	KindBandwidth = "bandwidth"
	KindDrop      = "drop"
	KindTLS       = "tls"
	KindStep      = "step"
)

// A Rule is the faults of one service. The zero Rule injects nothing.
type Rule struct {
	// Latency is waited before each write to the client (each reply,
	// each chunk of a transfer).
	Latency Duration `json:"latency,omitzero" toml:"latency,omitempty" comment:"waited before each reply or chunk written, e.g. \"250ms\""`
	// LatencyPerByte is waited for each byte written.
	LatencyPerByte Duration `json:"latency_per_byte,omitzero" toml:"latency_per_byte,omitempty" comment:"waited per byte written, e.g. \"10us\""`
	// Bandwidth caps each connection's reading and writing, each way,
	// in bytes per second; 0 is no cap.
	Bandwidth int64 `json:"bandwidth,omitempty" toml:"bandwidth,omitempty" comment:"bytes per second each way on each connection; 0 is no cap"`
	// DropAfterBytes closes a connection once this many bytes have
	// been written to it, in the middle of the reply that crosses the
	// mark; 0 is never.
	DropAfterBytes int64 `json:"drop_after_bytes,omitempty" toml:"drop_after_bytes,omitempty" comment:"close a connection after this many bytes written, mid-reply; 0 is never"`
	// DropProbability is the chance that a write sends half its bytes
	// and the connection is closed.
	DropProbability float64 `json:"drop_probability,omitempty" toml:"drop_probability,omitempty" comment:"chance (0 to 1) that a write is cut in half and the connection closed"`
	// TLSFailure is the chance that a TLS handshake (implicit TLS,
	// STARTTLS, an FTP data connection's) is refused.
	TLSFailure float64 `json:"tls_failure,omitempty" toml:"tls_failure,omitempty" comment:"chance (0 to 1) that a TLS handshake is refused"`
	// Steps are the step faults, the first that matches a step wins.
	Steps []StepFault `json:"steps,omitempty" toml:"steps,omitempty"`
}

// A StepFault answers a protocol step with an error instead of doing it.
type StepFault struct {
	// Step names the step, as the protocol's doc lists them ("rcpt",
	// "data", "login", "fetch", "stor", "post"), or "*" for every step.
	Step string `json:"step" toml:"step"`
	// Code is the reply: a number for SMTP, FTP and NNTP ("451"), a
	// response code for POP3 ("SYS/TEMP", or "" for none), "NO" or
	// "BAD" for IMAP, optionally with a response code ("NO UNAVAILABLE").
	Code string `json:"code" toml:"code"`
	// Message is the reply's text; empty gives "injected fault".
	Message string `json:"message,omitempty" toml:"message,omitempty"`
	// Probability is the chance, 0 to 1, that the fault fires at a
	// matching step; absent means 1, always.
	Probability *float64 `json:"probability,omitempty" toml:"probability,omitempty"`
}

// Text is the fault's message, or the default one.
func (f *StepFault) Text() string {
	if f.Message == "" {
		return "injected fault"
	}
	return f.Message
}

// chance is the fault's probability, 1 when not given.
func (f *StepFault) chance() float64 {
	if f.Probability == nil {
		return 1
	}
	return *f.Probability
}

// Active reports whether r injects anything.
func (r *Rule) Active() bool {
	return r != nil && (r.Latency.Duration > 0 || r.LatencyPerByte.Duration > 0 || r.Bandwidth > 0 ||
		r.DropAfterBytes > 0 || r.DropProbability > 0 || r.TLSFailure > 0 || len(r.Steps) > 0)
}

// conn reports whether r has connection faults, which a write or a
// read must pay for.
func (r *Rule) conn() bool {
	return r != nil && (r.Latency.Duration > 0 || r.LatencyPerByte.Duration > 0 || r.Bandwidth > 0 ||
		r.DropAfterBytes > 0 || r.DropProbability > 0)
}

// Validate checks r's values; the error, an *InvalidRuleError, names
// the field.
func (r *Rule) Validate() error {
	if err := r.validate(); err != nil {
		return &InvalidRuleError{err}
	}
	return nil
}

// InvalidRuleError is a rule refused by its checks.
type InvalidRuleError struct{ Err error }

func (e *InvalidRuleError) Error() string { return e.Err.Error() }
func (e *InvalidRuleError) Unwrap() error { return e.Err }

// InvalidRule marks the error as the rule's fault, not the server's.
func (e *InvalidRuleError) InvalidRule() bool { return true }

func (r *Rule) validate() error {
	switch {
	case r.Latency.Duration < 0 || r.Latency.Duration > MaxLatency:
		return fmt.Errorf("latency %s: want 0 to %s", r.Latency, MaxLatency)
	case r.LatencyPerByte.Duration < 0 || r.LatencyPerByte.Duration > MaxLatencyPerByte:
		return fmt.Errorf("latency_per_byte %s: want 0 to %s", r.LatencyPerByte, MaxLatencyPerByte)
	case r.Bandwidth < 0:
		return fmt.Errorf("bandwidth %d: cannot be negative", r.Bandwidth)
	case r.DropAfterBytes < 0:
		return fmt.Errorf("drop_after_bytes %d: cannot be negative", r.DropAfterBytes)
	case !isChance(r.DropProbability):
		return fmt.Errorf("drop_probability %v: want 0 to 1", r.DropProbability)
	case !isChance(r.TLSFailure):
		return fmt.Errorf("tls_failure %v: want 0 to 1", r.TLSFailure)
	case len(r.Steps) > MaxSteps:
		return fmt.Errorf("steps: %d of them, at most %d", len(r.Steps), MaxSteps)
	}
	for i, s := range r.Steps {
		if err := s.validate(); err != nil {
			return fmt.Errorf("steps[%d]: %w", i, err)
		}
	}
	return nil
}

func (f *StepFault) validate() error {
	switch {
	case f.Step == "" || len(f.Step) > 32 || strings.ContainsFunc(f.Step, notWord):
		return fmt.Errorf("step %q: want a step name such as \"rcpt\", or \"*\"", f.Step)
	case len(f.Code) > MaxCodeLength || strings.ContainsFunc(f.Code, notPrintable):
		return fmt.Errorf("code %q: want a short printable code such as \"451\"", f.Code)
	case len(f.Message) > MaxMessageLength || strings.ContainsFunc(f.Message, notPrintable):
		return fmt.Errorf("message: at most %d printable characters on one line", MaxMessageLength)
	case !isChance(f.chance()):
		return fmt.Errorf("probability %v: want 0 to 1", f.chance())
	}
	return nil
}

func isChance(p float64) bool { return p >= 0 && p <= 1 }

func notWord(r rune) bool {
	return r != '*' && r != '-' && r != '_' && (r < 'a' || r > 'z') && (r < '0' || r > '9')
}

func notPrintable(r rune) bool { return r < ' ' || r == 0x7f }

// Duration is a time.Duration written as "250ms" in JSON and TOML.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("bad duration %q (want e.g. \"250ms\", \"2s\")", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration the way UnmarshalText reads it.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }

// ErrDropped is the error of a write the chaos cut short.
var ErrDropped = errors.New("chaos: connection dropped by an injected fault")

// ErrTLSRefused is the error a refused TLS handshake gets.
var ErrTLSRefused = errors.New("chaos: TLS handshake refused by an injected fault")
