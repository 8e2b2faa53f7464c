package daemon

import (
	"context"
	_ "embed"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plumbnet/plumb/ftp"
	"github.com/plumbnet/plumb/imap"
	"github.com/plumbnet/plumb/internal/chaos"
	"github.com/plumbnet/plumb/internal/webadmin"
	"github.com/plumbnet/plumb/nntp"
	"github.com/plumbnet/plumb/pop3"
	"github.com/plumbnet/plumb/smtp"
)

// ChaosConfig is the [chaos] section: one [chaos.<service>] table per
// service with faults injected from the start (docs/CHAOS.md). It is
// empty by default; the admin API changes it at run time.
type ChaosConfig map[string]chaos.Rule

const chaosSection section[ChaosConfig] = "chaos"

//go:embed defaults/chaos.toml
var chaosDefaults string

func init() {
	// The last rank: its builder runs after every protocol's, when each
	// service's kind of reply codes is known.
	register(chaosSection, protocol{rank: 1 << 20, defaults: chaosDefaults, build: buildChaos,
		comment: "fault injection, per service: [chaos.smtp], [chaos.ftp], ... (docs/CHAOS.md); none by default"})
}

func (c *ChaosConfig) check(*Config) error {
	for _, name := range slices.Sorted(maps.Keys(*c)) {
		r := (*c)[name]
		if name == "" || strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r == '.' }) {
			return fmt.Errorf("chaos.%s: not a service name", name)
		}
		if err := r.Validate(); err != nil {
			return fmt.Errorf("chaos.%s: %w", name, err)
		}
	}
	return nil
}

// buildChaos sets the configured rules; it runs after every protocol's
// builder, so a step fault's code is checked against its service's
// protocol.
func buildChaos(d *Daemon) ([]Service, error) {
	cfg := chaosSection.of(d.Config())
	for _, name := range slices.Sorted(maps.Keys(*cfg)) {
		if err := d.setFaultRule(name, (*cfg)[name]); err != nil {
			return nil, fmt.Errorf("[chaos.%s] %w", name, err)
		}
	}
	return nil, nil
}

// newFaults makes the daemon's fault injection, counted in
// plumb_faults_injected_total{service,kind}.
func newFaults(d *Daemon) *chaos.Faults {
	injected := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "plumb_faults_injected_total", Help: "Faults injected by chaos rules, by service and kind.",
	}, []string{"service", "kind"})
	d.metrics.reg.MustRegister(injected)
	return chaos.New(d.log, func(service, kind string) { injected.WithLabelValues(service, kind).Inc() })
}

// codeCheck checks a step fault's code for one protocol.
type codeCheck func(code string) error

// attachFaults gives each stream server that asks for steps the
// faults of its service, and remembers every service built, with the
// codes its protocol takes (nil for none).
// It runs once the protocols have built their services.
func (d *Daemon) attachFaults(services []Service) {
	for _, s := range services {
		fs := d.faults.Service(s.Name)
		var check codeCheck
		switch srv := s.Stream.(type) {
		case *smtp.Server:
			srv.Faults, check = smtpFaults{fs}, numericCode
		case *pop3.Server:
			srv.Faults, check = pop3Faults{fs}, anyCode
		case *imap.Server:
			srv.Faults, check = imapFaults{fs}, imapCode
		case *ftp.Server:
			srv.Faults, check = ftpFaults{fs}, numericCode
		case *nntp.Server:
			srv.Faults, check = nntpFaults{fs}, numericCode
		}
		d.faultCodes[s.Name] = check // nil: a service without steps
	}
}

// setFaultRule checks r's step codes against the service's protocol and
// makes it the service's rule.
func (d *Daemon) setFaultRule(name string, r chaos.Rule) error {
	// A service not built (not enabled) keeps its rule unchecked; it
	// does nothing, and the API only sets rules on running services.
	if check, built := d.faultCodes[name]; built && len(r.Steps) > 0 {
		if check == nil {
			return &chaos.InvalidRuleError{Err: fmt.Errorf("service %s has no steps to fault (only smtp, pop3, imap, ftp and nntp services do); use the connection faults", name)}
		}
		for i, s := range r.Steps {
			if err := check(s.Code); err != nil {
				return &chaos.InvalidRuleError{Err: fmt.Errorf("steps[%d]: code %q: %w", i, s.Code, err)}
			}
		}
	}
	return d.faults.Set(name, r)
}

func numericCode(code string) error {
	if n, err := strconv.Atoi(code); err != nil || n < 400 || n > 599 {
		return fmt.Errorf("want a reply code from 400 to 599")
	}
	return nil
}

func anyCode(code string) error {
	if strings.ContainsAny(code, " []") {
		return fmt.Errorf("want a response code such as SYS/TEMP, without brackets or spaces, or none")
	}
	return nil
}

func imapCode(code string) error {
	typ, rc, _ := strings.Cut(code, " ")
	if typ != "NO" && typ != "BAD" || strings.ContainsAny(rc, " []") {
		return fmt.Errorf(`want NO or BAD, optionally with a response code: "NO", "NO UNAVAILABLE"`)
	}
	return nil
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

type smtpFaults struct{ s *chaos.Service }

func (f smtpFaults) Fault(_ context.Context, step string) *smtp.Error {
	if sf := f.s.Step(step); sf != nil {
		return &smtp.Error{Code: atoi(sf.Code), Msg: sf.Text()}
	}
	return nil
}

type pop3Faults struct{ s *chaos.Service }

func (f pop3Faults) Fault(_ context.Context, step string) *pop3.Error {
	if sf := f.s.Step(step); sf != nil {
		return &pop3.Error{Code: sf.Code, Msg: sf.Text()}
	}
	return nil
}

type imapFaults struct{ s *chaos.Service }

func (f imapFaults) Fault(_ context.Context, step string) *imap.Error {
	if sf := f.s.Step(step); sf != nil {
		typ, code, _ := strings.Cut(sf.Code, " ")
		return &imap.Error{Type: typ, Code: code, Text: sf.Text()}
	}
	return nil
}

type ftpFaults struct{ s *chaos.Service }

func (f ftpFaults) Fault(_ context.Context, step string) *ftp.Error {
	if sf := f.s.Step(step); sf != nil {
		return &ftp.Error{Code: atoi(sf.Code), Msg: sf.Text()}
	}
	return nil
}

type nntpFaults struct{ s *chaos.Service }

func (f nntpFaults) Fault(_ context.Context, step string) *nntp.Error {
	if sf := f.s.Step(step); sf != nil {
		return &nntp.Error{Code: atoi(sf.Code), Msg: sf.Text()}
	}
	return nil
}

// FaultControl is the daemon's fault injection for the admin API.
func (d *Daemon) FaultControl() webadmin.FaultControl { return faultControl{d} }

type faultControl struct{ d *Daemon }

var _ webadmin.FaultControl = faultControl{}

// Services lists the running TCP services: faults apply to streams.
func (fc faultControl) Services(context.Context) ([]string, error) {
	names := []string{}
	for _, r := range fc.d.running {
		if r.Net == "tcp" {
			names = append(names, r.Name)
		}
	}
	return names, nil
}

func (fc faultControl) known(name string) error {
	names, _ := fc.Services(context.Background())
	if !slices.Contains(names, name) {
		return fmt.Errorf("chaos: %q: %w", name, webadmin.ErrUnknownService)
	}
	return nil
}

func (fc faultControl) Rules(context.Context) (map[string]webadmin.FaultRule, error) {
	return fc.d.faults.Rules(), nil
}

func (fc faultControl) Rule(_ context.Context, name string) (webadmin.FaultRule, error) {
	if err := fc.known(name); err != nil {
		return webadmin.FaultRule{}, err
	}
	if r := fc.d.faults.Service(name).Rule(); r != nil {
		return *r, nil
	}
	return webadmin.FaultRule{}, nil
}

func (fc faultControl) SetRule(_ context.Context, name string, r webadmin.FaultRule) error {
	if err := fc.known(name); err != nil {
		return err
	}
	return fc.d.setFaultRule(name, r)
}

func (fc faultControl) ClearRule(_ context.Context, name string) error {
	if name == "" {
		for n := range fc.d.faults.Rules() {
			fc.d.faults.Clear(n)
		}
		return nil
	}
	if err := fc.known(name); err != nil {
		return err
	}
	fc.d.faults.Clear(name)
	return nil
}
